import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { it } from "node:test";

// A value known only later is checked in `apply`: the resources that consume it fail to register,
// and with them the run. That is only observable as a whole run, so each case is its own process.
function runWithValueKnownLater(property: string) {
    return spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/value-known-later.ts", property], {
        encoding: "utf8",
    });
}

it("fails the run when a Secret name known only later breaks the rule, with the same message", () => {
    const run = runWithValueKnownLater("secretName");
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /secretName must be an RFC 1123 subdomain/);
});

it("fails the run when registries known only later include a scheme, with the same message", () => {
    const run = runWithValueKnownLater("registries");
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /registries\[0\] must be a host or host:port without a scheme/);
});

it("accepts values known only later that keep the rules", () => {
    const run = runWithValueKnownLater("valid");
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /all registrations answered/);
});
