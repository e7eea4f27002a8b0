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

function evaluate(stack: string): string {
    return execFileSync(
        process.execPath,
        ["--import", "tsx", path.join(__dirname, "support/registered-inputs.ts"), stack],
        {
            cwd: repo,
            encoding: "utf8",
        },
    );
}

for (const stack of ["dev", "prod"]) {
    describe(`two evaluations of stack ${stack}`, () => {
        const [first, second] = [evaluate(stack), evaluate(stack)];
        const registrations = JSON.parse(first) as Registration[];

        it("register every resource with byte-identical inputs, parents and dependencies", () => {
            assert.equal(second, first);
            assert.deepEqual(JSON.parse(second), registrations);
        });

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
