/**
 * Against a REAL kube-apiserver (test/support/real-cluster.ts, built by test/engine/build.sh):
 * - the `PullSecretEntry` provider's cases, the same table the API-server double runs
 *   (test/support/entry-cases.ts), through a proxy that only injects faults and logs;
 * - `kubectl apply` of the offline plan's YAML (`npm run plan -- --stack dev --out DIR`);
 * - server-side apply of the `"patch"` mode's object, as `kubectl apply --server-side` sends it:
 *   the conflict with another owner of the atomic list, and the clobbering when forced;
 * - the token refresher's objects from the offline plan of the `gke` stack (`kubectl apply`): Pod
 *   Security `restricted` admits its pod and refuses a privileged one in its namespace, its ConfigMap
 *   refuses any change, and RBAC gives its ServiceAccount exactly what the component says; the
 *   refresher itself (in this process, with that ServiceAccount's token and the metadata server double)
 *   writes both Secrets, and reports one whose RoleBinding a tenant removed as an Event that
 *   `kubectl describe deployment` shows, staying ready.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { describeEntryCases, type EntryCluster } from "../support/entry-cases";
import { forwardTo, serveWithFaults } from "../support/fault-injection";
import { startRealCluster, type RealCluster } from "../support/real-cluster";
import * as YAML from "yaml";
import type { EntryTiming } from "../../components/attachment/pull-secret-entry-client";
import { refreshedSecretProvider } from "../../components/refresher/refreshed-secret-provider";
import { startRefresher, type RefresherConfig } from "../../components/refresher/token-refresher";
import { ManualClock, startMetadataServerDouble } from "../support/google-token-doubles";

const repo = path.join(__dirname, "..", "..");
let cluster: RealCluster;
let core: CoreV1Api;

before(async () => {
    cluster = await startRealCluster();
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    config.loadFromString(cluster.kubeconfig);
    core = config.makeApiClient(k8s.CoreV1Api);
});
after(async () => cluster?.stop());

const statusOf = (error: unknown) => (error as { code?: number }).code;

async function ensureNamespace(name: string): Promise<void> {
    try {
        await core.createNamespace({ body: { metadata: { name } } });
    } catch (error) {
        if (statusOf(error) !== 409) throw error;
    }
}

/** Creates or replaces a ServiceAccount as another writer would (an update, not server-side apply). */
async function put(namespace: string, name: string, pullSecrets?: string[]): Promise<void> {
    await ensureNamespace(namespace);
    const body = {
        metadata: { name, namespace },
        ...(pullSecrets ? { imagePullSecrets: pullSecrets.map((n) => ({ name: n })) } : {}),
    };
    // The service-account controller may create `default` at any moment after the namespace.
    for (;;) {
        try {
            await core.replaceNamespacedServiceAccount({ name, namespace, body });
            return;
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
        }
        try {
            await core.createNamespacedServiceAccount({ namespace, body });
            return;
        } catch (error) {
            if (statusOf(error) !== 409) throw error;
        }
    }
}

async function pullSecrets(namespace: string, name: string): Promise<string[] | undefined> {
    try {
        const account = await core.readNamespacedServiceAccount({ name, namespace });
        return (account.imagePullSecrets ?? []).map((entry) => entry.name!);
    } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
    }
}

/** Deletes a namespace and waits until the namespace controller has removed it and its contents. */
async function deleteNamespace(name: string): Promise<void> {
    await core.deleteNamespace({ name });
    for (;;) {
        try {
            await core.readNamespace({ name });
        } catch (error) {
            if (statusOf(error) === 404) return;
            throw error;
        }
        await new Promise((done) => setTimeout(done, 200));
    }
}

async function annotations(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
        return (await core.readNamespacedServiceAccount({ name, namespace })).metadata?.annotations ?? {};
    } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
    }
}

