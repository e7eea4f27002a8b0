/**
 * Who owns what the component writes into a cluster: every label and annotation key it sets, in one
 * place, and the pure rules that read them. Node built-ins only and no Pulumi import: the token
 * refresher ships this file beside its own (components/refresher/token-refresher-deployment.ts).
 *
 * An owner is one component instance, named by {@link ownerIdOf} its URN: stable across runs (an
 * interrupted `pulumi up` finds its own earlier writes), different for two components (another stack,
 * another project, another name). It is derived from names, not a secret: it keeps components apart,
 * it does not authenticate anyone (docs/security.md#security-model).
 */
import { createHash } from "node:crypto";

/** The label and annotation keys the component and its refresher write. */
export const ownershipKeys = {
    /**
     * Label on each pull Secret the component creates (a static one, or one for the token refresher);
     * the refresher writes no Secret without it.
     */
    managedBy: { key: "app.kubernetes.io/managed-by", value: "registry-pull-secret" },
    /** Label on each of those Secrets: the owner id of the component that created it. */
    secretOwner: "registry-pull-secret/owner",
    /** Annotation on each of those Secrets: `namespace/deployment` of the refresher that writes it. */
    writer: "registry-pull-secret/written-by",
    /** Annotation the refresher sets on each Secret it writes: when the token expires (RFC 3339, the issuer's clock). */
    tokenExpiresAt: "registry-pull-secret/token-expires-at",
    /**
     * Annotation on a ServiceAccount, one per owner: the JSON list of the `imagePullSecrets` names that
     * owner added (`["regcred"]`). Written in the same guarded JSON patch as the entry itself, so the
     * two never disagree; removed with the owner's last entry.
     */
    entries: (owner: string) => `registry-pull-secret/entries-${owner}`,
    /**
     * Server-side-apply field manager with which one owner co-owns a ServiceAccount's list when it takes
     * over the entry its own `attachMode: "patch"` made (components/attachment/pull-secret-entry-plan.ts).
     */
    listManager: (owner: string) => `registry-pull-secret-${owner}`,
} as const;

/**
 * The prefix of the field managers the Kubernetes provider names for server-side apply (pulumi-kubernetes
 * provider/pkg/provider/provider.go `fieldManagerName`): a `ServiceAccountPatch`'s, among others.
 */
export const pulumiKubernetesManagerPrefix = "pulumi-kubernetes-";

const entriesPrefix = ownershipKeys.entries("");

/** The owner id of a component: the first 16 hex digits of the SHA-256 of its URN. */
export function ownerIdOf(componentUrn: string): string {
    return createHash("sha256").update(componentUrn).digest("hex").slice(0, 16);
}

/** A valid owner id: 16 lowercase hex digits (it becomes part of a key and a label value). */
export const isOwnerId = (value: unknown): value is string => typeof value === "string" && /^[0-9a-f]{16}$/.test(value);

/** The parts of a Kubernetes object's metadata these rules read. */
export interface OwnedMetadata {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** The names a marker value lists; `undefined` when it is not a JSON list of strings (then it says nothing). */
function markerNames(value: string | undefined): string[] | undefined {
    if (value === undefined) return undefined;
    try {
        const parsed: unknown = JSON.parse(value);
        return Array.isArray(parsed) && parsed.every((n) => typeof n === "string") ? parsed : undefined;
    } catch {
        return undefined;
    }
}

/**
 * The `imagePullSecrets` names `owner` added to this ServiceAccount, from its marker; `undefined`
 * when the account carries no (readable) marker of that owner: an entry from before markers existed,
 * or none at all.
 */
export function entriesOwnedBy(account: OwnedMetadata, owner: string): string[] | undefined {
    return markerNames(account.metadata?.annotations?.[ownershipKeys.entries(owner)]);
}

/** Which owners' markers list this Secret name on this ServiceAccount (none: somebody else's, or no one's). */
export function ownersOfEntry(account: OwnedMetadata, secretName: string): string[] {
    return Object.entries(account.metadata?.annotations ?? {})
        .filter(([key, value]) => key.startsWith(entriesPrefix) && markerNames(value)?.includes(secretName))
        .map(([key]) => key.slice(entriesPrefix.length))
        .sort();
}

/**
 * The owner id of a Secret the component created; `undefined` when it does not
 * carry the managed-by label, and `""` when it carries that label but no owner (created before owners
 * were recorded).
 */
export function ownerOfSecret(secret: OwnedMetadata): string | undefined {
    const labels = secret.metadata?.labels ?? {};
    if (labels[ownershipKeys.managedBy.key] !== ownershipKeys.managedBy.value) return undefined;
    return labels[ownershipKeys.secretOwner] ?? "";
}

/** Whether `owner`'s component created this Secret (its managed-by and owner labels). */
export const isSecretOwnedBy = (secret: OwnedMetadata, owner: string): boolean => ownerOfSecret(secret) === owner;
