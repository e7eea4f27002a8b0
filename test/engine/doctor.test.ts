/**
 * `registry-pull-secret doctor` (components/doctor/cli.ts) as a user runs it, a process with a
 * kubeconfig, on the REAL control plane (kube-apiserver with RBAC and ServiceAccount admission, etcd,
 * controller manager: test/support/real-cluster.ts) and a REAL node (kubelet and containerd:
 * test/support/real-node.ts), with Debian's real docker-registry (test/support/real-registry.ts) and
 * the Artifact Registry front double before it (test/support/artifact-registry-front.ts). No component
 * is installed: the Secrets and ServiceAccount entries are made as the kubectl recipe makes them.
 *
 * Each case breaks one link for real, lets the kubelet fail the pull (its `ErrImagePull` is asserted
 * first, so the case is a real failure), then runs the doctor on that pod and checks the verdict names
 * that link and the exit code; a pod that pulls gets "ok" and exit 0. A user whose Role lacks
 * `get secrets` gets exit 3 and the read named. An access token expires for real: the token refresher's
 * own program writes one from the GKE metadata server double and stops, and the front double refuses
 * the token once the double that issued it says it expired. No line of any output holds a password,
 * key or token.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { refreshedSecretProvider } from "../../components/refresher/refreshed-secret-provider";
import { startRefresher, timing } from "../../components/refresher/token-refresher";
import { dockerConfigJson } from "../../components/rules/docker-config";
import { ownershipKeys } from "../../components/rules/ownership";
import { issuedBy } from "../support/artifact-registry-front";
import { startDoctorRegistries, type DoctorRegistries } from "../support/doctor-registries";
import { startMetadataServerDouble, type TokenDouble } from "../support/google-token-doubles";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";
import { pullByKubelet, startRealNode, type RealNode } from "../support/real-node";
import type { RealRegistry } from "../support/real-registry";

const repo = path.join(__dirname, "..", "..");

let work: string;
let cluster: RealCluster;
let core: CoreV1Api;
let node: RealNode;
let registries: DoctorRegistries;
let registry: RealRegistry;
let user: DoctorRegistries["user"];
let frontHost: string;
let keyBase64: string;
let image: string;
let frontImage: string;
let deniedImage: string;
let tlsHost: string;
let kubeconfigFile: string;
/** Every output line of every doctor run, for the check that none holds secret text. */
const outputs: string[] = [];
/** The GKE metadata server double the token refresher took its access tokens from. */
let metadata: TokenDouble;
/** The namespace whose Secret the refresher wrote once before it stopped, and what it saw then. */
let stoppedRefresher: Awaited<ReturnType<typeof tokenWrittenThenRefresherStopped>>;

/** An address of this machine that is not loopback: containerd and the doctor use TLS there. */
function machineAddress(): string {
    const address = Object.values(networkInterfaces())
        .flat()
        .find((a) => a !== undefined && a.family === "IPv4" && !a.internal)?.address;
    assert.ok(address, "the machine has a non-loopback IPv4 address for the TLS registry");
    return address;
}

before(async () => {
    work = mkdtempSync(path.join(tmpdir(), "doctor-engine-"));
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    kubeconfigFile = path.join(work, "admin.kubeconfig");
    writeFileSync(kubeconfigFile, cluster.kubeconfig, { mode: 0o600 });
    registries = await startDoctorRegistries(work, machineAddress());
    ({ registry, user, frontHost, keyBase64, tlsHost } = registries);
    ({ tiny: image, front: frontImage, denied: deniedImage } = registries.images);
    node = await startRealNode(cluster);
    node.trustPlainHttp(registry.host);
    node.trustPlainHttp(frontHost);
    // Started first: its token has a minute to run out while the other cases run.
    stoppedRefresher = await tokenWrittenThenRefresherStopped();
});
after(async () => {
    await metadata?.close();
    await node?.stop();
    await cluster?.stop();
    await registries?.close();
    rmSync(work, { recursive: true, force: true });
});

