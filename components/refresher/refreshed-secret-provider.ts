/**
 * The provider of `RefreshedSecret` (components/refresher/refreshed-secret.ts), loaded by package name in
 * Pulumi's dynamic-provider process (components/cluster/provider-by-name.ts): a Pulumi dynamic resource for a Secret whose content the token refresher owns.
 *
 * Pulumi creates the Secret (the refresher gets no `create` permission: RBAC cannot limit `create` to
 * one name, docs/facts.md#rbac) and deletes it on destroy, but its inputs and state hold NO data: not
 * a token, not a placeholder. So no later `pulumi up`, and no `pulumi refresh` then `up`, can write
 * anything over the refresher's token. (A `kubernetes:core/v1:Secret` would need `data` in its inputs:
 * the API server refuses a `kubernetes.io/dockerconfigjson` Secret without `.dockerconfigjson`, and
 * with `ignoreChanges: ["data"]` what is sent on a later update depends on the provider's field-manager
 * bookkeeping: pulumi-kubernetes provider/pkg/await/await.go `handleSSAIgnoreFields` re-sends the last
 * live value or drops the field, and a replacement creates it from the inputs again.)
 *
 * It is created holding `{"auths":{}}`, a valid docker config with no credential (the API server
 * requires valid JSON); no ServiceAccount lists it before the refresher has written a token (the
 * `imagePullSecrets` entries wait for the refresher's readiness). It carries the managed-by label and
 * the owner label of its component (components/rules/ownership.ts), which the refresher checks before
 * writing. A Secret of that name that already exists is adopted only when it is this component's own
 * (an interrupted create or destroy): same owner, and no label or annotation the component does not
 * write. Another component's, or one a tenant pre-created with our labels, is refused; delete removes
 * only this component's own.
 *
 * The state records the Secret's uid, which the API server sets at creation and nobody can change: a
 * tenant who edits the labels of the Secret we created does not make it somebody else's. `refresh`
 * keeps it (marked `relabeled`), and the next `up` puts our labels back, so the refresher writes it
 * again; only a Secret deleted, or replaced by another object of that name, leaves the state.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
    ClusterError,
    connect,
    connectionChanged,
    guarded,
    refuseImport,
    requireOwner,
    stackCluster,
    statusOf,
    type ClusterConnection,
} from "../cluster/cluster-connection";
import { ownerOfSecret, ownershipKeys } from "../rules/ownership";

export interface RefreshedSecretInputs extends ClusterConnection {
    namespace: string;
    secretName: string;
    /** `namespace/deployment` of the refresher that writes it, recorded as an annotation. */
    writer: string;
    /**
     * The owner id of the component (components/rules/ownership.ts), recorded as a label. Absent from the
     * state of a Secret created before owners were recorded.
     */
    owner: string;
}

/**
 * What the engine stores: the inputs (`owner` missing from a Secret created before owners were
 * recorded), the uid of the Secret it created or adopted (missing from a state written before uids
 * were recorded, until a refresh), and `relabeled` after a refresh found our Secret's labels changed.
 */
export type RefreshedSecretState = Omit<RefreshedSecretInputs, "owner"> & {
    owner?: string;
    uid?: string;
    relabeled?: boolean;
};

/** An empty docker config: valid for the API server, no credential for anyone. */
export const emptyDockerConfig = '{"auths":{}}';

/** The labels and annotations the component and its refresher write: an adoptable Secret carries no others. */
const ourLabels: readonly string[] = [ownershipKeys.managedBy.key, ownershipKeys.secretOwner];
const ourAnnotations: readonly string[] = [ownershipKeys.writer, ownershipKeys.tokenExpiresAt];

/**
 * Whether a live Secret is `owner`'s. A state from before owners (`owner` undefined) accepts a Secret
 * that carries our managed-by label and no owner label, as those Secrets were made.
 */
function isOwn(secret: V1Secret, owner: string | undefined): boolean {
    const recorded = ownerOfSecret(secret);
    return recorded !== undefined && recorded === (owner ?? "");
}

/** Whether a live Secret is the very object the state recorded (its uid), whatever its labels say now. */
const isRecorded = (secret: V1Secret, state: RefreshedSecretState): boolean =>
    state.uid !== undefined && secret.metadata?.uid === state.uid;

/** Why an existing Secret of our name cannot be adopted, or `undefined` when it can. */
export function adoptionProblem(secret: V1Secret, owner: string): string | undefined {
    const recorded = ownerOfSecret(secret);
    if (recorded === undefined) return "was not created by registry-pull-secret";
    if (recorded !== owner) {
        return recorded === ""
            ? "was created by registry-pull-secret without an owner record, so it cannot be told from another component's"
            : `belongs to another registry-pull-secret component (owner ${recorded})`;
    }
    if (secret.type !== "kubernetes.io/dockerconfigjson") return "is not a kubernetes.io/dockerconfigjson Secret";
    const foreign = [
        ...Object.keys(secret.metadata?.labels ?? {}).filter((key) => !ourLabels.includes(key)),
        ...Object.keys(secret.metadata?.annotations ?? {}).filter((key) => !ourAnnotations.includes(key)),
    ];
    if (foreign.length > 0) {
        return `carries labels or annotations the component never writes (${foreign.sort().join(", ")}), so someone else made or changed it`;
    }
    return undefined;
}

/**
 * What the owner of the stack can do about a Secret it may not adopt. Putting our labels back is safe
 * to offer: a tenant who does it only hands us a Secret in their own namespace that we then fill.
 */
