/**
 * The fault campaign's share through the REAL CLI, a slice of it in CI (test/support/cli-campaign.ts;
 * `npm run campaign` runs 50 schedules and more): generated schedules of `pulumi up`, `refresh` and
 * `destroy` on a user's TypeScript project, some interrupted by Ctrl-C or a kill of the whole process
 * group at a random moment, with other owners and tenants writing the same ServiceAccounts and Secrets
 * in between; after each schedule the user's recovery and the invariants. A failure prints the seed
 * and the schedule fast-check shrank it to (`CAMPAIGN_SEED=<seed>` runs it again).
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { runCliCampaign, runOneSchedule } from "../support/cli-campaign";
import { installTypeScriptProject, type TypeScriptProject } from "../support/engine-project";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";

let cluster: RealCluster;
let core: CoreV1Api;
let project: TypeScriptProject;

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    project = installTypeScriptProject();
});
after(async () => {
    await cluster?.stop();
    project?.remove();
});

it("3 generated schedules through the real CLI, interrupted runs and hostile writers among them, lose no other owner's entry or Secret and leave ours exactly once after up and nowhere after destroy", async () => {
    const seed = process.env.CAMPAIGN_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.CAMPAIGN_SEED);
    console.log(`CLI campaign seed ${seed}`);
    const report = await runCliCampaign(cluster, core, project, { runs: 3, seed, log: console.log });
    console.log(JSON.stringify(report));
});

// Found by the campaign (seed 20261208, shrunk to these steps): a tenant rewrote our Secret's credential
// as another field manager (`kubectl edit`); without `pulumi.com/patchForce` on our own Secrets the
// recovery's `up` failed with a server-side apply conflict on .data..dockerconfigjson, every time.
it("a tenant's rewrite of our Secret's credential (another field manager) is put back by refresh and up, forced on our own Secret", async () => {
    await runOneSchedule(cluster, core, project, 1000, [
        { kind: "up", namespaces: ["c"] },
        { kind: "editSecret", slot: "c" },
        { kind: "politeAdd", slot: "a", name: "theirs-1" },
    ]);
});

// The window between the cluster's write and the state's, forced: the proxy holds the answer to the
// Secret's create until the whole process group is killed, so the Secret exists and the state has only
// a pending create. The user's next `up` and the campaign's recovery must take it back as ours.
it("an up killed the moment the API server wrote our Secret, before the answer reached the provider: the next up and the recovery take that Secret back as ours", async () => {
    const report = await runOneSchedule(cluster, core, project, 1001, [
        { kind: "up", namespaces: ["a"], interrupt: { signal: "SIGKILL", onSecretWritten: true } },
        { kind: "up", namespaces: ["a", "b"] },
    ]);
    assert.equal(report.events["interrupted by SIGKILL"], 1, JSON.stringify(report));
});