/** Runs the command as a process (asynchronously: the front double answers from this one). */
function doctor(
    args: string[],
    kubeconfig = kubeconfigFile,
): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise((resolve) =>
        execFile(
            process.execPath,
            [
                "--conditions=registry-pull-secret-source",
                "--import",
                "tsx",
                "components/doctor/cli.ts",
                "doctor",
                ...args,
                "--kubeconfig",
                kubeconfig,
            ],
            { cwd: repo, encoding: "utf8", timeout: 60_000 },
            (error, stdout, stderr) => {
                outputs.push(...stdout.split("\n"), ...stderr.split("\n"));
                const code = (error as { code?: unknown } | null)?.code;
                resolve({ status: error ? (typeof code === "number" ? code : -1) : 0, stdout, stderr });
            },
        ),
    );
}

/** The doctor's JSON verdict for one pod's only image. */
async function verdictOf(
    namespace: string,
    pod: string,
): Promise<{ kind: string; evidence: string[]; fix?: string; warnings: string[]; status: number }> {
    const run = await doctor([`pod/${pod}`, "-n", namespace, "--json"]);
    assert.ok([0, 1, 3].includes(run.status), run.stderr);
    const report = JSON.parse(run.stdout) as {
        verdicts: { kind: string; evidence: string[]; fix?: string; warnings: string[] }[];
    };
    assert.equal(report.verdicts.length, 1);
    return { ...report.verdicts[0], status: run.status };
}

async function namespaceWith(
    namespace: string,
    secrets: Record<string, string> = {},
    serviceAccountList: string[] = [],
) {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (const [name, config] of Object.entries(secrets)) {
        await core.createNamespacedSecret({
            namespace,
            body: {
                metadata: { name },
                type: "kubernetes.io/dockerconfigjson",
                data: { ".dockerconfigjson": Buffer.from(config).toString("base64") },
            },
        });
    }
    // The controller manager creates `default` shortly after the namespace.
    for (let i = 0; ; i++) {
        try {
            await core.readNamespacedServiceAccount({ namespace, name: "default" });
            break;
        } catch (error) {
            if (i > 100) throw error;
            await new Promise((done) => setTimeout(done, 100));
        }
    }
    if (serviceAccountList.length > 0) await patchServiceAccount(namespace, serviceAccountList);
}

