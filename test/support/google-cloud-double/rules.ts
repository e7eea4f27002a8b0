/**
 * The rules the Google Cloud provider double applies, as pure functions, each naming where it comes
 * from: the Terraform Google provider that pulumi-gcp bridges for validation, formats and what compares
 * equal, and Google's API documentation for what only the API checks. Rules return the reason a value
 * is refused, or `undefined`.
 *
 * The provider is {@link terraformProvider}: @pulumi/gcp 9.37.0 (package-lock.json) bridges
 * hashicorp/terraform-provider-google-BETA (pulumi-gcp `.gitmodules`: submodule `upstream`; `provider/go.mod`
 * replaces the module with `../upstream`), and pulumi-gcp's commit "Upgrade terraform-provider-google-beta
 * to v7.45.0" (#3930) pins that submodule at the commit of tag v7.45.0, the last upgrade before 7.46.0,
 * which was still unreleased then. Every path cited in the double (`google-beta/...`) is in that
 * repository at that tag, and was read there.
 */

/** The Terraform provider the double's citations name, at the version @pulumi/gcp 9.37.0 bridges. */
export const terraformProvider = {
    repository: "hashicorp/terraform-provider-google-beta",
    version: "v7.45.0",
    commit: "3dc173a397749158369ea839a2890d89f8c9c370",
} as const;

/**
 * `account_id`: verify.ValidateRFC1035Name(6, 30) (google-beta/services/resourcemanager/
 * resource_google_service_account.go; the pattern is RFC1035NameTemplate in google-beta/verify/validation.go).
 */
export function accountIdProblem(value: string): string | undefined {
    if (value.length < 6 || value.length > 30) return "must be between 6 and 30 characters long";
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(value)) return "must match regex ^[a-z]([-a-z0-9]*[a-z0-9])?$";
    return undefined;
}

/** `description` of a service account: validation.StringLenBetween(0, 256) (resource_google_service_account.go). */
export function accountDescriptionProblem(value: string): string | undefined {
    return Buffer.byteLength(value) > 256 ? "must be at most 256 bytes long" : undefined;
}

/**
 * `member` of every `*_iam_member`: validateIAMMember (google-beta/tpgiamresource/resource_iam_member.go):
 * no `deleted` principals, and `type:value` or one of the special names.
 */
export function iamMemberProblem(value: string): string | undefined {
    if (value.startsWith("deleted")) return "cannot be a deleted principal";
    if (!/(.+:.+|projectOwners|projectReaders|projectWriters|allUsers|allAuthenticatedUsers)/.test(value)) {
        return "must be an IAM member such as serviceAccount:EMAIL, principal://... or principalSet://...";
    }
    return undefined;
}

/**
 * Whether a principal compares case-sensitively: IamPrincipalIsCaseSensitive (google-beta/tpgresource/utils.go).
 */
function caseSensitive(member: string): boolean {
    return (
        member.includes("allAuthenticatedUsers") ||
        member.includes("allUsers") ||
        member.startsWith("principalSet:") ||
        member.startsWith("principal:") ||
        member.startsWith("principalHierarchy:")
    );
}

/**
 * The member as the provider writes it into ids and compares it: NormalizeIamPrincipalCasing
 * (google-beta/tpgresource/utils.go) lowercases the value of case-insensitive principals.
 */
export function normalizeIamMember(member: string): string {
    if (caseSensitive(member)) return member;
    const colon = member.indexOf(":");
    return colon < 0 ? member : `${member.slice(0, colon)}:${member.slice(colon + 1).toLowerCase()}`;
}

/** iamMemberCaseDiffSuppress (google-beta/tpgiamresource/resource_iam_member.go). */
export function sameIamMember(old: string, next: string): boolean {
    if (caseSensitive(old) || caseSensitive(next)) return old === next;
    return old.toUpperCase() === next.toUpperCase();
}

/**
 * Workload identity pool and provider ids: ValidateWorkloadIdentityPoolId and
 * ValidateWorkloadIdentityPoolProviderId (google-beta/services/iambeta/resource_iam_workload_identity_pool.go,
 * resource_iam_workload_identity_pool_provider.go): not `gcp-`, lowercase letters, digits and dashes
 * (pools may end in `.svc.id.goog`), 4 to 32 characters.
 */
