/**
 * A real kube-apiserver as an `EntryCluster` (test/support/entry-cases.ts): the ServiceAccounts and
 * Secrets written as other writers would, through the official client, and the provider's requests
 * through the fault-injecting proxy (test/support/fault-injection.ts).
 */
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type { EntryCluster } from "./entry-cases";
import { forwardTo, serveWithFaults } from "./fault-injection";
import type { RealCluster } from "./real-cluster";

/** What other writers do to a real cluster, through `core`. */
export function clusterWriters(core: CoreV1Api) {
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

    /** Replaces the list and keeps the rest of the account (read, then replace guarded by its resourceVersion; again on 409). */
    async function setPullSecrets(namespace: string, name: string, names: string[]): Promise<void> {
        for (;;) {
            const account = await core.readNamespacedServiceAccount({ name, namespace });
            account.imagePullSecrets = names.length === 0 ? undefined : names.map((n) => ({ name: n }));
            try {
                await core.replaceNamespacedServiceAccount({ name, namespace, body: account });
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

    return { ensureNamespace, put, setPullSecrets, pullSecrets, deleteNamespace, annotations };
}

/** The real API server behind a proxy that forwards every request unchanged unless a fault is injected. */
export async function realEntryCluster(cluster: RealCluster): Promise<EntryCluster> {
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    config.loadFromString(cluster.kubeconfig);
    const core = config.makeApiClient(k8s.CoreV1Api);
    const { ensureNamespace, put, setPullSecrets, pullSecrets, deleteNamespace, annotations } = clusterWriters(core);
    const proxy = await serveWithFaults(forwardTo(cluster.server, cluster.certificateAuthority));
    const kubeconfig = JSON.parse(cluster.kubeconfig);
    // client-node refuses plain http unless TLS checks are declared off; the proxy is on loopback.
    kubeconfig.clusters[0].cluster = { server: proxy.url, "insecure-skip-tls-verify": true };
    return {
        kubeconfig: JSON.stringify(kubeconfig),
        put,
        setPullSecrets,
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
        disarm: () => proxy.disarm(),
        log: proxy.log,
        close: () => proxy.close(),
    };
}
