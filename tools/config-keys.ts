/**
 * The sample stack's config keys and the component arguments they feed (components/stack-config.ts
 * reads them), so that the plan can report a component error against the key the user edits.
 */

/**
 * Argument paths whose config key is not their last segment (`gcp.existingKey` is `existingKey`,
 * `namespaces` is `namespaces`). The objects map to the key that selects them (stack-config.ts).
 */
const renamed: Record<string, string> = {
    gcp: "gcpProject",
    "gcp.project": "gcpProject",
    credentials: "registryUsername",
    "credentials.username": "registryUsername",
    "credentials.password": "registryPassword",
    "gcp.federation": "federationPoolId",
    "gcp.federation.poolId": "federationPoolId",
    "gcp.federation.providerId": "federationProviderId",
    "gcp.federation.issuerUri": "federationIssuerUri",
    "gcp.federation.jwksJson": "federationJwksJson",
    "gcp.federation.existing": "federationExisting",
    "gcp.refresher": "refresherNamespace",
    "gcp.refresher.namespace": "refresherNamespace",
    "gcp.refresher.image": "refresherImage",
    readiness: "readinessWait",
    "readiness.wait": "readinessWait",
    "readiness.timeoutSeconds": "readinessTimeoutSeconds",
};

/**
 * `gcp.repositories[1].location` -> `project:repositories[1]`: config lists hold strings
 * (`LOCATION/REPOSITORY`), so a field of an element maps to the element.
 */
export function configKeyForArgument(project: string, propertyPath: string): string {
    // components/stack-config.ts reports what it parses itself under the config key already.
    if (propertyPath.startsWith(`${project}:`)) return propertyPath;
    // Mirrors are keyed by host (`readiness.mirrorOf["mirror:5000"]`), one `MIRROR=GOOGLE_HOST` entry each in config.
    if (/^readiness\.mirrorOf\b/.test(propertyPath)) return `${project}:readinessMirrors`;
    const match = /^([A-Za-z]+(?:\.[A-Za-z]+){0,2})((?:\[\d+\])?)/.exec(propertyPath);
    if (!match) return `${project}:${propertyPath}`;
    const [, argument, index] = match;
    return `${project}:${renamed[argument] ?? argument.split(".").pop()}${index}`;
}

/** A component error (`InputPropertyError`) restated in config keys, the words of the stack file. */
export function configErrorMessage(project: string, propertyPath: string, reason: string): string {
    const problem = reason.startsWith(`${propertyPath} `) ? reason.slice(propertyPath.length + 1) : reason;
    // The component's messages name its object arguments only as arguments (`gcp`, `credentials.password`).
    const inConfigTerms = problem.replace(/\b(gcp|credentials)(\.[A-Za-z]+)?(\[\d+\])?(\.[A-Za-z]+)?\b/g, (mentioned) =>
        configKeyForArgument(project, mentioned),
    );
    const key = configKeyForArgument(project, propertyPath);
    return `config ${key} ${inConfigTerms}${key === propertyPath ? "" : ` (component argument ${propertyPath})`}`;
}
