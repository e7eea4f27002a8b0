/**
 * The doubles the in-cluster tests put on Google's side answer as their real counterparts do,
 * checked here without a cluster: the DNS double's wire format (RFC 1035). The Artifact Registry
 * front they pull through has its own tests (test/doubles/artifact-registry-front.test.ts).
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { promises as dns } from "node:dns";
import { describe, it } from "node:test";
import { startDnsDouble } from "../support/dns-double";

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
