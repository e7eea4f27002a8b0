/**
 * A second `pulumi up` with the same config must show no diff: nothing the program registers may
 * depend on time, randomness or map order. Each evaluation runs in its own process, as two
 * deployments would.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { describe, it } from "node:test";
import { isSecretValue, type Registration } from "../tools/recording-monitor";

const repo = path.resolve(__dirname, "..");

/** What the engine received, as JSON, without `answered` (the order of the mock engine's replies). */
function evaluate(stack: string): string {
    const printed = execFileSync(process.execPath, ["--import", "tsx", "test/fixtures/sample-program.ts", stack], {
        cwd: repo,
        encoding: "utf8",
    });
    const { registrations, outputs } = JSON.parse(printed) as { registrations: Registration[]; outputs: unknown };
    for (const registration of registrations) delete registration.answered;
    return JSON.stringify({ registrations, outputs });
}

for (const stack of ["dev", "prod", "gke", "eks", "gke-node"]) {
    describe(`two evaluations of stack ${stack}`, () => {
        const [first, second] = [evaluate(stack), evaluate(stack)];
        const { registrations } = JSON.parse(first) as { registrations: Registration[] };

        it("register every resource with byte-identical inputs, parents and dependencies, and the same outputs", () => {
            assert.equal(second, first);
            assert.deepEqual(JSON.parse(second), JSON.parse(first));
        });

        if (stack === "gke-node") return; // grants only: nothing more to compare
        if (stack === "gke" || stack === "eks") {
            it("compare the whole program, including the refresher's code, its config and the ConfigMap's digest name", () => {
                const configMap = registrations.find((r) => r.type === "kubernetes:core/v1:ConfigMap")!;
                assert.deepEqual(Object.keys(configMap.inputs.data as object).sort(), [
                    "config.json",
                    "docker-config.js",
                    "ownership.js",
                    "pull-proof.js",
                    "readiness.js",
                    "token-refresher.js",
                ]);
                assert.match((configMap.inputs.metadata as { name: string }).name, /^token-refresher-[0-9a-f]{10}$/);
                const deployment = registrations.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
                assert.match(
                    JSON.stringify(deployment.inputs.spec),
                    /"configMap":\{"items":\[[^\]]*\],"name":"token-refresher-[0-9a-f]{10}"\}/,
                );
            });
            return;
        }

        it("compare the whole program, including the Secrets' data derived from the key", () => {
            assert.ok(registrations.length >= 9, `${registrations.length} registrations`);
            const secrets = registrations.filter((r) => r.type === "kubernetes:core/v1:Secret");
            assert.ok(secrets.length >= 2);
            for (const secret of secrets) {
                assert.ok(isSecretValue(secret.inputs.data));
                assert.match(JSON.stringify(secret.inputs.data), /"\.dockerconfigjson":"[A-Za-z0-9+/=]{100,}"/);
            }
        });
    });
}
