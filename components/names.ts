import { createHash } from "node:crypto";

/**
 * Child resource names, derived from the component's name. Pulumi knows a child by its URN: its name,
 * its type and its parent's type, not its parent's name, so no two children of one type, in one
 * component or in two, may share a name (the engine refuses the second: "Duplicate resource URN").
 * After the component's name the parts are joined by '/', which no namespace (RFC 1123 label),
 * ServiceAccount name (RFC 1123 subdomain), Artifact Registry location or repository id holds
 * (components/rules/rules.ts): a name's last '/'s give its parts back whatever the component's name
 * holds ("a"+"b-c" is `a/b-c`, "a-b"+"c" is `a-b/c`). Within a type no entry's suffix ends another's:
 * the refresher's `-token-refresher` and `/<namespace>/token-refresher` differ before `token-refresher`.
 * test/child-names.test.ts checks every type. No child name reaches Kubernetes or Google Cloud: every
 * object's own name or id is set from the arguments.
 */
export const childNames = {
    serviceAccount: (name: string) => `${name}-account`,
    grant: (name: string, location: string, repository: string) => `${name}/reader/${location}/${repository}`,
    key: (name: string) => `${name}-key`,
    /** The replaced key's grace after a rotation (components/credential/key-handover.ts). */
    keyHandover: (name: string) => `${name}-key-handover`,
    /** The gate between a new credential and the Secrets (components/credential/pull-readiness.ts). */
    pullReadiness: (name: string) => `${name}-pull-readiness`,
    cluster: (name: string) => `${name}-cluster`,
    /** The claimed Secrets' provider (components/registry-pull-secret.ts `claimedSecretsProvider`). */
    secrets: (name: string) => `${name}-secrets`,
    /** The pull Secret, a `Secret` or (`"accessToken"`) a `RefreshedSecret`. */
    secret: (name: string, namespace: string) => `${name}/${namespace}`,
    /** The Secrets' claim, one for all namespaces (components/claim/secret-claim.ts). */
    claim: (name: string) => `${name}-claim`,
    attachment: (name: string, namespace: string, serviceAccount: string) => `${name}/${namespace}/${serviceAccount}`,
    /** The token refresher's namespace, ServiceAccount, code, Deployment, own Role and binding (`"accessToken"`). */
    refresher: (name: string) => `${name}-token-refresher`,
    /**
     * Its Role and RoleBinding in one target namespace. The namespace comes before `/token-refresher`:
     * after it (`<name>-token-refresher/<namespace>`), component "a-token-refresher/b" gave its own Role
     * the name component "a" gave its Role in namespace "b-token-refresher".
     */
    refresherAccess: (name: string, namespace: string) => `${name}/${namespace}/token-refresher`,
    workloadIdentityPool: (name: string) => `${name}-pool`,
    workloadIdentityProvider: (name: string) => `${name}-pool-provider`,
    impersonation: (name: string) => `${name}-impersonation`,
};

/**
 * The names these children had before they were made injective, for Pulumi `aliases` only (never to
 * name anything): a stack deployed with them holds its Secrets, claims, entries, grants and Roles under
 * these URNs, and an alias with only `name` (same parent, same type) makes its next `pulumi up` update
 * each in place. Without it each would be a new resource plus a deleted one standing for the same
 * Kubernetes object or IAM binding: the create meets the object that exists, the delete removes what
 * the new one stands for. Dropping these is a breaking change (docs/versioning.md). They collided:
 * component "a" with namespace "b-c" and component "a-b" with namespace "c" both gave `a-b-c`. A former
 * name equals a current name of another child only when some component's name holds '/'.
 */
export const formerChildNames = {
    grant: (name: string, location: string, repository: string) => `${name}-reader-${location}-${repository}`,
    secret: (name: string, namespace: string) => `${name}-${namespace}`,
    /** The claimed Secrets' provider, when only `takeOver` declared it (its name said so). */
    secrets: (name: string) => `${name}-takeover`,
    attachment: (name: string, namespace: string, serviceAccount: string) => `${name}-${namespace}/${serviceAccount}`,
    refresherAccess: (name: string, namespace: string) => `${name}-token-refresher/${namespace}`,
};

/** The token refresher's Kubernetes names inside its namespace. */
export const refresherNames = { serviceAccount: "token-refresher", deployment: "token-refresher" };

/** The federated subject of the refresher: the provider (one per cluster) before the token's `sub`. */
export function federatedSubject(providerId: string, namespace: string): string {
    return `${providerId}:system:serviceaccount:${namespace}:${refresherNames.serviceAccount}`;
}

/**
 * The default namespace of a component's token refresher: `<component name>-refresher-<8 hex digits>`,
 * the hash over project, stack and component name. Unique per component, so that two stacks sharing a
 * GKE project never grant the same Workload Identity principal (the principal names the namespace and
 * no cluster); stable, so the same stack keeps its namespace. The name part is folded to an RFC 1123
 * label (lowercase letters, digits, '-') and cut to 32 characters: at most 51 in all, which leaves
 * room for a 32-character provider id in a federated subject ({@link federatedSubject}).
 */
export function defaultRefresherNamespace(project: string, stack: string, component: string): string {
    const hash = createHash("sha256").update(`${project}/${stack}/${component}`).digest("hex").slice(0, 8);
    const slug = component
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .slice(0, 32)
        .replace(/^-+|-+$/g, "");
    return `${slug === "" ? "" : `${slug}-`}refresher-${hash}`;
}
