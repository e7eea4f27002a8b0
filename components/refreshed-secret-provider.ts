/**
 * The provider of `RefreshedSecret` (components/refreshed-secret.ts), loaded by package name in
 * Pulumi's dynamic-provider process (components/provider-by-name.ts): a Pulumi dynamic resource for a Secret whose content the token refresher owns.
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
 * `imagePullSecrets` entries wait for the refresher's readiness). It carries the managed-by label the
 * refresher checks before writing; delete removes it only when it still carries that label.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { connect, connectionChanged, stackCluster, type ClusterConnection } from "./cluster-connection";
import { managedByLabel } from "./token-refresher";

export interface RefreshedSecretInputs extends ClusterConnection {
    namespace: string;
    secretName: string;
    /** `namespace/deployment` of the refresher that writes it, recorded as an annotation. */
    writer: string;
}

/** An empty docker config: valid for the API server, no credential for anyone. */
export const emptyDockerConfig = '{"auths":{}}';
export const writerAnnotation = "registry-pull-secret/written-by";

const statusOf = (error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === "number" ? code : undefined;
};
const ours = (secret: V1Secret) => secret.metadata?.labels?.[managedByLabel.key] === managedByLabel.value;

async function readSecret(api: CoreV1Api, inputs: RefreshedSecretInputs): Promise<V1Secret | undefined> {
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
    const where = (p: RefreshedSecretInputs) => `Secret "${p.secretName}" in namespace "${p.namespace}"`;
    return {
        configure,
        diff(_id, olds: RefreshedSecretInputs, news: RefreshedSecretInputs) {
            const replaces = (["namespace", "secretName"] as const).filter((key) => olds[key] !== news[key]);
            const changes = replaces.length > 0 || olds.writer !== news.writer || connectionChanged(olds, news);
            return Promise.resolve({ changes, replaces, deleteBeforeReplace: false });
        },
        async create(inputs: RefreshedSecretInputs) {
            const api = await client(inputs);
            try {
                await api.createNamespacedSecret({
                    namespace: inputs.namespace,
                    body: {
                        metadata: {
                            name: inputs.secretName,
                            namespace: inputs.namespace,
                            labels: { [managedByLabel.key]: managedByLabel.value },
                            annotations: { [writerAnnotation]: inputs.writer },
                        },
                        type: "kubernetes.io/dockerconfigjson",
                        data: { ".dockerconfigjson": Buffer.from(emptyDockerConfig, "utf8").toString("base64") },
                    },
                });
            } catch (error) {
                if (statusOf(error) !== 409) throw error;
                // Ours from an earlier run (an interrupted destroy): adopt it, token and all. Anyone else's: leave it.
                const existing = await readSecret(api, inputs);
                if (!existing || !ours(existing)) {
                    throw new Error(
                        `${where(inputs)} already exists and was not created by registry-pull-secret; it is left as it is: choose another secretName or remove it`,
                    );
                }
            }
            return { id: `${inputs.namespace}/${inputs.secretName}`, outs: inputs };
        },
        async read(id, props: RefreshedSecretInputs) {
            const live = await readSecret(await client(props), props);
            // Gone (or replaced by somebody else's): forget it, so the next `pulumi up` declares it again.
            return live && ours(live) ? { id, props } : { id: "", props: {} };
        },
        async update(_id, olds: RefreshedSecretInputs, news: RefreshedSecretInputs) {
            // Only the writer annotation may change, by a merge patch that names nothing else: the data
            // belongs to the refresher.
            if (olds.writer !== news.writer) {
                const api = await client(news);
                const live = await readSecret(api, news);
                if (live && ours(live)) {
                    const { setHeaderOptions, PatchStrategy } = await import("@kubernetes/client-node");
                    await api.patchNamespacedSecret(
                        {
                            name: news.secretName,
                            namespace: news.namespace,
                            body: { metadata: { annotations: { [writerAnnotation]: news.writer } } },
                        },
                        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
                    );
                }
            }
            return { outs: news };
        },
        async delete(_id, props: RefreshedSecretInputs) {
            const api = await client(props);
            const live = await readSecret(api, props);
            if (!live || !ours(live)) return;
            try {
                await api.deleteNamespacedSecret({ name: props.secretName, namespace: props.namespace });
            } catch (error) {
                if (statusOf(error) !== 404) throw error;
            }
        },
    };
}

/** The one provider object the dynamic-provider process loads (`registry-pull-secret/refreshed-secret-provider`). */
export const provider = refreshedSecretProvider();