/** The kubectl recipe's patch (`kubectl patch serviceaccount default -p '{"imagePullSecrets":[...]}'`). */
async function patchServiceAccount(namespace: string, names: string[]) {
    const k8s = await import("@kubernetes/client-node");
    await core.patchNamespacedServiceAccount(
        { namespace, name: "default", body: { imagePullSecrets: names.map((name) => ({ name })) } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
    );
}

const config = (server: string, username: string, password: string) =>
    dockerConfigJson([{ server, username, password }]);

/** The kubelet's pull fails (a real ErrImagePull), then the doctor names the link. */
async function failsThenDoctor(namespace: string, pod: string, podImage: string, ownList?: string[]) {
    const pull = await pullByKubelet(core, node, namespace, pod, podImage, ownList);
    assert.equal(pull.pulled, false, "the kubelet's pull fails");
    const verdict = await verdictOf(namespace, pod);
    assert.equal(verdict.status, 1, "exit 1: a pull would fail");
    return { pull, verdict };
}

/**
 * `gcp.credential: "accessToken"` with its refresher stopped, for real: the Secret is created as the
 * component creates it (RefreshedSecret: owner label, the refresher's Deployment in its `written-by`
 * annotation) and listed by the ServiceAccount; the refresher program itself (startRefresher, the code
 * its Deployment runs) takes one token from the GKE metadata server double and writes it with its
 * expiry, then stops, as when its Deployment is scaled to 0. The token is the shortest the refresher
 * writes: it never writes one with less than `timing.minimumLifetimeMs` left. The front double accepts
 * it only while the double that issued it says it is unexpired, for the account holding the reader
 * role. A pod pulls while the token lives; the case below waits until it has expired.
 */
async function tokenWrittenThenRefresherStopped() {
    const namespace = "doctor-token-expired";
    const writer = { namespace: "doctor-refresher", name: "token-refresher" };
    const owner = "0123456789abcdef";
    await namespaceWith(namespace, {}, ["regcred"]);
    await refreshedSecretProvider().create({
        namespace,
        secretName: "regcred",
        writer: `${writer.namespace}/${writer.name}`,
        owner,
        kubeconfig: cluster.kubeconfig,
    });
    metadata = await startMetadataServerDouble(Date.now, timing.minimumLifetimeMs / 1000 + 5);
    registries.front.addTokenIssuer(issuedBy(metadata, `serviceAccount:${registries.email}`));
    const refresher = await startRefresher({
        config: {
            targets: [{ namespace, secretName: "regcred" }],
            registries: [frontHost],
            // Written unproved: the doctor reads what the Secret holds, whether or not it pulls yet.
            probes: [],
            identity: { source: "gkeMetadata" },
            port: 0,
            owner,
            deployment: writer,
        },
        endpoints: {
            metadataServer: metadata.url,
            // Unused with the metadata server and no impersonation: nothing listens there.
            sts: "http://127.0.0.1:9",
            iamCredentials: "http://127.0.0.1:9",
            kubernetes: { url: cluster.server, ca: cluster.certificateAuthority, token: () => cluster.token },
        },
        host: "127.0.0.1",
        log: () => undefined,
    });
    try {
        const deadline = Date.now() + 20_000;
        while (refresher.status().get(`${namespace}/regcred`)?.state !== "written") {
            assert.ok(Date.now() < deadline, "the refresher wrote its first token");
            await new Promise((done) => setTimeout(done, 50));
        }
    } finally {
        await refresher.stop();
    }
    const whileAlive = await pullByKubelet(core, node, namespace, "while-alive", `${frontHost}/${frontImage}`);
    return { namespace, writer, whileAlive, token: metadata.issued[0] };
}

describe("the doctor on a real cluster, node and registry: each broken link produced for real", () => {
    it("ok: a pod whose ServiceAccount entry and Secret pull gets ok and exit 0", async () => {
        await namespaceWith("doctor-ok", { regcred: config(registry.host, user.user, user.password) }, ["regcred"]);
        assert.deepEqual(await pullByKubelet(core, node, "doctor-ok", "pulls", `${registry.host}/${image}`), {
            pulled: true,
        });
        const verdict = await verdictOf("doctor-ok", "pulls");
        assert.equal(verdict.kind, "ok");
        assert.equal(verdict.status, 0);
    });

    it("pod-predates-service-account: the pod was created before the ServiceAccount was patched", async () => {
        await namespaceWith("doctor-predates", { regcred: config(registry.host, user.user, user.password) });
        const pull = await pullByKubelet(core, node, "doctor-predates", "early", `${registry.host}/${image}`);
        assert.equal(pull.pulled, false);
        await patchServiceAccount("doctor-predates", ["regcred"]);
        const verdict = await verdictOf("doctor-predates", "early");
        assert.equal(verdict.kind, "pod-predates-service-account");
        assert.equal(verdict.status, 1);
        // The fix the doctor gives works: a pod created now gets the entry and pulls.
        assert.deepEqual(await pullByKubelet(core, node, "doctor-predates", "recreated", `${registry.host}/${image}`), {
            pulled: true,
        });
    });

    it("pod-has-own-list: the pod's own imagePullSecrets kept the ServiceAccount's out", async () => {
        await namespaceWith(
            "doctor-own-list",
            {
                regcred: config(registry.host, user.user, user.password),
                "team-cred": config("quay.io", "team", "team-password"),
            },
            ["regcred"],
        );
        const { verdict } = await failsThenDoctor("doctor-own-list", "own", `${registry.host}/${image}`, ["team-cred"]);
        assert.equal(verdict.kind, "pod-has-own-list");
    });

    it("no-matching-auth: the Secret is for another host (another port)", async () => {
        const otherPort = `127.0.0.1:${Number(registry.host.split(":")[1]) + 1}`;
        await namespaceWith("doctor-wrong-host", { regcred: config(otherPort, user.user, user.password) }, ["regcred"]);
        const { verdict } = await failsThenDoctor("doctor-wrong-host", "wrong-host", `${registry.host}/${image}`);
        assert.equal(verdict.kind, "no-matching-auth");
        assert.ok(
            verdict.evidence.some((e) => /the port differs/.test(e)),
            verdict.evidence.join("\n"),
        );
    });

    it("key-encoding-mismatch: the base64 key under the username _json_key, refused by the front double", async () => {
        await namespaceWith("doctor-key-encoding", { regcred: config(frontHost, "_json_key", keyBase64) }, ["regcred"]);
        const { verdict } = await failsThenDoctor("doctor-key-encoding", "key", `${frontHost}/${frontImage}`);
        assert.equal(verdict.kind, "key-encoding-mismatch");
    });

    it("a missing grant, 403 from the front double, for a Secret written a moment ago: grant-not-yet-effective (within IAM's window the two look alike)", async () => {
        await namespaceWith("doctor-grant", { regcred: config(frontHost, "_json_key_base64", keyBase64) }, ["regcred"]);
        // The Secret was just written: within IAM's window the doctor says "not yet effective" (after it,
        // "grant-missing": test/doctor/doctor.test.ts, whose Secret is older) ...
        const { pull, verdict } = await failsThenDoctor("doctor-grant", "denied", `${frontHost}/${deniedImage}`);
        assert.match(pull.pulled ? "" : pull.reason, /403|denied/i);
        assert.equal(verdict.kind, "grant-not-yet-effective");
        // ... and the same image of a repository the account may read pulls with that very Secret.
        assert.deepEqual(await pullByKubelet(core, node, "doctor-grant", "allowed", `${frontHost}/${frontImage}`), {
            pulled: true,
        });
    });

    it("credential-refused: the key was deleted, and the front double refuses it (401); a pod the node starts from its copy runs, and the doctor notes why another node fails (KubeletEnsureSecretPulledImages)", async () => {
        const namespace = "doctor-deleted-key";
        const pulledImage = `${frontHost}/${frontImage}`;
        await namespaceWith(namespace, { regcred: config(frontHost, "_json_key_base64", keyBase64) }, ["regcred"]);
        // While the key lives, the node gets the image with this Secret (the kubelet records which credential).
        assert.deepEqual(await pullByKubelet(core, node, namespace, "cached", pulledImage, undefined, "IfNotPresent"), {
            pulled: true,
        });
        registries.deleteKey();
        const { verdict } = await failsThenDoctor(namespace, "deleted", pulledImage);
        assert.equal(verdict.kind, "credential-refused");
        // The kubelet (v1.37, the gate on by default) lets a pod with the same Secret use the node's copy
        // without asking the registry: it runs here, and would fail on a node without the image.
        assert.deepEqual(
            await pullByKubelet(core, node, namespace, "from-cache", pulledImage, undefined, "IfNotPresent"),
            { pulled: true },
        );
        const cached = await verdictOf(namespace, "from-cache");
        assert.equal(cached.kind, "credential-refused");
        assert.equal(cached.status, 1, "a pull would fail: the verdict is what a node pulling the image does");
        assert.ok(
            cached.warnings.some((w) =>
                w.startsWith(
                    `the kubelet on node ${node.name} started this image from the copy it had ("already present on machine and can be accessed by the pod")`,
                ),
            ),
            cached.warnings.join("\n"),
        );
    });

    it("tag-not-found: the registry has the repository, not the tag", async () => {
        await namespaceWith("doctor-tag", { regcred: config(registry.host, user.user, user.password) }, ["regcred"]);
        const { verdict } = await failsThenDoctor("doctor-tag", "tag", `${registry.host}/e2e/tiny:2`);
        assert.equal(verdict.kind, "tag-not-found");
    });

    it("host-unknown: the image's registry name does not resolve", async () => {
        await namespaceWith("doctor-dns", { regcred: config("no-such-registry.invalid", user.user, user.password) }, [
            "regcred",
        ]);
        const { verdict } = await failsThenDoctor("doctor-dns", "dns", "no-such-registry.invalid/e2e/tiny:1");
        assert.equal(verdict.kind, "host-unknown");
    });

    it("tls-error: the registry's certificate is one the node does not trust", async () => {
        await namespaceWith("doctor-tls", { regcred: config(tlsHost, user.user, user.password) }, ["regcred"]);
        const { pull, verdict } = await failsThenDoctor("doctor-tls", "tls", `${tlsHost}/e2e/tiny:1`);
        assert.match(pull.pulled ? "" : pull.reason, /x509|certificate/i);
        assert.equal(verdict.kind, "tls-error");
    });

    it("token-expired: the refresher wrote an access token and stopped; once it expired the front refuses it (401), and the doctor names the token and the refresher", async () => {
        const { namespace, writer, whileAlive, token } = stoppedRefresher;
        assert.deepEqual(whileAlive, { pulled: true }, "the token pulled while it lived");
        assert.equal(metadata.issued.length, 1, "nothing took a second token: the refresher is stopped");
        const secret = await core.readNamespacedSecret({ namespace, name: "regcred" });
        const written = JSON.parse(Buffer.from(secret.data![".dockerconfigjson"], "base64").toString("utf8")) as {
            auths: Record<string, { username: string; password: string }>;
        };
        assert.equal(written.auths[frontHost].username, "oauth2accesstoken");
        assert.equal(written.auths[frontHost].password, token.token, "the Secret holds the refresher's token");
        const expiresAt = Date.parse(secret.metadata!.annotations![ownershipKeys.tokenExpiresAt]);
        // The annotation is on the issuer's clock, to the second: wait past both it and the issued expiry.
        const wait = Math.max(expiresAt, token.expiresAtMs) + 1000 - Date.now();
        if (wait > 0) await new Promise((done) => setTimeout(done, wait));
        const { pull, verdict } = await failsThenDoctor(namespace, "after-expiry", `${frontHost}/${frontImage}`);
        assert.match(pull.pulled ? "" : pull.reason, /401|unauthorized/i);
        assert.equal(verdict.kind, "token-expired");
        assert.ok(
            verdict.evidence.some((e) =>
                e.includes(`its refresher ${writer.namespace}/${writer.name} has not written a new one`),
            ),
            verdict.evidence.join("\n"),
        );
        // The token endpoint's answer may carry the registry's error code (`answered 401 UNAUTHORIZED to ...`).
        assert.ok(
            verdict.evidence.some((e) =>
                /answered 401( [A-Z_]+)? to user oauth2accesstoken from Secret regcred/.test(e),
            ),
            JSON.stringify(verdict.evidence),
        );
        assert.match(verdict.fix ?? "", new RegExp(`kubectl -n ${writer.namespace} get deployment ${writer.name}`));
    });

    it("unchecked: a user whose Role lacks get secrets is told what was not checked (exit 3)", async () => {
        const namespace = "doctor-ok";
        await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "doctor-reader" } } });
        const k8s = await import("@kubernetes/client-node");
        const config = new k8s.KubeConfig();
        config.loadFromString(cluster.kubeconfig);
        const rbac = config.makeApiClient(k8s.RbacAuthorizationV1Api);
        await rbac.createNamespacedRole({
            namespace,
            body: {
                metadata: { name: "doctor-reader" },
                rules: [
                    { apiGroups: [""], resources: ["pods", "serviceaccounts"], verbs: ["get"] },
                    { apiGroups: [""], resources: ["events"], verbs: ["list"] },
                ],
            },
        });
        await rbac.createNamespacedRoleBinding({
            namespace,
            body: {
                metadata: { name: "doctor-reader" },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "doctor-reader" },
                subjects: [{ kind: "ServiceAccount", name: "doctor-reader", namespace }],
            },
        });
        const token = await core.createNamespacedServiceAccountToken({
            namespace,
            name: "doctor-reader",
            body: { spec: { audiences: [] } },
        });
        const limited = path.join(work, "limited.kubeconfig");
        const kubeconfig = JSON.parse(cluster.kubeconfig) as {
            users: { name: string; user: Record<string, unknown> }[];
        };
        kubeconfig.users = kubeconfig.users.map((u) => ({ name: u.name, user: { token: token.status?.token } }));
        writeFileSync(limited, JSON.stringify(kubeconfig), { mode: 0o600 });
        const run = await doctor(["pod/pulls", "-n", namespace], limited);
        assert.equal(run.status, 3, run.stdout + run.stderr);
        assert.match(run.stdout, /Secret regcred: reading it was denied \(get secrets\)/);
    });

    it("no line the doctor printed holds a password, a key, an access token or their base64", () => {
        assert.ok(outputs.length > 50);
        const key = Buffer.from(keyBase64, "base64").toString("utf8");
        const forbidden = [
            ...metadata.issued.map((t) => t.token),
            user.password,
            keyBase64,
            key,
            Buffer.from(`${user.user}:${user.password}`).toString("base64"),
            Buffer.from(`_json_key:${keyBase64}`).toString("base64"),
        ];
        for (const line of outputs)
            for (const secret of forbidden)
                assert.ok(!line.includes(secret.slice(0, 24)), `secret text in: ${line.slice(0, 60)}`);
    });
});
