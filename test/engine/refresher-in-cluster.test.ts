/**
 * `gcp.credential: "accessToken"` in a running cluster, as a user's cluster runs it: the REAL Pulumi
 * engine (CLI and Kubernetes provider) deploys the component from a project that installed the
 * package; the refresher's Deployment, unchanged, is scheduled on the test node
 * (test/support/pod-cluster.ts), pulls the refresher image built here, gets tokens from the GKE
 * metadata server double at 169.254.169.254 inside the test's network, writes them, and turns ready;
 * the kubelet pulls with them through the Artifact Registry front double, which lets a token through
 * only while the double that issued it vouches for it and its principal holds the reader role on the
 * repository in Google's file. Google Cloud itself is the gcp provider plugin double
 * (test/support/google-cloud-double), which writes the component's grants into that file. The steps
 * run in order on one stack.
 */
import assert from "node:assert/strict";
import https from "node:https";
import { mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { AppsV1Api, V1Pod } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type * as automation from "@pulumi/pulumi/automation";
import { assertStateHoldsNone, clusterState, dockerConfigOf, watchDockerConfigs } from "../support/engine-checks";
import { defaultRefresherNamespace } from "../../components/names";
import { issuedBy } from "../support/artifact-registry-front";
import { installEngineProject, type EngineProject } from "../support/engine-project";
import { holdsRole } from "../support/google-cloud-double/google-apis";
import { installGoogleCloudDouble, requestedGcpVersion } from "../support/google-cloud-double/install";
import { googleResources, newProject, readGoogleCloud, type GoogleCloud } from "../support/google-cloud-double/state";
import { engineTestDelays, slowPropagation } from "../support/google-cloud-double/propagation";
import { verifiedClaims } from "../support/google-network";
import { registryHost, routeChecks, startPodCluster, type PodCluster } from "../support/pod-cluster";
import { auditEvents, type AuditEvent } from "../support/real-cluster";
import { pullByKubelet } from "../support/real-node";
import { startPullLoop } from "../support/registry-pull";

/** Short tokens, so several refreshes and an expiry fit in a test: the refresher renews at a third. */
const lifetimeSeconds = 90;
const namespaces = ["e2e-a", "e2e-b"];
const added = "e2e-c";
const outside = "e2e-outside";
const secretName = "regcred";
const labelSelector = "app.kubernetes.io/part-of=registry-pull-secret";

let pods: PodCluster;
let apps: AppsV1Api;
let project: EngineProject;
let stack: automation.Stack;
/** Google's file as the cluster started (the seed and the refresher image's public project). */
let googleAtStart: GoogleCloud;
let inCluster: ReturnType<typeof clusterState>;
const engineOutput: string[] = [];

function program(targets: () => string[], federated = false) {
    return () => {
        const { RegistryPullSecret } = project.require("registry-pull-secret") as typeof import("../../components");
        const pull = new RegistryPullSecret("regcred", {
            namespaces: targets(),
            registries: [pods.frontHost],
            // The front stands for us-docker.pkg.dev: the refresher proves its first token there.
            readiness: { mirrorOf: { [pods.frontHost]: registryHost } },
            gcp: {
                credential: "accessToken",
                project: "e2e-project",
                projectNumber: "123456789012",
                repositories: [{ location: "us", repository: "e2e" }],
                refresher: { image: pods.refresherImage, ...(federated ? { namespace: pool.namespace } : {}) },
                ...(federated ? { federation: { poolId: pool.id, providerId: pool.provider, issuerUri: issuer } } : {}),
            },
        });
        return Promise.resolve({ secretName: pull.secretName });
    };
}
let targets = namespaces;

/** The federation step's provider, and what its STS double saw: the claims of each subject token. */
const pool = { id: "e2e-pool", provider: "e2e-provider", namespace: "federated-refresher" };

/**
 * Google as the test starts: the project and the repository the image is pulled from, and Google's
 * eventual consistency scaled down (test/support/google-cloud-double/propagation.ts): every grant the
 * component makes takes effect 10 to 40 s after it is written, so a refresher that wrote its first
 * token at once would hand the kubelets a token that cannot pull yet.
 */
const googleBefore: GoogleCloud = {
    projects: { "e2e-project": newProject("123456789012", ["us/e2e"]) },
    auditLog: [],
    propagation: slowPropagation(engineTestDelays),
};
/** The image the kubelet pulls with the refreshed tokens, as Artifact Registry names it in `us`. */
const image = "e2e-project/e2e/tiny:1";
const reader = "roles/artifactregistry.reader";
/**
 * Who GKE's metadata server vouches for in the refresher's pod: its ServiceAccount's Workload Identity
 * principal (docs/facts.md#workload-identity-principals), in the namespace the component makes by default.
 */
const gkePrincipal = `principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/e2e-project.svc.id.goog/subject/ns/${defaultRefresherNamespace("registry-pull-secret", "e2e", "regcred")}/sa/token-refresher`;
/** Who STS's federated tokens stand for: the subject the declared provider maps, its id first. */
const federatedPrincipal = `principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/${pool.id}/subject/${pool.provider}:system:serviceaccount:${pool.namespace}:token-refresher`;
const audience = `//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/${pool.id}/providers/${pool.provider}`;
const issuer = "https://kubernetes.default.svc.cluster.local";
const subjects: Record<string, unknown>[] = [];
const subjectTokens: string[] = [];

/** As Google's STS does for an OIDC provider: the issuer's signature, the audience, the subject, unexpired. */
function acceptsSubjectToken(token: string): boolean {
    const claims = verifiedClaims(token, readFileSync(path.join(pods.cluster.dir, "sa.pub"), "utf8"));
    if (claims === undefined) return false;
    subjects.push(claims);
    subjectTokens.push(token);
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    return (
        claims.iss === issuer &&
        audiences.includes(audience) &&
        claims.sub === `system:serviceaccount:${pool.namespace}:token-refresher` &&
        typeof claims.exp === "number" &&
        claims.exp * 1000 > Date.now()
    );
}

before(async () => {
    pods = await startPodCluster({
        google: { lifetimeSeconds, federation: { audience, acceptsSubjectToken } },
        googleCloud: googleBefore,
        images: [image],
        // GKE labels nodes that run its metadata server so; the refresher's Deployment selects them.
        nodeLabels: { "iam.gke.io/gke-metadata-server-enabled": "true" },
    });
    console.log("start-up, seconds:", JSON.stringify(pods.timings));
    googleAtStart = readGoogleCloud(pods.googleFile);
    // The front trusts a token while the double that issued it vouches for it (every metadata server
    // started, also after a restart), as the principal it was issued to.
    pods.front.addTokenIssuer((token) =>
        pods.google.metadataServers.map((metadata) => issuedBy(metadata, gkePrincipal)(token)).find(Boolean),
    );
    pods.front.addTokenIssuer((token) => issuedBy(pods.google.sts!, federatedPrincipal)(token));
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    config.loadFromString(pods.cluster.kubeconfig);
    apps = config.makeApiClient(k8s.AppsV1Api);
    inCluster = clusterState(pods.core);
    for (const namespace of [...namespaces, added, outside]) {
        await pods.core.createNamespace({ body: { metadata: { name: namespace } } });
    }
    project = await installEngineProject();
    installGoogleCloudDouble(project.env, {
        work: mkdtempSync(path.join(tmpdir(), "google-cloud-double-")),
        version: requestedGcpVersion(project.require),
        stateFile: pods.googleFile,
    });
    stack = await newStack(
        "e2e",
        program(() => targets),
    );
});

/** A stack of the installed project on the test cluster, with the gcp double standing for Google. */
async function newStack(stackName: string, run: automation.PulumiFn): Promise<automation.Stack> {
    const created = await project.automation.LocalWorkspace.createOrSelectStack(
        { stackName, projectName: "registry-pull-secret", program: run },
        {
            workDir: project.dir,
            pulumiCommand: project.pulumi,
            envVars: project.env,
            projectSettings: { name: "registry-pull-secret", runtime: "nodejs" },
            secretsProvider: "passphrase",
        },
    );
    await created.setAllConfig({
        "kubernetes:kubeconfig": { value: pods.cluster.kubeconfig, secret: true },
        "kubernetes:enableSecretMutable": { value: "true" },
    });
    return created;
}
after(async () => {
    await pods?.stop();
    project?.remove();
});

const onOutput = (line: string) => void engineOutput.push(line);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function refresherPods(): Promise<V1Pod[]> {
    return (await pods.core.listPodForAllNamespaces({ labelSelector })).items;
}
const isReady = (pod: V1Pod) => pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** When the token in `namespace`'s Secret expires, as the refresher recorded it. */
async function tokenExpiry(namespace: string): Promise<number> {
    const secret = await pods.core.readNamespacedSecret({ name: secretName, namespace });
    return Date.parse(secret.metadata?.annotations?.["registry-pull-secret/token-expires-at"] ?? "");
}

async function passwordIn(namespace: string): Promise<string> {
    const secret = await pods.core.readNamespacedSecret({ name: secretName, namespace });
    return JSON.parse(dockerConfigOf(secret)).auths[pods.frontHost].password;
}

/** An audit timestamp (RFC 3339 with microseconds) in microseconds. */
function micros(timestamp: string): number {
    const fraction = (/\.(\d+)Z$/.exec(timestamp)?.[1] ?? "").padEnd(6, "0").slice(0, 6);
    return Math.floor(Date.parse(timestamp) / 1000) * 1_000_000 + Number(fraction);
}
const byRefresher = (event: AuditEvent) => event.user.username.endsWith(":token-refresher");

it("up schedules and starts the refresher, which writes no token before it pulls while Google propagates the grant (no pull with a token present fails), waits until it has written every Secret and is ready, and only then lists the Secrets in imagePullSecrets", async () => {
    await inCluster.setPullSecrets("e2e-a", "default", ["theirs"]);
    // Pulls with whatever the Secrets hold from the moment they exist, as kubelets starting pods would.
    const secrets = await watchDockerConfigs(pods.cluster.kubeconfig, namespaces, secretName, 0, true);
    const loop = startPullLoop(
        namespaces.map((namespace) => ({
            label: namespace,
            dockerConfigJson: () => Promise.resolve(secrets.current(namespace)),
            host: pods.frontHost,
            image,
            ca: pods.google.ca,
        })),
        250,
    );
    const started = Date.now();
    let result: automation.UpResult;
    try {
        result = await stack.up({ onOutput });
    } finally {
        secrets.stop();
    }
    const attempts = await loop.stop();
    assert.equal(result.summary.result, "succeeded");
    console.log(`up took ${(Date.now() - started) / 1000} s`);
    // Before its first token a Secret holds no credential for the host (Pulumi creates it empty).
    const withToken = attempts.filter((a) => !/^(no Secret|0 no credential for )/.test(a.failure ?? ""));
    const failed = withToken.filter((a) => !a.pulled);
    console.log(
        `pull loop: ${attempts.length} pulls, ${withToken.length} with a token present, ${failed.length} failed`,
    );
    assert.deepEqual(failed, [], "no Secret held a token that could not pull yet");
    assert.ok(withToken.length > 0, "the loop pulled once the tokens were written");
    // The grant took effect at its write plus its drawn delay; the refresher's first write came after it.
    const grant = readGoogleCloud(pods.googleFile).propagation.log.find(
        (d) => d.what.startsWith("grant ") && d.what.includes(gkePrincipal),
    );
    assert.ok(grant, "Google drew a delay for the refresher principal's grant");
    const effectiveMs = grant.atMs + grant.delayMs;
    const proved = /"event":"token-pulls","waitedSeconds":(\d+)/.exec(podLogs());
    console.log(
        `the grant took effect ${grant.delayMs} ms after its write; the refresher waited ${proved?.[1]} s for its first token to pull`,
    );
    assert.ok(proved, "the refresher logged when its first token pulled");
    const [refresher] = await refresherPods();
    assert.equal(refresher.spec?.nodeName, pods.node.name, "the scheduler placed the refresher on the node");
    assert.ok(isReady(refresher), "ready when up returns");
    assert.match(refresher.status?.podIP ?? "", /^10\.244\.0\./, "on the pod network, not the host's");
    const [gate] = routeChecks(pods.node, `${refresher.metadata?.namespace}/${refresher.metadata?.name}`);
    assert.equal(gate?.passed, true, "the route-check gate passed the refresher's pod before it started");

    const events = auditEvents(pods.cluster);
    for (const namespace of namespaces) {
        const firstToken = events.find(
            (e) =>
                e.verb === "patch" &&
                byRefresher(e) &&
                e.objectRef?.resource === "secrets" &&
                e.objectRef.namespace === namespace &&
                e.responseStatus?.code === 200,
        );
        const entry = events.find(
            (e) =>
                e.verb === "patch" &&
                e.objectRef?.resource === "serviceaccounts" &&
                e.objectRef.namespace === namespace &&
                e.objectRef.name === "default",
        );
        assert.ok(firstToken && entry, `the audit log holds the token write and the entry of ${namespace}`);
        assert.ok(
            micros(firstToken.stageTimestamp) / 1000 >= effectiveMs,
            `${namespace}: first token written ${firstToken.stageTimestamp}, the grant took effect ${new Date(effectiveMs).toISOString()}`,
        );
        assert.ok(
            micros(firstToken.stageTimestamp) < micros(entry.requestReceivedTimestamp),
            `${namespace}: token written ${firstToken.stageTimestamp}, entry added ${entry.requestReceivedTimestamp}`,
        );
        assert.ok(
            pods.google.isLiveToken(await passwordIn(namespace)),
            `${namespace} holds a live token of the metadata double`,
        );
    }
    assert.deepEqual(await inCluster.pullSecrets("e2e-a", "default"), ["theirs", secretName]);
    assert.deepEqual(await inCluster.pullSecrets("e2e-b", "default"), [secretName]);
    const firstTokenAt = events.find((e) => byRefresher(e) && e.verb === "patch")!;
    console.log(
        `first token written ${firstTokenAt.stageTimestamp}, ${(Date.parse(firstTokenAt.stageTimestamp) - started) / 1000} s after up started`,
    );

    assert.deepEqual(await pullByKubelet(pods.core, pods.node, "e2e-a", "pulls", `${pods.frontHost}/${image}`), {
        pulled: true,
    });
    const refused = await pullByKubelet(pods.core, pods.node, outside, "refused", `${pods.frontHost}/${image}`);
    assert.equal(refused.pulled, false, "a namespace the component does not target has no token");
    assert.ok(
        pods.front.decisions.some(
            (d) => d.path.startsWith("/v2/e2e-project/e2e/tiny/") && d.member === gkePrincipal && d.status === 200,
        ),
        "the front let the refresher's principal through, as the grant in Google's file allows",
    );
});

/** A request to the API server as the refresher's ServiceAccount (a token the API server issues for it). */
async function asRefresher(method: string, pathname: string, body?: string): Promise<number> {
    const [refresher] = await refresherPods();
    const token = await pods.core.createNamespacedServiceAccountToken({
        name: refresher.spec!.serviceAccountName!,
        namespace: refresher.metadata!.namespace!,
        body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    return new Promise((resolve, reject) => {
        const request = https.request(
            `${pods.cluster.server}${pathname}`,
            {
                method,
                ca: pods.cluster.certificateAuthority,
                headers: {
                    authorization: `Bearer ${token.status!.token}`,
                    ...(body ? { "content-type": "application/merge-patch+json" } : {}),
                },
            },
            (response) => {
                response.resume();
                resolve(response.statusCode ?? 0);
            },
        );
        request.on("error", reject);
        request.end(body);
    });
}

it("the real API server enforces the refresher's RBAC: its own Secrets only, get and patch, nothing else", async () => {
    await pods.core.createNamespacedSecret({
        namespace: "e2e-a",
        body: { metadata: { name: "others" }, stringData: { a: "b" } },
    });
    const patch = JSON.stringify({ metadata: { annotations: { probe: "x" } } });
    assert.equal(await asRefresher("GET", `/api/v1/namespaces/e2e-a/secrets/${secretName}`), 200);
    assert.equal(await asRefresher("PATCH", "/api/v1/namespaces/e2e-a/secrets/others", patch), 403);
    assert.equal(await asRefresher("GET", "/api/v1/namespaces/e2e-a/secrets/others"), 403);
    assert.equal(await asRefresher("GET", "/api/v1/namespaces/e2e-a/secrets"), 403);
    assert.equal(await asRefresher("PATCH", `/api/v1/namespaces/${outside}/secrets/${secretName}`, patch), 403);
    assert.equal(await asRefresher("GET", `/api/v1/namespaces/${outside}/secrets/${secretName}`), 403);
    assert.equal(
        await asRefresher("POST", "/api/v1/namespaces/e2e-a/secrets", JSON.stringify({ metadata: { name: "x" } })),
        403,
    );
    assert.equal(await asRefresher("DELETE", `/api/v1/namespaces/e2e-a/secrets/${secretName}`), 403);
});

it("tokens are replaced before they expire, and a pod started after several refreshes still pulls", async () => {
    const seen: { expiresAt: number; seenAt: number; password: string }[] = [];
    const deadline = Date.now() + 4 * lifetimeSeconds * 1000;
    while (seen.length < 4) {
        const expiresAt = await tokenExpiry("e2e-a");
        if (seen.at(-1)?.expiresAt !== expiresAt)
            seen.push({ expiresAt, seenAt: Date.now(), password: await passwordIn("e2e-a") });
        assert.ok(Date.now() < deadline, `only ${seen.length - 1} refreshes within ${4 * lifetimeSeconds} s`);
        await sleep(1_000);
    }
    for (let i = 1; i < seen.length; i++) {
        assert.ok(seen[i].seenAt < seen[i - 1].expiresAt, `refresh ${i} came before the previous token expired`);
        assert.notEqual(seen[i].password, seen[i - 1].password);
    }
    console.log(
        `refreshes seen: ${seen.length - 1}, intervals (s): ${seen
            .slice(1)
            .map((s, i) => (s.seenAt - seen[i].seenAt) / 1000)
            .join(", ")}`,
    );
    assert.deepEqual(await pullByKubelet(pods.core, pods.node, "e2e-b", "pulls-later", `${pods.frontHost}/${image}`), {
        pulled: true,
    });
});

it("with the metadata server down the refresher turns not-ready once the last token expired, visibly, and ready again when it returns", async () => {
    await pods.google.metadataDown();
    const downAt = Date.now();
    const expiresAt = Math.min(...(await Promise.all(namespaces.map(tokenExpiry))));
    let notReadyAt: number | undefined;
    while (notReadyAt === undefined) {
        const [refresher] = await refresherPods();
        if (!isReady(refresher)) notReadyAt = Date.now();
        assert.ok(Date.now() < expiresAt + 30_000, "still ready 30 s after the last token expired");
        await sleep(500);
    }
    assert.ok(
        notReadyAt >= expiresAt,
        `not ready at ${new Date(notReadyAt).toISOString()}, before the token expired at ${new Date(expiresAt).toISOString()}`,
    );
    const deployment = (await apps.listDeploymentForAllNamespaces({ labelSelector })).items[0];
    assert.equal(deployment.status?.readyReplicas ?? 0, 0, "the Deployment shows it: no ready replica");
    await pods.google.metadataUp();
    const upAt = Date.now();
    for (;;) {
        const [refresher] = await refresherPods();
        if (isReady(refresher)) break;
        assert.ok(Date.now() < upAt + 90_000, "not ready again within 90 s of the metadata server's return");
        await sleep(500);
    }
    console.log(
        `metadata down for ${(upAt - downAt) / 1000} s: not ready ${(notReadyAt - expiresAt) / 1000} s after expiry; ready again ${(Date.now() - upAt) / 1000} s after its return`,
    );
    assert.ok(pods.google.isLiveToken(await passwordIn("e2e-a")));
});

// Issue 17, item 7, found here first: with a fixed-name ConfigMap a data change was a
// delete-before-replace that deleted and re-created the Deployment (no pod ready for about 10 s). The
// ConfigMap is now immutable and named after its digest: a new one per change, the Deployment updated
// onto it in place, so it rolls.
it("a rollout (a new target namespace changes the config) keeps a ready refresher throughout, and the new pod writes its own token before the old one goes", async () => {
    const [old] = await refresherPods();
    targets = [...namespaces, added];
    let leastReady = Infinity;
    let polling = true;
    // Each change of what the poll sees: time, then each pod's name, readiness and whether it is going.
    const timeline: string[] = [];
    const poll = (async () => {
        while (polling) {
            const seen = await refresherPods();
            leastReady = Math.min(leastReady, seen.filter(isReady).length);
            const line = seen
                .map(
                    (p) =>
                        `${p.metadata?.name}:${isReady(p) ? "ready" : "not-ready"}${p.metadata?.deletionTimestamp ? ":deleting" : ""}`,
                )
                .join(" ");
            if (!timeline.at(-1)?.endsWith(line)) timeline.push(`${new Date().toISOString()} ${line}`);
            await sleep(200);
        }
    })();
    let result: automation.UpResult;
    try {
        result = await stack.up({ onOutput });
    } finally {
        polling = false;
        await poll;
    }
    assert.equal(result.summary.result, "succeeded");
    console.log(`rollout, as the poll saw it:\n${timeline.join("\n")}`);
    assert.ok(
        leastReady >= 1,
        `some refresher pod was ready at every look during the rollout:\n${timeline.join("\n")}`,
    );
    const current = (await refresherPods()).filter((pod) => pod.metadata?.name !== old.metadata?.name);
    assert.equal(current.length, 1, "a new pod replaced the old one");
    const events = auditEvents(pods.cluster);
    const podOf = (e: AuditEvent) => e.user.extra?.["authentication.kubernetes.io/pod-name"]?.[0];
    const newWrite = events.find((e) => byRefresher(e) && e.verb === "patch" && podOf(e) === current[0].metadata?.name);
    const oldDeleted = events.find(
        (e) => e.verb === "delete" && e.objectRef?.resource === "pods" && e.objectRef.name === old.metadata?.name,
    );
    assert.ok(newWrite && oldDeleted, "the audit log holds the new pod's write and the old pod's deletion");
    assert.ok(
        micros(newWrite.stageTimestamp) < micros(oldDeleted.requestReceivedTimestamp),
        `new pod wrote ${newWrite.stageTimestamp}, old pod deleted ${oldDeleted.requestReceivedTimestamp}`,
    );
    assert.ok(pods.google.isLiveToken(await passwordIn(added)));
    assert.deepEqual(await inCluster.pullSecrets(added, "default"), [secretName]);
});

/** Every container log the node kept. */
function podLogs(): string {
    const root = path.join(pods.node.dir, "pod-logs");
    return readdirSync(root, { recursive: true })
        .map((entry) => path.join(root, String(entry)))
        .filter((file) => statSync(file).isFile())
        .map((file) => readFileSync(file, "utf8"))
        .join("\n");
}

it("no token reaches a log, the engine's output or its state", () => {
    const tokens = pods.google.metadataServers.flatMap((double) => double.issued.map((t) => t.token));
    assert.ok(tokens.length >= 4);
    const logs = podLogs();
    assert.match(logs, /secret-written/, "the refresher's log is there");
    const output = engineOutput.join("");
    for (const token of tokens) {
        assert.equal(logs.includes(token), false, "a pod log holds a token");
        assert.equal(output.includes(token), false, "the engine's output holds a token");
    }
    assertStateHoldsNone(project.stateDir, path.join(project.dir, "Pulumi.e2e.yaml"), {
        username: "oauth2accesstoken",
        passwords: tokens,
        others: [],
    });
});

it("destroy removes the refresher, its RBAC, its Secrets and our entries only", async () => {
    const [refresher] = await refresherPods();
    const refresherNamespace = refresher.metadata!.namespace!;
    const result = await stack.destroy({ onOutput });
    assert.equal(result.summary.result, "succeeded");
    for (const namespace of [...namespaces, added]) {
        assert.deepEqual(
            await inCluster.secretNames(namespace).then((names) => names.filter((n) => n === secretName)),
            [],
        );
        const roles = await (await rbacApi()).listNamespacedRole({ namespace });
        assert.deepEqual(
            roles.items.map((r) => r.metadata?.name),
            [],
        );
    }
    assert.deepEqual(await inCluster.pullSecrets("e2e-a", "default"), ["theirs"]);
    assert.deepEqual(await inCluster.pullSecrets("e2e-b", "default"), []);
    assert.ok((await inCluster.secretNames("e2e-a")).includes("others"), "another owner's Secret stays");
    const gone = await pods.core.readNamespace({ name: refresherNamespace }).then(
        (ns) => ns.status?.phase === "Terminating",
        () => true,
    );
    assert.ok(gone, "the refresher's namespace is gone or going");
    assert.deepEqual(
        googleResources(readGoogleCloud(pods.googleFile)),
        googleResources(googleAtStart),
        "Google is as it was",
    );
});

async function rbacApi() {
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    config.loadFromString(pods.cluster.kubeconfig);
    return config.makeApiClient(k8s.RbacAuthorizationV1Api);
}

it("federation: the refresher's projected token carries the provider's audience, STS receives and exchanges it, the kubelet pulls with the result, and no token of it reaches a log", async () => {
    const federated = await newStack(
        "e2e-federation",
        program(() => ["e2e-a"], true),
    );
    const up = await federated.up({ onOutput });
    assert.equal(up.summary.result, "succeeded");
    const sts = pods.google.sts!;
    assert.ok(subjects.length > 0 && sts.issued.length > 0, "STS received the projected token and exchanged it");
    for (const claims of subjects) {
        assert.ok([claims.aud].flat().includes(audience), `audience ${JSON.stringify(claims.aud)}`);
        assert.equal(claims.sub, `system:serviceaccount:${pool.namespace}:token-refresher`);
    }
    const password = await passwordIn("e2e-a");
    assert.ok(
        sts.issued.some((t) => t.token === password),
        "the Secret holds the token STS issued",
    );
    assert.deepEqual(
        await pullByKubelet(pods.core, pods.node, "e2e-a", "pulls-federated", `${pods.frontHost}/${image}`),
        { pulled: true },
    );
    const google = readGoogleCloud(pods.googleFile).projects["e2e-project"];
    assert.ok(holdsRole(google.repositories["us/e2e"].iamPolicy, [reader], federatedPrincipal));
    assert.equal(google.workloadIdentityPools[pool.id].state, "ACTIVE");
    assert.equal(google.workloadIdentityPools[pool.id].providers[pool.provider].state, "ACTIVE");
    const logs = podLogs();
    const output = engineOutput.join("");
    for (const token of [...subjectTokens, ...sts.issued.map((t) => t.token)]) {
        assert.equal(logs.includes(token), false, "a pod log holds a federation token");
        assert.equal(output.includes(token), false, "the engine's output holds a federation token");
    }
    const destroyed = await federated.destroy({ onOutput });
    assert.equal(destroyed.summary.result, "succeeded");
    // Google keeps a deleted pool and its providers 30 days; everything else is as it was.
    const after = readGoogleCloud(pods.googleFile);
    const deleted = after.projects["e2e-project"].workloadIdentityPools[pool.id];
    assert.deepEqual([deleted.state, deleted.providers[pool.provider].state], ["DELETED", "DELETED"]);
    delete after.projects["e2e-project"].workloadIdentityPools[pool.id];
    assert.deepEqual(googleResources(after), googleResources(googleAtStart));
});