export function workloadIdentityIdProblem(value: string, kind: "pool" | "provider"): string | undefined {
    if (value.startsWith("gcp-")) return 'cannot start with "gcp-"';
    const id = kind === "pool" && value.endsWith(".svc.id.goog") ? value.slice(0, -".svc.id.goog".length) : value;
    if (!/^[0-9a-z-]+$/.test(id)) return "must contain only lowercase letters (a-z), numbers (0-9), or dashes (-)";
    if (id.length < 4) return "cannot be smaller than 4 characters";
    if (id.length > 32) return "cannot be greater than 32 characters";
    return undefined;
}

// google-beta/verify/validation.go: ProjectRegexWildCard, ProjectNameInDNSFormRegex, RFC1035NameTemplate and
// the three service account name forms joined into ServiceAccountLinkRegex.
const projectOrWildcard =
    "(?:(?:[-a-z0-9]{1,63}\\.)*(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?):)?(?:[0-9]{1,19}|(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)|-)";
const project =
    "(?:(?:[-a-z0-9]{1,63}\\.)*(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?):)?(?:[0-9]{1,19}|(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?))";
const accountNames = [
    `${project}@[a-z]+.gserviceaccount.com$`,
    "[0-9]{1,20}-compute@developer.gserviceaccount.com",
    "[a-z]([-a-z0-9]{4,28}[a-z0-9])?@[-a-z0-9\\.]{1,63}\\.iam\\.gserviceaccount\\.com$",
];
const serviceAccountLink = new RegExp(`projects/${projectOrWildcard}/serviceAccounts/(${accountNames.join("|")})`);

/**
 * `service_account_id` of `google_service_account_iam_member`: verify.ValidateRegexp(ServiceAccountLinkRegex)
 * (google-beta/services/resourcemanager/iam_service_account.go): `projects/{project or -}/serviceAccounts/{email}`.
 */
export function serviceAccountLinkProblem(value: string): string | undefined {
    return serviceAccountLink.test(value) ? undefined : "must be projects/{project}/serviceAccounts/{email}";
}

/**
 * A key's `service_account_id` as the API is called with it: ServiceAccountFQN (google-beta/tpgresource/utils.go):
 * a full name as it is, an email under `projects/-`, an account id in the provider's project.
 */
export function serviceAccountFqn(serviceAccountId: string, project: string | undefined): string {
    if (serviceAccountId.startsWith("projects/")) return serviceAccountId;
    if (serviceAccountId.includes("@")) return `projects/-/serviceAccounts/${serviceAccountId}`;
    if (project === undefined) throw new Error("project: required field is not set");
    return `projects/-/serviceAccounts/${serviceAccountId}@${project}.iam.gserviceaccount.com`;
}

/**
 * CompareSelfLinkOrResourceName (google-beta/tpgresource/self_link_helpers.go), the DiffSuppressFunc of an
 * Artifact Registry IAM resource's `repository`: the state holds the full name, and a short name
 * equal to its last segment is the same repository.
 */
export function sameRepository(old: string, next: string): boolean {
    if (!next.includes("/")) return old.split("/").pop() === next;
    return old === next;
}

/**
 * The repository a grant names: the patterns of ArtifactRegistryRepositoryIamUpdaterProducer
 * (google-beta/services/artifactregistry/iam_artifact_registry_repository.go), long name first, with the
 * resource's own project and location filling what a short name leaves out.
 */
export function repositoryName(
    repository: string,
    defaults: { project?: string; location?: string },
): { project: string; location: string; repository: string } | { problem: string } {
    const parts = repository.split("/");
    let found: { project?: string; location?: string; repository: string };
    if (parts.length === 6 && parts[0] === "projects" && parts[2] === "locations" && parts[4] === "repositories") {
        found = { project: parts[1], location: parts[3], repository: parts[5] };
    } else if (parts.length === 3) found = { project: parts[0], location: parts[1], repository: parts[2] };
    else if (parts.length === 2) found = { location: parts[0], repository: parts[1] };
    else if (parts.length === 1) found = { repository: parts[0] };
    else return { problem: "must be projects/P/locations/L/repositories/R, P/L/R, L/R or R" };
    const project = found.project ?? defaults.project;
    const location = found.location ?? defaults.location;
    if (!project) return { problem: "names no project, and neither the resource nor the provider sets one" };
    if (!location) return { problem: "names no location, and neither the resource nor the provider sets one" };
    return { project, location, repository: found.repository };
}

