/**
 * The keyless Google Cloud credentials (docs/facts.md#keyless-pulls): `gcp.credential: "gkeNode"` (the node
 * pool's service account pulls; nothing in the cluster) and `"accessToken"` (a refresher in the cluster
 * writes short-lived tokens, with a GKE Workload Identity or a federated identity). Checks first, then
 * the Google Cloud part of each graph. No key is declared or read anywhere here.
 */
import * as pulumi from "@pulumi/pulumi";
import { WorkloadIdentityPool, WorkloadIdentityPoolProvider } from "@pulumi/gcp/iam";
import { IAMMember } from "@pulumi/gcp/serviceaccount";
import { CredentialKind, type GoogleCloudCredentialArgs } from "../args";
import { checkRepositories, grantReader, type GoogleCloudProject } from "../credential/grants";
import { childNames, defaultRefresherNamespace } from "../names";
import {
    containerImageProblem,
    emailProblem,
    issuerUriProblem,
    jwksJsonProblem,
    namespaceNameProblem,
    projectIdProblem,
    projectNumberProblem,
    workloadIdentityIdProblem,
} from "../rules/rules";
import {
    defaultRefresherImage,
    refresherNames,
    type RefresherIdentityInput,
} from "../refresher/token-refresher-deployment";
import { check, checkChoice, checkInput, invalid } from "../validate";

/**
 * Lets the principal mint tokens for the impersonated account: `iam.serviceAccounts.getAccessToken`
 * is in roles/iam.workloadIdentityUser, which Google's Workload Identity Federation guide grants for
 * impersonation (cloud.google.com/iam/docs/workload-identity-federation-with-kubernetes); it lacks the
 * signBlob/signJwt/implicitDelegation of roles/iam.serviceAccountTokenCreator.
 */
export const impersonationRole = "roles/iam.workloadIdentityUser";

export interface FederationSource {
    poolId: string;
    providerId: string;
    existing: boolean;
    issuerUri?: pulumi.Input<string>;
    jwksJson?: pulumi.Input<string>;
}

export interface AccessTokenSource extends GoogleCloudProject {
    projectNumber: pulumi.Input<string>;
    federation?: FederationSource;
    refresher: { namespace: string; image: pulumi.Input<string> };
}

/** `gcp.credential`, a plain string; `key` when left out. */
export function checkCredentialKind(value: unknown): CredentialKind {
    return checkChoice("gcp.credential", value, Object.values(CredentialKind), CredentialKind.key);
}

const keyArgs = ["serviceAccountId", "existingKey", "keyRotationDays", "keyVersion"] as const;
const accessTokenArgs = ["projectNumber", "federation", "refresher"] as const;

/** The first of `fields` that is given, or `undefined`. */
function firstGiven(gcp: GoogleCloudCredentialArgs, fields: readonly (keyof GoogleCloudCredentialArgs)[]) {
    return fields.find((field) => gcp[field] !== undefined);
}

/** Throws when a keyless-only argument comes with `credential: "key"`. */
export function checkNoKeylessArgs(gcp: GoogleCloudCredentialArgs): void {
    const given = firstGiven(gcp, accessTokenArgs);
    if (given !== undefined) throw invalid(`gcp.${given}`, 'is only for gcp.credential "accessToken"');
}

export function checkGkeNode(gcp: GoogleCloudCredentialArgs): GoogleCloudProject & {
    serviceAccountEmail: pulumi.Input<string>;
} {
    const given = firstGiven(gcp, [...keyArgs, ...accessTokenArgs]);
    if (given !== undefined) {
        throw invalid(
            `gcp.${given}`,
            'cannot be given with gcp.credential "gkeNode": the nodes pull with their own service account, so there is no key, no Secret and no refresher',
        );
    }
    if (gcp.serviceAccountEmail === undefined) {
        throw invalid(
            "gcp.serviceAccountEmail",
            'is required with gcp.credential "gkeNode" and is not set: the node pool\'s service account (gcloud container node-pools describe POOL --cluster CLUSTER --format=\'value(config.serviceAccount)\'; "default" there means PROJECT_NUMBER-compute@developer.gserviceaccount.com)',
        );
    }
    const repositories = checkRepositories(gcp.repositories ?? []);
    if (repositories.length === 0) {
        throw invalid(
            "gcp.repositories",
            'must name at least one repository with gcp.credential "gkeNode": the grants are all it declares',
        );
    }
    return {
        project: checkInput("gcp.project", gcp.project, projectIdProblem),
        repositories,
        serviceAccountEmail: checkInput("gcp.serviceAccountEmail", gcp.serviceAccountEmail, emailProblem),
    };
}

/**
 * `google.subject` may hold at most 127 bytes (IAM `workloadIdentityPools.providers`
 * `attributeMapping`); ours is `PROVIDER:system:serviceaccount:NAMESPACE:token-refresher`.
 */
const maxSubjectLength = 127;

/** The federated subject of the refresher: the provider (one per cluster) before the token's `sub`. */
export function federatedSubject(providerId: string, namespace: string): string {
    return `${providerId}:system:serviceaccount:${namespace}:${refresherNames.serviceAccount}`;
}

/**
 * `component` (the component's name) names the default refresher namespace, with the stack and
 * project (components/names.ts `defaultRefresherNamespace`).
 */
