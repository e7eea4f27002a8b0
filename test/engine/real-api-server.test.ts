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
import { describeEntryCases } from "../support/entry-cases";
import { clusterWriters, realEntryCluster } from "../support/real-entry-cluster";
import { runCampaign } from "../support/fault-campaign";
import { startRealCluster, type RealCluster } from "../support/real-cluster";
import * as YAML from "yaml";
import type { EntryTiming } from "../../components/attachment/pull-secret-entry-client";
import { refreshedSecretProvider } from "../../components/refresher/refreshed-secret-provider";
import { startRefresher, type RefresherConfig } from "../../components/refresher/token-refresher";
import { ManualClock, startMetadataServerDouble } from "../support/google-token-doubles";

const repo = path.join(__dirname, "..", "..");
let cluster: RealCluster;
let core: CoreV1Api;
let writers: ReturnType<typeof clusterWriters>;

before(async () => {
    cluster = await startRealCluster();
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    config.loadFromString(cluster.kubeconfig);
    core = config.makeApiClient(k8s.CoreV1Api);
    writers = clusterWriters(core);
});
after(async () => cluster?.stop());

// A real namespace's `default` ServiceAccount comes from the controller manager within a second or so.
const timing: EntryTiming = { appearTimeoutMs: 5_000, initialDelayMs: 20, maxDelayMs: 500, maxAttempts: 6 };
describeEntryCases("PullSecretEntry against a real kube-apiserver", () => realEntryCluster(cluster), timing);

// The fault campaign's slice on the real API server (the long one: npm run campaign).
it("60 generated schedules of commands, faults and other writers against a real kube-apiserver lose no entry of anyone and leave nothing of ours after destroy", async () => {
    const entries = await realEntryCluster(cluster);
    try {
        const report = await runCampaign(entries, {
            runs: 60,
            secretTexts: [cluster.token],
            timing: { appearTimeoutMs: 5_000, initialDelayMs: 5, maxDelayMs: 50, maxAttempts: 6 },
        });
        assert.ok(report.commands > 60, JSON.stringify(report));
    } finally {
        await entries.close();
    }
});

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
            for (const namespace of ["team-a-dev", "team-b-dev"]) await writers.ensureNamespace(namespace);
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
        await writers.put("ssa", "default", ["theirs"]);
        const conflict = kubectl(
            ["apply", "--server-side", "--field-manager=pulumi-patch", "-f", "-"],
            patchObject("ssa"),
        );
        assert.notEqual(conflict.status, 0, "a second manager of an atomic list conflicts");
        assert.match(conflict.stderr, /conflict/i);
        assert.match(conflict.stderr, /\.imagePullSecrets/);
        assert.deepEqual(await writers.pullSecrets("ssa", "default"), ["theirs"]);

        const forced = kubectl(
            ["apply", "--server-side", "--force-conflicts", "--field-manager=pulumi-patch", "-f", "-"],
            patchObject("ssa"),
        );
        assert.equal(forced.status, 0, forced.stderr);
        assert.deepEqual(await writers.pullSecrets("ssa", "default"), ["regcred"], "the other owner's entry is gone");
    });

    it("on an empty list it simply sets our entry", async () => {
        await writers.put("ssa-empty", "default");
        const applied = kubectl(
            ["apply", "--server-side", "--field-manager=pulumi-patch", "-f", "-"],
            patchObject("ssa-empty"),
        );
        assert.equal(applied.status, 0, applied.stderr);
        assert.deepEqual(await writers.pullSecrets("ssa-empty", "default"), ["regcred"]);
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
        for (const target of ["storefront", "batch"]) await writers.ensureNamespace(target);
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
            // Its probes name Google's own hosts, which this machine cannot reach: written unproved here
            // (the proof runs against the HTTPS front in test/engine/refresher-in-cluster.test.ts).
            config: { ...config, probes: [], port: 0 },
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

describe("a RefreshedSecret against a real kube-apiserver", () => {
    it("a tenant who relabels the Secret we created does not lock the stack out: the uid the API server gave it keeps it ours, and up puts our labels back", async () => {
        await writers.ensureNamespace("relabelled");
        const secrets = refreshedSecretProvider();
        const inputs = {
            namespace: "relabelled",
            secretName: "regcred",
            writer: "refresher/token-refresher",
            owner: "0123456789abcdef",
            kubeconfig: cluster.kubeconfig,
        };
        const { outs } = await secrets.create(inputs);
        const relabel = kubectl([
            "label",
            "secret",
            "regcred",
            "-n",
            "relabelled",
            "--overwrite",
            "registry-pull-secret/owner=fedcba9876543210",
        ]);
        assert.equal(relabel.status, 0, relabel.stderr);
        const refreshed = await secrets.read!("relabelled/regcred", outs);
        assert.equal(refreshed.id, "relabelled/regcred", "still in the stack");
        assert.equal((await secrets.diff!("relabelled/regcred", refreshed.props, inputs)).changes, true);
        await secrets.update!("relabelled/regcred", refreshed.props, inputs);
        const live = await core.readNamespacedSecret({ name: "regcred", namespace: "relabelled" });
        assert.equal(live.metadata?.labels?.["registry-pull-secret/owner"], inputs.owner);
        assert.equal(live.metadata?.uid, outs.uid);
    });
});
