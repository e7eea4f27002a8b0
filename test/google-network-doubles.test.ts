/**
 * The doubles the in-cluster tests put on Google's side and at the registry's door answer as their
 * real counterparts do, checked here without a cluster: the DNS double's wire format (RFC 1035) and
 * the Artifact Registry front's decision.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { promises as dns } from "node:dns";
import { describe, it } from "node:test";
import { startDnsDouble } from "./support/dns-double";
import { decide, repositoryOf } from "./support/registry-front";

describe("the DNS double", () => {
    it("answers A for its names, empty NOERROR for AAAA, and NXDOMAIN for every other name, as a resolver reads them", async () => {
        const socket = dgram.createSocket("udp4");
        await new Promise<void>((done) => socket.bind(0, "127.0.0.1", done));
        const double = startDnsDouble(socket, { "sts.googleapis.com": "10.215.0.10" });
        try {
            const resolver = new dns.Resolver({ timeout: 2_000, tries: 1 });
            resolver.setServers([`127.0.0.1:${socket.address().port}`]);
            assert.deepEqual(await resolver.resolve4("sts.googleapis.com"), ["10.215.0.10"]);
            assert.deepEqual(await resolver.resolve4("STS.googleapis.com"), ["10.215.0.10"]);
            await assert.rejects(resolver.resolve6("sts.googleapis.com"), { code: "ENODATA" });
            await assert.rejects(resolver.resolve4("storage.googleapis.com"), { code: "ENOTFOUND" });
            await assert.rejects(resolver.resolve4("sts.googleapis.com.default.svc.cluster.local"), {
                code: "ENOTFOUND",
            });
            assert.deepEqual(
                double.questions.map((q) => q.outcome),
                ["answered", "answered", "nodata", "nxdomain", "nxdomain"],
            );
        } finally {
            double.close();
        }
    });
});

describe("the Artifact Registry front double", () => {
    const live = "ya29.double-live";
    const options = { publicRepositories: ["public/token-refresher"], isLiveToken: (t: string) => t === live };
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

    it("names the repository of a distribution API path", () => {
        assert.equal(repositoryOf("/v2/e2e/tiny/manifests/1"), "e2e/tiny");
        assert.equal(repositoryOf("/v2/public/token-refresher/blobs/sha256:ab"), "public/token-refresher");
        assert.equal(repositoryOf("/v2/"), "");
    });

    it("lets a public repository be read by anyone, and others only with oauth2accesstoken and a live token", () => {
        assert.deepEqual(decide(undefined, "public/token-refresher", options), { allowed: true, why: "public" });
        assert.equal(decide(undefined, "e2e/tiny", options).allowed, false);
        assert.equal(decide(basic("oauth2accesstoken", live), "e2e/tiny", options).allowed, true);
        assert.equal(decide(basic("oauth2accesstoken", "ya29.double-expired"), "e2e/tiny", options).allowed, false);
        assert.equal(decide(basic("_json_key", live), "e2e/tiny", options).allowed, false);
        assert.equal(decide(`Bearer ${live}`, "e2e/tiny", options).allowed, false);
    });
});
