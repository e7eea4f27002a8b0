/**
 * The keyless Google Cloud credentials (docs/facts.md#keyless-pulls): `gcp.credential: "gkeNode"` (the node
 * pool's service account pulls; nothing in the cluster) and `"accessToken"` (a refresher in the cluster
 * writes short-lived tokens, with a GKE Workload Identity or a federated identity): the Google Cloud
 * part of each graph, from the parsed credential (components/parse.ts). No key is declared or read
 * anywhere here.
 */
import * as pulumi from "@pulumi/pulumi";
import { WorkloadIdentityPool, WorkloadIdentityPoolProvider } from "@pulumi/gcp/iam";
import { IAMMember } from "@pulumi/gcp/serviceaccount";
import { grantReader } from "../credential/grants";
import { childNames, federatedSubject, refresherNames } from "../names";
import type { AccessTokenCredential, GkeNodeCredential } from "../parse";
import type { RefresherIdentityInput } from "../refresher/token-refresher-deployment";

/**
 * Lets the principal mint tokens for the impersonated account: `iam.serviceAccounts.getAccessToken`
 * is in roles/iam.workloadIdentityUser, which Google's Workload Identity Federation guide grants for
 * impersonation (cloud.google.com/iam/docs/workload-identity-federation-with-kubernetes); it lacks the
 * signBlob/signJwt/implicitDelegation of roles/iam.serviceAccountTokenCreator.
 */
export const impersonationRole = "roles/iam.workloadIdentityUser";

/** Non-authoritative reader grants for the node pool's service account. */
export function declareNodeAccess(name: string, gcp: GkeNodeCredential["gcp"], parent: pulumi.Resource) {
    return grantReader(name, gcp, pulumi.interpolate`serviceAccount:${gcp.serviceAccountEmail}`, parent, "existing");
}

/** What the refresher needs from Google Cloud, declared. */
export interface TokenIdentity {
    identity: RefresherIdentityInput;
    impersonate?: pulumi.Input<string>;
    /** The IAM member of the refresher's own identity (`principal://...`). */
    principal: pulumi.Output<string>;
    grants: pulumi.Resource[];
}

/**
 * The refresher's Google identity and its grants. GKE: the project's pool `PROJECT.svc.id.goog`,
 * subject `ns/NS/sa/KSA`, which names no cluster: every GKE cluster of the project shares it (GKE
 * "identity sameness"; {@link tokenIdentityWarnings} says so in previews). Elsewhere: a pool and an
 * OIDC provider admitting only the refresher's Kubernetes ServiceAccount, mapping `google.subject` to
 * the provider's id before the token's `sub` (`PROVIDER:system:serviceaccount:NS:KSA`), so another
 * provider (another cluster) in the same pool never yields the same principal for the same `sub`; an
 * existing provider is taken to map `google.subject = assertion.sub`. Grants go to that principal, or
 * to `serviceAccountEmail` which the principal may then impersonate.
 */