/** The real API server behind a proxy that forwards every request unchanged unless a fault is injected. */
async function proxiedCluster(): Promise<EntryCluster> {
    const proxy = await serveWithFaults(forwardTo(cluster.server, cluster.certificateAuthority));
    const kubeconfig = JSON.parse(cluster.kubeconfig);
    // client-node refuses plain http unless TLS checks are declared off; the proxy is on loopback.
    kubeconfig.clusters[0].cluster = { server: proxy.url, "insecure-skip-tls-verify": true };
    return {
        kubeconfig: JSON.stringify(kubeconfig),
        put,
        putSecret: async (namespace, name, labels) => {
            await ensureNamespace(namespace);
            await core.createNamespacedSecret({
                namespace,
                body: {
                    metadata: { name, namespace, labels },
                    type: "kubernetes.io/dockerconfigjson",
                    data: { ".dockerconfigjson": Buffer.from('{"auths":{}}').toString("base64") },
                },
            });
        },
        forgeAnnotation: async (namespace, name, annotationKey, value) => {
            const k8s = await import("@kubernetes/client-node");
            await core.patchNamespacedServiceAccount(
                { name, namespace, body: { metadata: { annotations: { [annotationKey]: value } } } },
                k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
            );
        },
        pullSecrets,
        annotations,
        deleteNamespace,
        failNext: (...statuses) => proxy.failNext(...statuses),
        beforeNextPatch: (write) => proxy.beforeNextPatch(write),
        loseNextPatchAnswer: (how) => proxy.loseNextPatchAnswer(how),
        log: proxy.log,
        close: () => proxy.close(),
    };
}

// A real namespace's `default` ServiceAccount comes from the controller manager within a second or so.
const timing: EntryTiming = { appearTimeoutMs: 5_000, initialDelayMs: 20, maxDelayMs: 500, maxAttempts: 6 };
describeEntryCases("PullSecretEntry against a real kube-apiserver", proxiedCluster, timing);

function kubectl(args: string[], input?: string) {
    const kubeconfigFile = path.join(cluster.dir, "kubeconfig.json");
    return spawnSync("kubectl", [`--kubeconfig=${kubeconfigFile}`, ...args], {
        encoding: "utf8",
        input,
        timeout: 60_000,
    });
}

describe("the offline plan's YAML with kubectl apply against a real kube-apiserver", () => {
    it("refuses the plan's Secrets, whose data is masked, so a plan can never write a placeholder credential", async () => {
        const out = mkdtempSync(path.join(tmpdir(), "plan-out-"));
        try {
            const plan = spawnSync("npm", ["run", "--silent", "plan", "--", "--stack", "dev", "--out", out], {
                cwd: repo,
                encoding: "utf8",
            });
            assert.equal(plan.status, 0, plan.stderr);
            const files = readdirSync(out).sort();
            assert.deepEqual(files, ["team-a-dev_secret_regcred.yaml", "team-b-dev_secret_regcred.yaml"]);
            for (const namespace of ["team-a-dev", "team-b-dev"]) await ensureNamespace(namespace);
            // The object's shape is valid everywhere but its masked data: a server-side dry run shows it.
            const applied = kubectl(["apply", "--dry-run=server", "-f", out]);
            assert.notEqual(applied.status, 0);
            assert.match(applied.stderr, /data/);
            for (const namespace of ["team-a-dev", "team-b-dev"]) {
                const secrets = await core.listNamespacedSecret({ namespace });
                assert.deepEqual(
                    secrets.items.map((s) => s.metadata?.name),
                    [],
                );
            }
        } finally {
            rmSync(out, { recursive: true, force: true });
        }
    });
});

