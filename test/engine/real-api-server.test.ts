/**
 * Against a REAL kube-apiserver (test/support/real-cluster.ts, built by test/engine/build.sh):
 * - the `PullSecretEntry` provider's cases, the same table the API-server double runs
 *   (test/support/entry-cases.ts), through a proxy that only injects faults and logs;
 * - `kubectl apply` of the offline plan's YAML (`npm run plan -- --stack dev --out DIR`);
 * - server-side apply of the `"patch"` mode's object, as `kubectl apply --server-side` sends it:
 *   the conflict with another owner of the atomic list, and the clobbering when forced.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { describeEntryCases, type EntryCluster } from "../support/entry-cases";
import { forwardTo, serveWithFaults } from "../support/fault-injection";
import { startRealCluster, type RealCluster } from "../support/real-cluster";
import type { EntryTiming } from "../../components/pull-secret-entry-client";

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
