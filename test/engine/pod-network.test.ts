/**
 * The test cluster runs ordinary pods, and every packet stays on this machine
 * (test/support/pod-cluster.ts): a pod the scheduler places on the node gets an address on the CNI
 * bridge, passes the route-check gate before it starts, reaches the API server through the
 * `kubernetes` Service (kube-proxy's nftables rules), trusts the Google doubles' TLS through its
 * image, and finds nothing else: every other name is unknown, every outside address unreachable.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, it } from "node:test";
import { routeTo } from "../support/pod-network";
import { startPodCluster, routeChecks, type PodCluster } from "../support/pod-cluster";
import { ip } from "../support/netns";
import { buildRefresherImage } from "../support/refresher-image";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

let pods: PodCluster;

before(async () => {
    pods = await startPodCluster({
        google: {
            lifetimeSeconds: 3600,
            // STS and IAM Credentials listen only when a test uses them.
            federation: { audience: "//iam.googleapis.com/e2e", acceptsSubjectToken: () => false },
            impersonate: "reader@e2e-project.iam.gserviceaccount.com",
        },
    });
    console.log("start-up, seconds:", JSON.stringify(pods.timings));
});
after(async () => {
    await pods?.stop();
});

/** What the probe pod finds; it reports through its termination message (no logs API needed). */
const probe = `
const dns = require("node:dns").promises;
const fs = require("node:fs");
const https = require("node:https");
const http = require("node:http");
const get = (url, options = {}) => new Promise((resolve) => {
    const client = url.startsWith("https:") ? https : http;
    client.get(url, { timeout: 5000, ...options }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode, body: body.slice(0, 200) }));
    }).on("error", (e) => resolve({ error: e.code || e.message })).on("timeout", function () { this.destroy(new Error("timeout")); });
});
(async () => {
    const out = { names: {} };
    for (const name of ["sts.googleapis.com", "iamcredentials.googleapis.com", "metadata.google.internal", "example.com", "storage.googleapis.com"]) {
        out.names[name] = await dns.lookup(name, { all: true }).then((a) => a.map((x) => x.address), (e) => e.code);
    }
    out.sts = await get("https://sts.googleapis.com/v1/token");
    out.metadata = await get("http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token", { headers: { "metadata-flavor": "Google" } });
    const sa = "/var/run/secrets/kubernetes.io/serviceaccount";
    out.kubernetes = await get("https://" + process.env.KUBERNETES_SERVICE_HOST + ":" + process.env.KUBERNETES_SERVICE_PORT + "/version", {
        ca: fs.readFileSync(sa + "/ca.crt"), headers: { authorization: "Bearer " + fs.readFileSync(sa + "/token", "utf8") },
    });
    out.service = process.env.KUBERNETES_SERVICE_HOST;
    out.metadata.body = out.metadata.body && JSON.parse(out.metadata.body).token_type;
    fs.writeFileSync("/dev/termination-log", JSON.stringify(out));
})();
`;

it("the node's and Google's namespaces have no route off the machine, and the machine gained only the veth's own route", () => {
    for (const netns of [pods.network.nodeNetns, pods.network.googleNetns]) {
        const result = spawnSync("nsenter", [`--net=${netns}`, "ip", "-4", "route", "get", "192.0.2.1"], {
            encoding: "utf8",
        });
        assert.notEqual(result.status, 0, result.stdout);
        assert.match(result.stderr, /unreachable/i);
    }
    const hostRoutes = JSON.parse(ip("-j", "-4", "route", "show")) as { dst: string; dev: string }[];
    const ours = hostRoutes.filter((route) => route.dev.startsWith("rps"));
    assert.deepEqual(
        ours.map((route) => route.dst),
        [`${pods.network.hostAddress.replace(/\.1$/, ".0")}/30`],
    );
});

it("Google's addresses and names route from the node to the test's Google namespace only", () => {
    for (const address of Object.values(pods.network.google)) {
        assert.equal(routeTo(pods.network.nodeNetns, address).dev, pods.network.nodeGoogleInterface, address);
    }
});

it("a scheduled pod on the bridge passes the route-check gate, reaches the API server through the kubernetes Service, trusts the doubles' TLS, and resolves nothing but Google's names", async () => {
    const namespace = "e2e-probe";
    await pods.core.createNamespace({ body: { metadata: { name: namespace } } });
    await pods.core.createNamespacedPod({
        namespace,
        body: {
            metadata: { name: "probe" },
            spec: {
                restartPolicy: "Never",
                securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
                containers: [{ name: "probe", image: pods.refresherImage, command: ["node", "-e", probe] }],
            },
        },
    });
    const deadline = Date.now() + 120_000;
    let pod;
    for (;;) {
        pod = await pods.core.readNamespacedPod({ namespace, name: "probe" });
        if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") break;
        if (Date.now() > deadline) throw new Error(`the probe pod did not finish: ${JSON.stringify(pod.status)}`);
        await new Promise((done) => setTimeout(done, 500));
    }
    assert.equal(pod.spec?.nodeName, pods.node.name, "the scheduler placed it");
    assert.match(pod.status?.podIP ?? "", /^10\.244\.0\./);
    const report = JSON.parse(pod.status?.containerStatuses?.[0]?.state?.terminated?.message ?? "{}");
    assert.equal(report.service, "10.0.0.1");
    assert.equal(report.kubernetes.status, 200, JSON.stringify(report.kubernetes));
    assert.match(report.kubernetes.body, /"gitVersion": "v1\.37\.2"/);
    assert.deepEqual(report.names, {
        "sts.googleapis.com": [pods.network.google.sts],
        "iamcredentials.googleapis.com": [pods.network.google.iamCredentials],
        "metadata.google.internal": [pods.network.google.metadata],
        "example.com": "ENOTFOUND",
        "storage.googleapis.com": "ENOTFOUND",
    });
    // TLS verified against the image's CA, answered by the STS double (a GET is not served).
    assert.equal(report.sts.status, 404, JSON.stringify(report.sts));
    assert.deepEqual(report.metadata, { status: 200, body: "Bearer" });
    const [checked] = routeChecks(pods.node, `${namespace}/probe`);
    assert.equal(checked?.passed, true, JSON.stringify(checked));
    const started = Date.parse(pod.status?.containerStatuses?.[0]?.state?.terminated?.startedAt as unknown as string);
    assert.ok(Date.parse(checked.at) <= started, "the gate ran before the container started");
});

it("the refresher image is reproducible: built again from the same inputs, it has the same digest", () => {
    const work = mkdtempSync(path.join(tmpdir(), "refresher-image-again-"));
    try {
        assert.equal(buildRefresherImage(work, path.join(work, "layout"), pods.google.ca), pods.builtDigest);
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
});
