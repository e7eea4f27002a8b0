/**
 * test/engine/build.sh on a machine whose Go module cache is empty, as every fresh CI machine's is:
 * each target downloads and finds every module and package it needs (`RESOLVE_ONLY=1`: `go list
 * -deps`, nothing compiled). The modules come from this machine's own module cache served as a
 * GOPROXY (`file://`: the cache keeps the proxy protocol's layout under `cache/download`), so the test
 * needs no network and takes a minute or two instead of the forty of a cold build. What it proves is
 * the cold path's logic: for example that a module not yet in the cache is downloaded before its folder
 * is asked for (`go list -m -f '{{.Dir}}'` prints an empty line for it and exits 0, which once made the
 * provider target copy from `/cmd` on every fresh machine).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { it } from "node:test";

const repo = path.join(__dirname, "..", "..");
const targets = ["k8s", "pulumi", "hosts", "provider", "yaml", "containerd", "cluster"];

const goEnv = (name: string) => spawnSync("go", ["env", name], { encoding: "utf8" }).stdout.trim();

it("every build.sh target downloads and finds its modules and packages from an empty module cache", () => {
    const warm = path.join(goEnv("GOMODCACHE"), "cache", "download");
    assert.ok(existsSync(warm), `${warm} is missing: build.sh has not run on this machine (as .ci/run does first)`);
    const empty = mkdtempSync(path.join(tmpdir(), "empty-gomodcache-"));
    const buildCache = mkdtempSync(path.join(tmpdir(), "empty-gocache-"));
    const env = {
        ...process.env,
        RESOLVE_ONLY: "1",
        GOMODCACHE: empty,
        GOCACHE: buildCache,
        GOPROXY: `file://${warm}`,
        GOSUMDB: "off",
    };
    try {
        const build = spawnSync("bash", [path.join(repo, "test", "engine", "build.sh"), ...targets], {
            env,
            encoding: "utf8",
            timeout: 1_200_000,
        });
        assert.equal(build.status, 0, `${build.stdout}\n${build.stderr}`);
        for (const target of targets) assert.match(build.stdout, new RegExp(`\\] ${target} done in \\d+ s$`, "m"));
        // The provider's schema was found in the empty cache, not taken from anywhere else.
        assert.match(build.stdout, new RegExp(`pulumi-resource-kubernetes \\S+ from \\S+, its schema from ${empty}/`));
    } finally {
        // The module cache is read-only by design; Go itself knows how to remove it.
        spawnSync("go", ["clean", "-modcache"], { env });
        rmSync(empty, { recursive: true, force: true });
        rmSync(buildCache, { recursive: true, force: true });
    }
});
