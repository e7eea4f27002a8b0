/**
 * Every provider call of one `pulumi` command reaches the cluster through one client per connection
 * and its kept-alive TLS connections (components/cluster/cluster-connection.ts `connect`): before,
 * client-node 2.0 opened a new TCP and TLS connection for every request. Measured at a TLS front (a real
 * `https` server, the API-server double behind it) by the connections it accepts.
 */
import assert from "node:assert/strict";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, it } from "node:test";
import { connect } from "../../components/cluster/cluster-connection";
import { entryProvider, type EntryInputs } from "../../components/attachment/pull-secret-entry-provider";
import { startApiServerDouble, type ApiServerDouble } from "../support/api-server-double";
import { forwardTo } from "../support/fault-injection";
import { makeTlsIdentity } from "../support/google-network";
import { ownerIdOf } from "../../components/rules/ownership";

let double: ApiServerDouble;
let front: https.Server;
let tlsConnections = 0;
let kubeconfig: string;

before(async () => {
    double = await startApiServerDouble();
    const tls = makeTlsIdentity(["localhost"]);
    const forward = forwardTo(double.url);
    front = https.createServer(tls, (req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on(
            "end",
            () =>
                void forward(req, body).then((answer) =>
                    res
                        .writeHead(answer.status, { "content-type": answer.contentType ?? "application/json" })
                        .end(answer.body),
                ),
        );
    });
    front.on("secureConnection", () => tlsConnections++);
    await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
    const { port } = front.address() as AddressInfo;
    kubeconfig = JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            {
                name: "front",
                cluster: {
                    server: `https://localhost:${port}`,
                    "certificate-authority-data": Buffer.from(tls.ca).toString("base64"),
                },
            },
        ],
        users: [{ name: "deployer", user: { token: "deployer-token" } }],
        contexts: [{ name: "front", context: { cluster: "front", user: "deployer" } }],
        "current-context": "front",
    });
});
after(async () => {
    front.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
    await double.close();
});

it("one connection's calls share one client", async () => {
    assert.equal(await connect({ kubeconfig }), await connect({ kubeconfig }));
    assert.notEqual(
        await connect({ kubeconfig }),
        await connect({ kubeconfig: `${kubeconfig}\n` }),
        "a changed kubeconfig",
    );
});

it("20 entries created and deleted, one after another as the engine calls them, open at most 2 TLS connections", async () => {
    const provider = entryProvider(undefined, {
        appearTimeoutMs: 500,
        initialDelayMs: 5,
        maxDelayMs: 20,
        maxAttempts: 4,
    });
    const owner = ownerIdOf("urn:pulumi:dev::app::registry-pull-secret:index:RegistryPullSecret::regcred");
    const before = tlsConnections;
    for (let i = 0; i < 20; i++) {
        double.put(`kept-${i}`, "default", ["theirs"]);
        const inputs: EntryInputs = {
            namespace: `kept-${i}`,
            serviceAccount: "default",
            secretName: "regcred",
            entry: `kept-${i}/default: regcred`,
            owner,
            kubeconfig,
        };
        const { outs } = await provider.create(inputs);
        await provider.delete!("id", outs);
        assert.deepEqual(double.pullSecrets(`kept-${i}`, "default"), ["theirs"]);
    }
    // 80 requests (a GET and a PATCH for each create and each delete).
    assert.ok(tlsConnections - before <= 2, `${tlsConnections - before} TLS connections for 80 requests`);
});