describe('"patch" mode\'s server-side apply against a real kube-apiserver', () => {
    // What the plan writes for an attachment in "patch" mode (tools/plan-format.ts, `*.patch.yaml`):
    // the ServiceAccount's name and namespace and the one-entry list, applied server-side.
    const patchObject = (namespace: string) =>
        JSON.stringify({
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name: "default", namespace },
            imagePullSecrets: [{ name: "regcred" }],
        });

    it("conflicts with the manager of another entry in the atomic list, and clobbers it when forced", async () => {
        await put("ssa", "default", ["theirs"]);
        const conflict = kubectl(
            ["apply", "--server-side", "--field-manager=pulumi-patch", "-f", "-"],
            patchObject("ssa"),
        );
        assert.notEqual(conflict.status, 0, "a second manager of an atomic list conflicts");
        assert.match(conflict.stderr, /conflict/i);
        assert.match(conflict.stderr, /\.imagePullSecrets/);
        assert.deepEqual(await pullSecrets("ssa", "default"), ["theirs"]);

        const forced = kubectl(
            ["apply", "--server-side", "--force-conflicts", "--field-manager=pulumi-patch", "-f", "-"],
            patchObject("ssa"),
        );
        assert.equal(forced.status, 0, forced.stderr);
        assert.deepEqual(await pullSecrets("ssa", "default"), ["regcred"], "the other owner's entry is gone");
    });

    it("on an empty list it simply sets our entry", async () => {
        await put("ssa-empty", "default");
        const applied = kubectl(
            ["apply", "--server-side", "--field-manager=pulumi-patch", "-f", "-"],
            patchObject("ssa-empty"),
        );
        assert.equal(applied.status, 0, applied.stderr);
        assert.deepEqual(await pullSecrets("ssa-empty", "default"), ["regcred"]);
    });
});

