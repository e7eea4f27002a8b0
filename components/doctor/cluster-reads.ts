/**
 * What the doctor reads from a cluster, and nothing more: `get` of a pod, a Deployment, a
 * ServiceAccount and Secrets, and `list` of a pod's events, in one namespace. A read RBAC denies (403)
 * is reported as denied, never retried with other rights; the errors it raises quote nothing the API
 * server sent (../cluster/cluster-connection.ts).
 */
import type { AppsV1Api, CoreV1Api, V1ManagedFieldsEntry, V1PodSpec } from "@kubernetes/client-node" with {
    "resolution-mode": "import",
};
import {
    ClusterError,
    describeFailure,
    loadKubeConfig,
    statusOf,
    type ClusterConnection,
} from "../cluster/cluster-connection";
import type { SecretRead, ServiceAccountRead } from "./pull-chain";

/** A read's outcome: the object, or that it is not there, or that RBAC denied it. */
export type Read<T> = { state: "found"; value: T } | { state: "missing" } | { state: "denied" };

/** A pod or a pod template: what the chain needs of it. */
export interface PodShape {
    containers: { name: string; image: string }[];
    imagePullSecrets: string[];
    serviceAccountName: string;
    createdAtMs?: number;
    /** The node the pod was scheduled to (a pod template has none). */
    nodeName?: string;
}

/** One event of a pod, as the kubelet reported a pull (`Failed`, `BackOff`, `Pulled`). */
export interface PullEvent {
    reason: string;
    message: string;
    count: number;
}

export interface ClusterReads {
    pod(name: string): Promise<Read<PodShape>>;
    deployment(name: string): Promise<Read<PodShape>>;
    serviceAccount(name: string): Promise<ServiceAccountRead>;
    secret(name: string): Promise<SecretRead>;
    podEvents(name: string): Promise<Read<PullEvent[]>>;
}

/** The images of a pod in the order the kubelet starts them: init containers, then the others. */
function shapeOf(spec: V1PodSpec | undefined, createdAt: Date | undefined): PodShape {
    const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => ({
        name: c.name,
        image: c.image ?? "",
    }));
    return {
        containers,
        imagePullSecrets: (spec?.imagePullSecrets ?? []).map((r) => r.name ?? "").filter((n) => n !== ""),
        serviceAccountName: spec?.serviceAccountName || "default",
        createdAtMs: createdAt === undefined ? undefined : new Date(createdAt).getTime(),
        nodeName: spec?.nodeName || undefined,
    };
}

/** The newest time a field manager wrote `field` (`f:imagePullSecrets`), or any field when none is named. */
export function lastWrittenMs(managedFields: V1ManagedFieldsEntry[] | undefined, field?: string): number | undefined {
    const times = (managedFields ?? [])
        .filter((m) => field === undefined || JSON.stringify(m.fieldsV1 ?? {}).includes(`"${field}"`))
        .map((m) => (m.time === undefined ? NaN : new Date(m.time).getTime()))
        .filter((t) => !Number.isNaN(t));
    return times.length === 0 ? undefined : Math.max(...times);
}

async function attempt<T>(what: string, read: () => Promise<T>): Promise<Read<T>> {
    try {
        return { state: "found", value: await read() };
    } catch (error) {
        const status = statusOf(error);
        if (status === 404) return { state: "missing" };
        if (status === 403) return { state: "denied" };
        throw new ClusterError(`reading ${what}: ${describeFailure(error)}`);
    }
}

/** The reads, through the cluster a kubeconfig and context name (as kubectl's `--kubeconfig` and `--context`). */
export async function clusterReads(connection: ClusterConnection, namespace: string): Promise<ClusterReads> {
    const k8s = await import("@kubernetes/client-node");
    const config = await loadKubeConfig(connection);
    const core: CoreV1Api = config.makeApiClient(k8s.CoreV1Api);
    const apps: AppsV1Api = config.makeApiClient(k8s.AppsV1Api);
    const found = <T, U>(read: Read<T>, map: (value: T) => U): Read<U> =>
        read.state === "found" ? { state: "found", value: map(read.value) } : read;
    return {
        pod: async (name) =>
            found(await attempt(`pod ${name}`, () => core.readNamespacedPod({ namespace, name })), (pod) =>
                shapeOf(pod.spec, pod.metadata?.creationTimestamp),
            ),
        deployment: async (name) =>
            found(await attempt(`deployment ${name}`, () => apps.readNamespacedDeployment({ namespace, name })), (d) =>
                shapeOf(d.spec?.template.spec, undefined),
            ),
        serviceAccount: async (name) => {
            const read = await attempt(`serviceaccount ${name}`, () =>
                core.readNamespacedServiceAccount({ namespace, name }),
            );
            if (read.state !== "found") return { name, state: read.state };
            const sa = read.value;
            return {
                name,
                state: "found",
                imagePullSecrets: (sa.imagePullSecrets ?? []).map((r) => r.name ?? "").filter((n) => n !== ""),
                pullSecretsChangedAtMs: lastWrittenMs(sa.metadata?.managedFields, "f:imagePullSecrets"),
            };
        },
        secret: async (name) => {
            const read = await attempt(`secret ${name}`, () => core.readNamespacedSecret({ namespace, name }));
            if (read.state !== "found") return { name, state: read.state };
            const secret = read.value;
            const created = secret.metadata?.creationTimestamp;
            const times = [lastWrittenMs(secret.metadata?.managedFields), created && new Date(created).getTime()];
            const known = times.filter((t): t is number => typeof t === "number");
            return {
                name,
                state: "found",
                type: secret.type ?? "Opaque",
                data: secret.data ?? {},
                annotations: secret.metadata?.annotations ?? {},
                writtenAtMs: known.length === 0 ? undefined : Math.max(...known),
            };
        },
        podEvents: async (name) =>
            found(
                await attempt(`events of pod ${name}`, () =>
                    core.listNamespacedEvent({
                        namespace,
                        fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}`,
                    }),
                ),
                (list) =>
                    list.items.map((e) => ({ reason: e.reason ?? "", message: e.message ?? "", count: e.count ?? 1 })),
            ),
    };
}