export function checkAccessToken(gcp: GoogleCloudCredentialArgs, component: string): AccessTokenSource {
    const given = firstGiven(gcp, keyArgs);
    if (given !== undefined) {
        throw invalid(
            `gcp.${given}`,
            'cannot be given with gcp.credential "accessToken": it uses no key and creates no service account (give gcp.serviceAccountEmail to impersonate an existing one)',
        );
    }
    if (gcp.projectNumber === undefined) {
        throw invalid(
            "gcp.projectNumber",
            "is required with gcp.credential \"accessToken\" and is not set: Workload Identity principals name the project by number (gcloud projects describe PROJECT --format='value(projectNumber)')",
        );
    }
    const repositories = checkRepositories(gcp.repositories ?? []);
    if (repositories.length === 0 && gcp.serviceAccountEmail === undefined) {
        throw invalid(
            "gcp.repositories",
            'must name at least one repository with gcp.credential "accessToken" unless gcp.serviceAccountEmail names an account that can already read: the refresher\'s own identity can read nothing else',
        );
    }
    const refresher = gcp.refresher ?? {};
    if (typeof refresher !== "object") throw invalid("gcp.refresher", "must be an object with namespace and image");
    const namespace = check(
        "gcp.refresher.namespace",
        refresher.namespace ?? defaultRefresherNamespace(pulumi.getProject(), pulumi.getStack(), component),
        namespaceNameProblem,
    );
    const federation = gcp.federation === undefined ? undefined : checkFederation(gcp.federation);
    if (federation !== undefined && !federation.existing) {
        const length = Buffer.byteLength(federatedSubject(federation.providerId, namespace));
        if (length > maxSubjectLength) {
            throw invalid(
                "gcp.refresher.namespace",
                `is too long for gcp.federation.providerId "${federation.providerId}": the refresher's federated subject (provider, namespace and account) would be ${length} bytes, and Google accepts at most ${maxSubjectLength}`,
            );
        }
    }
    return {
        project: checkInput("gcp.project", gcp.project, projectIdProblem),
        repositories,
        serviceAccountEmail:
            gcp.serviceAccountEmail === undefined
                ? undefined
                : checkInput("gcp.serviceAccountEmail", gcp.serviceAccountEmail, emailProblem),
        projectNumber: checkInput("gcp.projectNumber", gcp.projectNumber, projectNumberProblem),
        federation,
        refresher: {
            namespace,
            image: checkInput("gcp.refresher.image", refresher.image ?? defaultRefresherImage, containerImageProblem),
        },
    };
}

function checkFederation(federation: NonNullable<GoogleCloudCredentialArgs["federation"]>): FederationSource {
    if (typeof federation !== "object" || federation === null) {
        throw invalid("gcp.federation", "must be an object with poolId, providerId and issuerUri");
    }
    const existing = federation.existing ?? false;
    if (typeof existing !== "boolean")
        throw invalid("gcp.federation.existing", "must be true or false, known when the program runs");
    const poolId = check("gcp.federation.poolId", federation.poolId, workloadIdentityIdProblem);
    const providerId = check("gcp.federation.providerId", federation.providerId, workloadIdentityIdProblem);
    if (existing) {
        const declaredOnly = (["issuerUri", "jwksJson"] as const).find((field) => federation[field] !== undefined);
        if (declaredOnly !== undefined) {
            throw invalid(
                `gcp.federation.${declaredOnly}`,
                "cannot be given with gcp.federation.existing: the provider already exists and keeps its own settings",
            );
        }
        return { poolId, providerId, existing };
    }
    if (federation.issuerUri === undefined) {
        throw invalid(
            "gcp.federation.issuerUri",
            "is required unless gcp.federation.existing: the cluster's ServiceAccount token issuer",
        );
    }
    return {
        poolId,
        providerId,
        existing,
        issuerUri: checkInput("gcp.federation.issuerUri", federation.issuerUri, issuerUriProblem),
        jwksJson:
            federation.jwksJson === undefined
                ? undefined
                : checkInput("gcp.federation.jwksJson", federation.jwksJson, jwksJsonProblem),
    };
}

/** Non-authoritative reader grants for the node pool's service account. */
export function declareNodeAccess(
    name: string,
    gcp: GoogleCloudProject & { serviceAccountEmail: pulumi.Input<string> },
    parent: pulumi.Resource,
) {
    return grantReader(name, gcp, pulumi.interpolate`serviceAccount:${gcp.serviceAccountEmail}`, parent);
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
export function declareTokenIdentity(name: string, gcp: AccessTokenSource, parent: pulumi.Resource): TokenIdentity {
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
        return { identity, principal, grants: grantReader(name, gcp, principal, parent) };
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
    const grants = grantReader(name, gcp, pulumi.interpolate`serviceAccount:${gcp.serviceAccountEmail}`, parent);
    return { identity, impersonate: gcp.serviceAccountEmail, principal, grants: [impersonation, ...grants] };
}

/**
 * What a preview and the plan say about who else can hold the refresher's Google identity: on GKE
 * every cluster of the project (the principal names no cluster), with an existing federation provider
 * every provider of its pool that maps the same `sub`. Sources: GKE "About Workload Identity
 * Federation for GKE" (identity sameness), IAM "Workload Identity Federation" (principal identifiers).
 */
export function tokenIdentityWarnings(gcp: AccessTokenSource): string[] {
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