function wayOut(inputs: RefreshedSecretInputs): string {
    const labels = `${ownershipKeys.managedBy.key}=${ownershipKeys.managedBy.value} ${ownershipKeys.secretOwner}=${inputs.owner}`;
    return (
        "if it is this stack's own Secret (created by an earlier run, its labels changed since), give it back its labels " +
        `(kubectl label secret ${inputs.secretName} -n ${inputs.namespace} --overwrite ${labels}, and remove any other label or annotation) ` +
        "and run pulumi up again; otherwise choose another secretName, or delete that Secret once its owner agrees"
    );
}

async function readSecret(api: CoreV1Api, inputs: RefreshedSecretState): Promise<V1Secret | undefined> {
    try {
        return await api.readNamespacedSecret({ name: inputs.secretName, namespace: inputs.namespace });
    } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
    }
}

/** The provider; exported so tests drive it against the API-server double (mocks do not run it). */
export function refreshedSecretProvider(
    connectTo: (connection: ClusterConnection) => Promise<CoreV1Api> = connect,
): pulumi.dynamic.ResourceProvider {
    const { configure, client } = stackCluster(connectTo);
    const where = (p: RefreshedSecretState) => `Secret "${p.secretName}" in namespace "${p.namespace}"`;
    return {
        configure,
        diff(_id, olds: RefreshedSecretState, news: RefreshedSecretInputs) {
            const replaces = (["namespace", "secretName"] as const).filter((key) => olds[key] !== news[key]);
            const changes =
                replaces.length > 0 ||
                olds.writer !== news.writer ||
                olds.owner !== news.owner ||
                olds.relabeled === true ||
                connectionChanged(olds, news);
            return Promise.resolve({ changes, replaces, deleteBeforeReplace: false });
        },
        create: (inputs: RefreshedSecretInputs) =>
            guarded(where(inputs), async () => {
                requireOwner(inputs.owner);
                const api = await client(inputs);
                let created: V1Secret;
                try {
                    created = await api.createNamespacedSecret({
                        namespace: inputs.namespace,
                        body: {
                            metadata: {
                                name: inputs.secretName,
                                namespace: inputs.namespace,
                                labels: {
                                    [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value,
                                    [ownershipKeys.secretOwner]: inputs.owner,
                                },
                                annotations: { [ownershipKeys.writer]: inputs.writer },
                            },
                            type: "kubernetes.io/dockerconfigjson",
                            data: { ".dockerconfigjson": Buffer.from(emptyDockerConfig, "utf8").toString("base64") },
                        },
                    });
                } catch (error) {
                    if (statusOf(error) !== 409) throw error;
                    // Ours from an earlier run (an interrupted create or destroy): adopt it, token and all.
                    const existing = await readSecret(api, inputs);
                    const problem = existing ? adoptionProblem(existing, inputs.owner) : "was deleted meanwhile";
                    if (problem !== undefined) {
                        throw new ClusterError(
                            `${where(inputs)} already exists and ${problem}; it is left as it is: ${wayOut(inputs)}`,
                        );
                    }
                    return {
                        id: `${inputs.namespace}/${inputs.secretName}`,
                        outs: { ...inputs, uid: existing?.metadata?.uid },
                    };
                }
                return {
                    id: `${inputs.namespace}/${inputs.secretName}`,
                    outs: { ...inputs, uid: created.metadata?.uid },
                };
            }),
        read: async (id, props: RefreshedSecretState) => {
            refuseImport("RefreshedSecret", props);
            return guarded(where(props), async () => {
                const live = await readSecret(await client(props), props);
                // Gone (or replaced by somebody else's): forget it, so the next `pulumi up` declares it again.
                if (!live) return { id: "", props: {} };
                if (isOwn(live, props.owner)) {
                    const kept: RefreshedSecretState = { ...props, uid: props.uid ?? live.metadata?.uid };
                    delete kept.relabeled; // our labels are back (put back by hand): nothing left to restore
                    return { id, props: kept };
                }
                // The object we created, its labels changed by someone: still ours, and the next `up` says so.
                return isRecorded(live, props) ? { id, props: { ...props, relabeled: true } } : { id: "", props: {} };
            });
        },
        update: (_id, olds: RefreshedSecretState, news: RefreshedSecretInputs) =>
            guarded(where(news), async () => {
                requireOwner(news.owner);
                // Only our labels and the writer annotation may change, by a merge patch that names nothing
                // else: the data belongs to the refresher. A Secret from before owners gets its owner here,
                // and one whose labels someone changed gets ours back.
                if (olds.writer !== news.writer || olds.owner !== news.owner || olds.relabeled === true) {
                    const api = await client(news);
                    const live = await readSecret(api, news);
                    if (live && (isOwn(live, olds.owner) || isRecorded(live, olds))) {
                        const { setHeaderOptions, PatchStrategy } = await import("@kubernetes/client-node");
                        await api.patchNamespacedSecret(
                            {
                                name: news.secretName,
                                namespace: news.namespace,
                                body: {
                                    metadata: {
                                        labels: {
                                            [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value,
                                            [ownershipKeys.secretOwner]: news.owner,
                                        },
                                        annotations: { [ownershipKeys.writer]: news.writer },
                                    },
                                },
                            },
                            setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
                        );
                    }
                }
                return { outs: { ...news, uid: olds.uid } };
            }),
        delete: (_id, props: RefreshedSecretState) =>
            guarded(where(props), async () => {
                const api = await client(props);
                const live = await readSecret(api, props);
                if (!live || !(isOwn(live, props.owner) || isRecorded(live, props))) return;
                try {
                    await api.deleteNamespacedSecret({ name: props.secretName, namespace: props.namespace });
                } catch (error) {
                    if (statusOf(error) !== 404) throw error;
                }
            }),
    };
}

/** The one provider object the dynamic-provider process loads (`registry-pull-secret/refreshed-secret-provider`). */
export const provider = refreshedSecretProvider();
