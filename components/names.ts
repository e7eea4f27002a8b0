import { createHash } from "node:crypto";

/**
 * Child resource names, derived from the component's name so that two components in one stack never
 * collide. Namespaces are RFC 1123 labels and cannot hold '/', so `${namespace}/${serviceAccount}`
 * is unambiguous where `${namespace}-${serviceAccount}` would not be ("a-b"+"c" vs "a"+"b-c").
 */
export const childNames = {
    serviceAccount: (name: string) => `${name}-account`,
    grant: (name: string, location: string, repository: string) => `${name}-reader-${location}-${repository}`,
    key: (name: string) => `${name}-key`,
    /** The replaced key's grace after a rotation (components/credential/key-handover.ts). */
    keyHandover: (name: string) => `${name}-key-handover`,
    cluster: (name: string) => `${name}-cluster`,
    /** The Secrets' provider with `takeOver` (components/registry-pull-secret.ts `takeOverProvider`). */
    takeOver: (name: string) => `${name}-takeover`,
    secret: (name: string, namespace: string) => `${name}-${namespace}`,
    /** The Secret's claim (components/claim/secret-claim.ts): its own type, so its URN never meets another child's. */
    claim: (name: string, namespace: string) => `${name}-${namespace}-claim`,
    attachment: (name: string, namespace: string, serviceAccount: string) => `${name}-${namespace}/${serviceAccount}`,
    /** The token refresher's namespace, ServiceAccount, code and Deployment (`gcp.credential: "accessToken"`). */
    refresher: (name: string) => `${name}-token-refresher`,
    /** Its Role and RoleBinding in one target namespace. */
    refresherAccess: (name: string, namespace: string) => `${name}-token-refresher/${namespace}`,
    workloadIdentityPool: (name: string) => `${name}-pool`,
    workloadIdentityProvider: (name: string) => `${name}-pool-provider`,
    impersonation: (name: string) => `${name}-impersonation`,
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
