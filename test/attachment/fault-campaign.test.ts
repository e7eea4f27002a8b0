/**
 * The fault campaign (test/support/fault-campaign.ts) against the API-server double behind the
 * fault-injecting proxy: generated schedules of the engine's commands for two components, other
 * owners' polite and rude writes, forged markers, recreated accounts, a fault on most provider calls,
 * and interrupted runs; invariants after each command and after a final clean up and destroy. The
 * slice that runs against a real kube-apiserver is in test/engine/real-api-server.test.ts; the long
 * campaign is `npm run campaign`.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { runCampaign } from "../support/fault-campaign";
import { doubleBehindProxy } from "../support/double-entry-cluster";
import type { EntryCluster } from "../support/entry-cases";

let cluster: EntryCluster;
before(async () => (cluster = await doubleBehindProxy()));
after(() => cluster.close());

it("200 generated schedules of commands, faults and other writers lose no entry of anyone and leave nothing of ours after destroy", async () => {
    const report = await runCampaign(cluster, {
        runs: 200,
        timing: { appearTimeoutMs: 200, initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 6 },
    });
    assert.equal(report.schedules >= 200, true);
    for (const kind of ["status 429", "status 500", "lost answer 504", "lost answer reset", "interrupted up"]) {
        assert.ok((report.faults[kind] ?? 0) > 0, `${kind} injected: ${JSON.stringify(report.faults)}`);
    }
});
