/**
 * Child resource names, derived from the component's name so that two components in one stack never
 * collide. Namespaces are RFC 1123 labels and cannot hold '/', so `${namespace}/${serviceAccount}`
 * is unambiguous where `${namespace}-${serviceAccount}` would not be ("a-b"+"c" vs "a"+"b-c").
 */
export const childNames = {
    serviceAccount: (name: string) => `${name}-account`,
    grant: (name: string, location: string, repository: string) => `${name}-reader-${location}-${repository}`,
    key: (name: string) => `${name}-key`,
    cluster: (name: string) => `${name}-cluster`,
    secret: (name: string, namespace: string) => `${name}-${namespace}`,
    attachment: (name: string, namespace: string, serviceAccount: string) => `${name}-${namespace}/${serviceAccount}`,
    /** The token refresher's namespace, ServiceAccount, code and Deployment (`gcp.credential: "accessToken"`). */
    refresher: (name: string) => `${name}-token-refresher`,
    /** Its Role and RoleBinding in one target namespace. */
    refresherAccess: (name: string, namespace: string) => `${name}-token-refresher/${namespace}`,
    workloadIdentityPool: (name: string) => `${name}-pool`,
    workloadIdentityProvider: (name: string) => `${name}-pool-provider`,
    impersonation: (name: string) => `${name}-impersonation`,
};
