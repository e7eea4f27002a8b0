/**
 * `npm run campaign`: the long fault campaign (test/support/fault-campaign.ts) for the `PullSecretEntry`
 * provider, against the API-server double and, when test/engine/build.sh has built the binaries, a real
 * kube-apiserver, both behind the fault-injecting proxy. Prints what it ran as JSON (BENCHMARKS.md,
 * docs/testing.md). `CAMPAIGN_RUNS` (default 2000 on each) and `CAMPAIGN_SEED` (fast-check's seed, as a
 * failure prints it) change the defaults.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { doubleBehindProxy } from "./support/double-entry-cluster";
import { runCampaign, type CampaignReport } from "./support/fault-campaign";
import { realEntryCluster } from "./support/real-entry-cluster";
import { startRealCluster } from "./support/real-cluster";

const runs = Number(process.env.CAMPAIGN_RUNS ?? 2000);
const seed = process.env.CAMPAIGN_SEED === undefined ? undefined : Number(process.env.CAMPAIGN_SEED);

async function timed(label: string, run: () => Promise<CampaignReport>) {
    const started = Date.now();
    const report = await run();
    console.log(JSON.stringify({ cluster: label, ...report, seconds: Math.round((Date.now() - started) / 1000) }));
}

async function main() {
    const double = await doubleBehindProxy();
    try {
        await timed("API-server double", () =>
            runCampaign(double, {
                runs,
                seed,
                timing: { appearTimeoutMs: 200, initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 6 },
            }),
        );
    } finally {
        await double.close();
    }
    if (!existsSync(path.join(__dirname, "..", ".engine", "bin", "kube-apiserver"))) {
        console.log("no real kube-apiserver: run bash test/engine/build.sh for the real half");
        return;
    }
    const cluster = await startRealCluster();
    const real = await realEntryCluster(cluster);
    try {
        await timed("kube-apiserver 1.37", () =>
            runCampaign(real, {
                runs,
                seed,
                secretTexts: [cluster.token],
                timing: { appearTimeoutMs: 5_000, initialDelayMs: 5, maxDelayMs: 50, maxAttempts: 6 },
            }),
        );
    } finally {
        await real.close();
        await cluster.stop();
    }
}

main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
});