export function declareTokenIdentity(
    name: string,
    gcp: AccessTokenCredential["gcp"],
    parent: pulumi.Resource,
): TokenIdentity {
    const { namespace } = gcp.refresher;
    const account = refresherNames.serviceAccount;
    const pools = pulumi.interpolate`//iam.googleapis.com/projects/${gcp.projectNumber}/locations/global/workloadIdentityPools`;
    let principal: pulumi.Output<string>;
    let identity: RefresherIdentityInput;
    const federation = gcp.federation;
    if (federation === undefined) {
        principal = pulumi.interpolate`principal:${pools}/${gcp.project}.svc.id.goog/subject/ns/${namespace}/sa/${account}`;
        identity = { source: "gkeMetadata" };
    } else {
        let poolId: pulumi.Input<string> = federation.poolId;
        let providerId: pulumi.Input<string> = federation.providerId;
        if (!federation.existing) {
            const pool = new WorkloadIdentityPool(
                childNames.workloadIdentityPool(name),
                {
                    project: gcp.project,
                    workloadIdentityPoolId: federation.poolId,
                    displayName: federation.poolId,
                    description: `Kubernetes token refresher of Pulumi component ${name}`,
                },
                { parent },
            );
            const provider = new WorkloadIdentityPoolProvider(
                childNames.workloadIdentityProvider(name),
                {
                    project: gcp.project,
                    workloadIdentityPoolId: pool.workloadIdentityPoolId,
                    workloadIdentityPoolProviderId: federation.providerId,
                    // A Kubernetes ServiceAccount token's `sub` is system:serviceaccount:NS:NAME; the provider
                    // (one per cluster) goes first, so the same `sub` from another cluster is another principal.
                    attributeMapping: { "google.subject": `"${federation.providerId}:" + assertion.sub` },
                    // Only the refresher's ServiceAccount is admitted, whatever else the issuer signs.
                    attributeCondition: `assertion.sub == "system:serviceaccount:${namespace}:${account}"`,
                    oidc: { issuerUri: federation.issuerUri!, jwksJson: federation.jwksJson },
                },
                { parent },
            );
            poolId = pool.workloadIdentityPoolId;
            providerId = provider.workloadIdentityPoolProviderId;
        }
        const subject = federation.existing
            ? `system:serviceaccount:${namespace}:${account}`
            : federatedSubject(federation.providerId, namespace);
        principal = pulumi.interpolate`principal:${pools}/${poolId}/subject/${subject}`;
        identity = {
            source: "federation",
            audience: pulumi.interpolate`${pools}/${federation.poolId}/providers/${providerId}`,
        };
    }
    if (gcp.serviceAccountEmail === undefined) {
        return { identity, principal, grants: grantReader(name, gcp, principal, parent, "created") };
    }
    const impersonation = new IAMMember(
        childNames.impersonation(name),
        {
            serviceAccountId: pulumi.interpolate`projects/${gcp.project}/serviceAccounts/${gcp.serviceAccountEmail}`,
            role: impersonationRole,
            member: principal,
        },
        { parent },
    );
    const grants = grantReader(
        name,
        gcp,
        pulumi.interpolate`serviceAccount:${gcp.serviceAccountEmail}`,
        parent,
        "existing",
    );
    return { identity, impersonate: gcp.serviceAccountEmail, principal, grants: [impersonation, ...grants] };
}

/**
 * What a preview and the plan say about who else can hold the refresher's Google identity: on GKE
 * every cluster of the project (the principal names no cluster), with an existing federation provider
 * every provider of its pool that maps the same `sub`. Sources: GKE "About Workload Identity
 * Federation for GKE" (identity sameness), IAM "Workload Identity Federation" (principal identifiers).
 */
export function tokenIdentityWarnings(gcp: AccessTokenCredential["gcp"]): string[] {
    const { namespace } = gcp.refresher;
    const account = refresherNames.serviceAccount;
    if (gcp.federation === undefined) {
        return [
            `gcp.credential "accessToken" on GKE: the refresher's principal (pool PROJECT.svc.id.goog, namespace "${namespace}", ServiceAccount "${account}") names no cluster. Every GKE cluster with Workload Identity in gcp.project shares it ("identity sameness"): whoever can create that namespace and ServiceAccount in ANY of them gets these grants. Keep every cluster of the project in one trust boundary, or use gcp.federation (a pool of your own, one provider per cluster).`,
        ];
    }
    if (gcp.federation.existing) {
        return [
            `gcp.federation.existing: the refresher's principal is taken to be subject "system:serviceaccount:${namespace}:${account}" (google.subject = assertion.sub). Every provider of pool "${gcp.federation.poolId}" mapping it that way yields the same principal for that namespace and ServiceAccount in its own cluster, and gets these grants. Give each cluster a pool of its own, or let the component declare the provider (it puts the provider id into the subject).`,
        ];
    }
    return [];
}
