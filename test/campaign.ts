/**
 * `npm run campaign`: the long fault campaign (test/support/fault-campaign.ts) for the `PullSecretEntry`
 * provider, against the API-server double and, when test/engine/build.sh has built the binaries, a real
 * kube-apiserver, both behind the fault-injecting proxy. Prints what it ran as JSON (BENCHMARKS.md,
 * docs/testing.md). `CAMPAIGN_RUNS` (default 2000 on each) and `CAMPAIGN_SEED` (fast-check's seed, as a
 * failure prints it) change the defaults. With the binaries it then runs the share through the real
 * CLI (test/support/cli-campaign.ts): `CAMPAIGN_CLI_RUNS` schedules (default 50; 0 skips it).
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { doubleBehindProxy } from "./support/double-entry-cluster";
import { runCampaign } from "./support/fault-campaign";
import { realEntryCluster } from "./support/real-entry-cluster";
import { coreApi, startRealCluster } from "./support/real-cluster";
import { runCliCampaign } from "./support/cli-campaign";
import { installTypeScriptProject } from "./support/engine-project";

const runs = Number(process.env.CAMPAIGN_RUNS ?? 2000);
const seed = process.env.CAMPAIGN_SEED === undefined ? undefined : Number(process.env.CAMPAIGN_SEED);
const cliRuns = Number(process.env.CAMPAIGN_CLI_RUNS ?? 50);

async function timed(label: string, run: () => Promise<object>) {
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
    try {
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
        }
        if (cliRuns > 0) {
            const project = installTypeScriptProject();
            try {
                const core = await coreApi(cluster.kubeconfig);
                await timed("real CLI, kube-apiserver 1.37", () =>
                    runCliCampaign(cluster, core, project, { runs: cliRuns, seed, log: (line) => console.error(line) }),
                );
            } finally {
                project.remove();
            }
        }
    } finally {
        await cluster.stop();
    }
}

main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
});