/** jwksJsonDiffSuppress (google-beta/services/iambeta/resource_iam_workload_identity_pool_provider.go). */
export function sameJwks(old: string, next: string): boolean {
    if (old === "" || next === "") return old === next;
    try {
        return JSON.stringify(sortKeys(JSON.parse(old))) === JSON.stringify(sortKeys(JSON.parse(next)));
    } catch {
        return false;
    }
}

function sortKeys(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(
        Object.entries(value)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => [k, sortKeys(v)]),
    );
}

/**
 * Roles the API lets a policy grant on each kind of resource (the API answers 400 "Role ... is not
 * supported for this resource" otherwise). Predefined roles of Artifact Registry
 * (cloud.google.com/artifact-registry/docs/access-control#roles) and of service accounts
 * (cloud.google.com/iam/docs/service-account-permissions); custom roles are not modelled.
 */
export const grantableRoles = {
    repository: [
        "roles/artifactregistry.reader",
        "roles/artifactregistry.writer",
        "roles/artifactregistry.repoAdmin",
        "roles/artifactregistry.createOnPushWriter",
        "roles/artifactregistry.createOnPushRepoAdmin",
        "roles/artifactregistry.admin",
    ],
    serviceAccount: [
        "roles/iam.workloadIdentityUser",
        "roles/iam.serviceAccountTokenCreator",
        "roles/iam.serviceAccountUser",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.serviceAccountKeyAdmin",
        "roles/iam.serviceAccountOpenIdTokenCreator",
    ],
} as const;

/**
 * Roles holding `artifactregistry.repositories.downloadArtifacts`, the permission a pull needs
 * (cloud.google.com/artifact-registry/docs/access-control#permissions).
 */
export const pullRoles: readonly string[] = grantableRoles.repository;

/**
 * Roles holding `iam.serviceAccounts.getAccessToken`, which IAM Credentials `generateAccessToken`
 * needs on the impersonated account (cloud.google.com/iam/docs/service-account-permissions).
 */
export const tokenRoles: readonly string[] = ["roles/iam.serviceAccountTokenCreator", "roles/iam.workloadIdentityUser"];

/**
 * API-side limits of workload identity pools and providers (cloud.google.com/iam/docs/reference/rest/
 * v1/projects.locations.workloadIdentityPools and .providers): display names up to 32 characters,
 * descriptions up to 256.
 */
export function displayNameProblem(value: string): string | undefined {
    return value.length > 32 ? "cannot be longer than 32 characters" : undefined;
}

export function poolDescriptionProblem(value: string): string | undefined {
    return value.length > 256 ? "cannot be longer than 256 characters" : undefined;
}

/**
 * The API's checks of an OIDC provider (the same REST reference): the issuer is an https URL, and an
 * OIDC provider's attribute mapping must map `google.subject`. `jwks_json`, when given, is a JSON Web
 * Key Set.
 */
export function oidcProblem(oidc: { issuerUri?: unknown; jwksJson?: unknown }): string | undefined {
    if (typeof oidc.issuerUri !== "string" || !/^https:\/\/[^/]/.test(oidc.issuerUri)) {
        return "oidc.issuerUri must be an https URL";
    }
    if (oidc.jwksJson !== undefined && oidc.jwksJson !== "") {
        if (typeof oidc.jwksJson !== "string") return "oidc.jwksJson must be a string of JSON";
        try {
            const set = JSON.parse(oidc.jwksJson);
            if (!Array.isArray(set?.keys)) return "oidc.jwksJson must be a JSON Web Key Set ({keys: [...]})";
        } catch {
            return "oidc.jwksJson must be JSON";
        }
    }
    return undefined;
}

export function attributeMappingProblem(mapping: unknown): string | undefined {
    const subject = (mapping as Record<string, unknown> | undefined)?.["google.subject"];
    return typeof subject === "string" && subject !== ""
        ? undefined
        : "attributeMapping must map google.subject for an OIDC provider";
}
