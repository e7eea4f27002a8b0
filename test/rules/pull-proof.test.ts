/**
 * components/rules/pull-proof.ts against registry doubles on loopback: what the readiness gate and the
 * in-cluster refresher ask before they trust a credential.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { probeHost } from "../../components/rules/pull-proof";
import { startTokenRegistryDouble } from "../support/token-registry-double";

describe("a registry with Docker's token flow", () => {
    /** Pull granted on the repositories under `granted` to `user:secret-password`. */
    const tokenRegistry = (granted: string[]) =>
        startTokenRegistryDouble({
            accepts: (username, password) => username === "user" && password === "secret-password",
            granted: (path) => granted.includes(path),
        });
    const world = { fetch };

    it("signs in at the challenge's realm and asks for pull on each repository's scope", async () => {
        const registry = await tokenRegistry(["p/images"]);
        try {
            const probe = { host: registry.host, repositories: [{ name: "l/images", path: "p/images" }] };
            assert.deepEqual(await probeHost(world, probe, "user", "secret-password"), []);
            const denied = { host: registry.host, repositories: [{ name: "l/other", path: "p/other" }] };
            assert.deepEqual(await probeHost(world, denied, "user", "secret-password"), [
                {
                    host: registry.host,
                    repository: "l/other",
                    status: 403,
                    reason: "denied: requested access to the resource is denied",
                },
            ]);
            assert.deepEqual(await probeHost(world, probe, "user", "wrong"), [
                { host: registry.host, repository: undefined, status: 401, reason: "HTTP 401" },
            ]);
        } finally {
            registry.close();
        }
    });

    it("says a host it cannot reach is unreachable", async () => {
        const closed = http.createServer();
        await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
        const host = `127.0.0.1:${(closed.address() as AddressInfo).port}`;
        await new Promise((resolve) => closed.close(resolve));
        assert.deepEqual(await probeHost(world, { host, repositories: [] }, "user", "secret-password"), [
            { host, repository: undefined, status: 0, reason: "ECONNREFUSED" },
        ]);
    });
});