describe("the token refresher's objects from the offline plan against a real kube-apiserver", () => {
    const out = mkdtempSync(path.join(tmpdir(), "plan-refresher-"));
    after(() => rmSync(out, { recursive: true, force: true }));
    let namespace: string;
    const read = (suffix: string) => {
        const file = readdirSync(out).find((f) => f.endsWith(suffix))!;
        return YAML.parse(readFileSync(path.join(out, file), "utf8"));
    };

    before(async () => {
        const plan = spawnSync("npm", ["run", "--silent", "plan", "--", "--stack", "gke", "--out", out], {
            cwd: repo,
            encoding: "utf8",
        });
        assert.equal(plan.status, 0, plan.stderr);
        for (const target of ["storefront", "batch"]) await ensureNamespace(target);
        namespace = read("_deployment_token-refresher.yaml").metadata.namespace;
        // The namespace first, then everything in it (kubectl applies files in name order).
        const namespaceFile = readdirSync(out).find((f) => f.startsWith("namespace_"))!;
        const first = kubectl(["apply", "-f", path.join(out, namespaceFile)]);
        assert.equal(first.status, 0, first.stderr);
        const rest = kubectl(["apply", "-f", out]);
        assert.equal(rest.status, 0, rest.stderr);
    });

    it("Pod Security restricted admits the refresher's pod and refuses one without the restricted settings in its namespace", () => {
        const template = read("_deployment_token-refresher.yaml").spec.template;
        const pod = {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "refresher-probe", namespace, ...template.metadata },
            spec: template.spec,
        };
        const admitted = kubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(pod));
        assert.equal(admitted.status, 0, admitted.stderr);
        assert.doesNotMatch(admitted.stderr, /would violate PodSecurity/);
        // What any pod gets without a security context: root allowed, privilege escalation, all capabilities.
        const plain = {
            ...pod,
            metadata: { name: "plain-probe", namespace },
            spec: { containers: [{ name: "c", image: "node:24-alpine" }] },
        };
        const refused = kubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(plain));
        assert.notEqual(refused.status, 0);
        assert.match(refused.stderr, /violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
    });

    it("its ConfigMap is immutable: the API server refuses any change of its data", () => {
        const configMap = read(
            "_configmap_" +
                read("_deployment_token-refresher.yaml").spec.template.spec.volumes[0].configMap.name +
                ".yaml",
        );
        assert.equal(configMap.immutable, true);
        const patched = kubectl([
            "patch",
            "configmap",
            configMap.metadata.name,
            "-n",
            namespace,
            "--type=merge",
            "-p",
            JSON.stringify({ data: { "config.json": "{}" } }),
        ]);
        assert.notEqual(patched.status, 0);
        assert.match(patched.stderr, /field is immutable when `immutable` is set/);
    });

    it("RBAC lets its ServiceAccount get and patch only its Secrets, get its own Deployment and create Events there, nothing more", () => {
        const as = `--as=system:serviceaccount:${namespace}:token-refresher`;
        const can = (...args: string[]) => kubectl(["auth", "can-i", as, ...args]).stdout.trim();
        for (const target of ["storefront", "batch"]) {
            assert.equal(can("get", "secret/regcred", "-n", target), "yes");
            assert.equal(can("patch", "secret/regcred", "-n", target), "yes");
            assert.equal(can("get", "secret/other", "-n", target), "no");
            assert.equal(can("create", "secrets", "-n", target), "no");
            assert.equal(can("update", "secret/regcred", "-n", target), "no");
            assert.equal(can("create", "events", "-n", target), "no");
        }
        assert.equal(can("get", "deployments.apps/token-refresher", "-n", namespace), "yes");
        assert.equal(can("get", "deployments.apps/other", "-n", namespace), "no");
        assert.equal(can("create", "events", "-n", namespace), "yes");
        assert.equal(can("patch", "configmaps", "-n", namespace), "no");
        assert.equal(can("create", "pods", "-n", namespace), "no");
    });

    it("the refresher writes both Secrets with its own ServiceAccount's token, and reports one a tenant cut off as an Event kubectl describe shows, staying ready", async () => {
        const configMapName = read("_deployment_token-refresher.yaml").spec.template.spec.volumes[0].configMap.name;
        const config = JSON.parse(read(`_configmap_${configMapName}.yaml`).data["config.json"]) as RefresherConfig;
        // What Pulumi declares before the Deployment: the Secrets, recording the component's owner.
        const secrets = refreshedSecretProvider();
        for (const target of config.targets) {
            await secrets.create({
                ...target,
                writer: `${namespace}/token-refresher`,
                owner: config.owner,
                kubeconfig: cluster.kubeconfig,
            });
        }
        const token = kubectl(["create", "token", "token-refresher", "-n", namespace]);
        assert.equal(token.status, 0, token.stderr);
        const clock = new ManualClock();
        const metadata = await startMetadataServerDouble(clock.now);
        const refresher = await startRefresher({
            config: { ...config, port: 0 },
            endpoints: {
                metadataServer: metadata.url,
                sts: "http://127.0.0.1:9",
                iamCredentials: "http://127.0.0.1:9",
                kubernetes: { url: cluster.server, ca: cluster.certificateAuthority, token: () => token.stdout.trim() },
            },
            clock,
            host: "127.0.0.1",
            log: () => undefined,
        });
        try {
            const round = async () => {
                const deadline = Date.now() + 20_000;
                while (clock.waiting !== 1) {
                    assert.ok(Date.now() < deadline, "the refresher finished a round");
                    await new Promise((resolve) => setTimeout(resolve, 20));
                }
            };
            await round();
            const passwordIn = async (target: string) => {
                const secret = await core.readNamespacedSecret({ name: "regcred", namespace: target });
                const config = JSON.parse(Buffer.from(secret.data![".dockerconfigjson"], "base64").toString("utf8"));
                return config.auths["asia-northeast1-docker.pkg.dev"]?.password as string | undefined;
            };
            for (const target of ["storefront", "batch"])
                assert.equal(await passwordIn(target), metadata.issued[0].token);
            assert.equal(refresher.ready(), true);

            // A tenant of "batch" removes the refresher's RoleBinding there.
            const removed = kubectl(["delete", "rolebinding", `token-refresher-${namespace}`, "-n", "batch"]);
            assert.equal(removed.status, 0, removed.stderr);
            clock.advance(clock.nextWakeInMs!);
            await round();
            assert.equal(await passwordIn("storefront"), metadata.issued[1].token);
            assert.equal(await passwordIn("batch"), metadata.issued[0].token);
            assert.deepEqual(refresher.status().get("batch/regcred"), { state: "broken", reason: "forbidden" });
            assert.equal(refresher.ready(), true, "storefront is not held hostage");
            const described = kubectl(["describe", "deployment", "token-refresher", "-n", namespace]);
            assert.equal(described.status, 0, described.stderr);
            assert.match(
                described.stdout,
                /Warning\s+PullSecretBroken\s+.*Secret batch\/regcred: writing it is forbidden \(403\)/,
            );
        } finally {
            await refresher.stop();
            await metadata.close();
        }
    });
});
