/**
 * The Google Cloud resource types the provider double implements: every `gcp:` type the component
 * registers in any mode (test/doubles/google-cloud-double-types.test.ts derives that set from the component
 * and compares). Each type is a table of its properties, named and typed as the @pulumi/gcp 9.37.0
 * declarations in node_modules/@pulumi/gcp say (`*.d.ts`: Args for inputs, the class for outputs,
 * `additionalSecretOutputs` in `*.js` for secrets), with the Terraform schema's Required, Optional,
 * Computed, Default, ForceNew, Sensitive, ValidateFunc and DiffSuppressFunc of the file named on each
 * type (paths in hashicorp/terraform-provider-google-beta at v7.45.0, the version @pulumi/gcp 9.37.0
 * bridges: ./rules.ts `terraformProvider`); and what each call does to the state that stands for Google
 * (./google-apis.ts).
 *
 * SDK inputs the double does not implement (IAM conditions, key upload, AWS and SAML providers, pool
 * trust configs) are refused at Check with a message saying so, never accepted and ignored.
 */
import {
    accountName,
    addMember,
    audit,
    checkMemberExists,
    createKey,
    findAccount,
    GoogleApiError,
    markAccountDeleted,
    memberIn,
    notFound,
    projectOf,
    removeMember,
    type FoundAccount,
} from "./google-apis";
import { googleNowMs, propagateMemberChange } from "./propagation";
import {
    accountDescriptionProblem,
    accountIdProblem,
    attributeMappingProblem,
    displayNameProblem,
    grantableRoles,
    iamMemberProblem,
    normalizeIamMember,
    oidcProblem,
    poolDescriptionProblem,
    repositoryName,
    sameIamMember,
    sameJwks,
    sameRepository,
    serviceAccountFqn,
    serviceAccountLinkProblem,
    workloadIdentityIdProblem,
} from "./rules";
import { newServiceAccount, type GoogleCloud, type Policy } from "./state";

export type Props = Record<string, any>;

/** The provider's own configuration (`gcp:project`, `gcp:region`), used where a resource sets none. */
export interface ProviderConfig {
    project?: string;
    region?: string;
}

export interface PropertySpec {
    type: "string" | "boolean" | "stringMap" | "stringList" | "object";
    /** Whether and how a program sets it; absent: an output only (Terraform Computed). */
    input?: "required" | "optional";
    /** Google fills it when the program does not (Terraform Optional + Computed). */
    computed?: boolean;
    /** Changing it replaces the resource (Terraform ForceNew). */
    forceNew?: boolean;
    /** Filled in at Check when the program leaves it out (Terraform Default). */
    default?: unknown;
    /** An output Pulumi must keep secret (Terraform Sensitive; the SDK's additionalSecretOutputs). */
    secret?: boolean;
    /** The reason a known value is refused (Terraform ValidateFunc), or undefined. */
    problem?: (value: any) => string | undefined;
    /** Old and new values that are the same resource setting (Terraform DiffSuppressFunc). */
    same?: (old: any, next: any) => boolean;
    properties?: Record<string, PropertySpec>;
    /** In the SDK's Args but not implemented by the double: Check refuses any value. */
    notImplemented?: true;
}

export interface ResourceType {
    token: string;
    /** The Terraform resource pulumi-gcp bridges for this type, and the file that defines it. */
    terraform: string;
    /** How that file words an API error per operation (`creating`, ...), where the double follows it. */
    failures?: Record<string, string>;
    properties: Record<string, PropertySpec>;
    /** Rules across properties (Terraform ExactlyOneOf, API-side checks), on known inputs. */
    checkAll?(inputs: Props): { property: string; reason: string }[];
    /** Creates it in Google; returns its id and every output (inputs included). */
    create(google: GoogleCloud, inputs: Props, config: ProviderConfig): { id: string; outputs: Props };
    /** What exists now, or undefined when it is gone (Terraform's Read then clears the id). */
    read(google: GoogleCloud, id: string, state: Props): Props | undefined;
    /** Changes what an update may change in place; absent when every input is ForceNew. */
    update?(google: GoogleCloud, id: string, olds: Props, news: Props): Props;
    delete(google: GoogleCloud, id: string, state: Props): void;
}

/** Terraform's `deletion_policy` (google-beta/tpgresource/utils.go DeletionPolicySchemaEntry): DELETE, ABANDON or PREVENT. */
const deletionPolicy: PropertySpec = {
    type: "string",
    input: "optional",
    // Computed, no schema Default: DefaultProviderDeletionPolicy fills "DELETE" at plan time, not at Check.
    computed: true,
    problem: (v) => (["DELETE", "ABANDON", "PREVENT"].includes(v) ? undefined : "must be DELETE, ABANDON or PREVENT"),
};

/** The base schema of every `*_iam_member` (google-beta/tpgiamresource/resource_iam_member.go IamMemberBaseSchema). */
const iamMemberProperties: Record<string, PropertySpec> = {
    role: { type: "string", input: "required", forceNew: true },
    member: { type: "string", input: "required", forceNew: true, problem: iamMemberProblem, same: sameIamMember },
    condition: { type: "object", input: "optional", forceNew: true, notImplemented: true },
    etag: { type: "string" },
};

function providerProject(inputs: Props, config: ProviderConfig): string {
    const project = inputs.project ?? config.project;
    // tpgresource.GetProject: the resource's project, else the provider's.
    if (!project) throw new Error("project: required field is not set");
    return project;
}

function accountOrNotFound(google: GoogleCloud, name: string): FoundAccount {
    const found = findAccount(google, name);
    if (!found) throw notFound(`Service account ${name} does not exist.`);
    return found;
}

function roleProblem(role: string, on: keyof typeof grantableRoles): GoogleApiError | undefined {
    return (grantableRoles[on] as readonly string[]).includes(role)
        ? undefined
        : new GoogleApiError(400, `Role ${role} is not supported for this resource.`, "badRequest");
}

// ---------------------------------------------------------------------------------------------
// gcp:serviceaccount/account:Account: google_service_account,
// google-beta/services/resourcemanager/resource_google_service_account.go
// ---------------------------------------------------------------------------------------------
const account: ResourceType = {
    token: "gcp:serviceaccount/account:Account",
    terraform: "google_service_account (google-beta/services/resourcemanager/resource_google_service_account.go)",
    properties: {
        accountId: { type: "string", input: "required", forceNew: true, problem: accountIdProblem },
        project: { type: "string", input: "optional", computed: true, forceNew: true },
        displayName: { type: "string", input: "optional" },
        description: { type: "string", input: "optional", problem: accountDescriptionProblem },
        disabled: { type: "boolean", input: "optional", default: false },
        createIgnoreAlreadyExists: { type: "boolean", input: "optional" },
        deletionPolicy,
        email: { type: "string" },
        uniqueId: { type: "string" },
        name: { type: "string" },
        member: { type: "string" },
    },
    create(google, inputs, config) {
        const project = providerProject(inputs, config);
        const home = projectOf(google, project, "iam.serviceAccounts.create");
        const email = `${inputs.accountId}@${project}.iam.gserviceaccount.com`;
        if (home.serviceAccounts[email] && !inputs.createIgnoreAlreadyExists) {
            throw new GoogleApiError(
                409,
                `Service account ${inputs.accountId} already exists within project projects/${project}.`,
                "alreadyExists",
            );
        }
        // The create request carries displayName and description only: `disabled` is applied by a
        // later update, as resourceGoogleServiceAccountCreate does.
        home.serviceAccounts[email] ??= {
            ...newServiceAccount(inputs.displayName ?? ""),
            description: inputs.description ?? "",
        };
        const id = `projects/${project}/serviceAccounts/${email}`;
        audit(google, "google.iam.admin.v1.CreateServiceAccount", id);
        return { id, outputs: { ...inputs, ...this.read(google, id, inputs)! } };
    },
    read(google, id, state) {
        const found = findAccount(google, id);
        if (!found) return undefined;
        const { account: sa, email, projectId } = found;
        // populateResourceData: account_id from the email, member from it too.
        return {
            ...state,
            accountId: email.split("@")[0],
            project: projectId,
            email,
            uniqueId: sa.uniqueId,
            name: accountName(found),
            member: `serviceAccount:${email}`,
            displayName: sa.displayName,
            description: sa.description,
            disabled: sa.disabled,
            deletionPolicy: state.deletionPolicy ?? "DELETE",
        };
    },
    update(google, id, olds, news) {
        const found = accountOrNotFound(google, id);
        const sa = found.account;
        if (sa.displayName !== (news.displayName ?? "") || sa.description !== (news.description ?? "")) {
            sa.displayName = news.displayName ?? "";
            sa.description = news.description ?? "";
            audit(google, "google.iam.admin.v1.PatchServiceAccount", id);
        }
        if (sa.disabled !== Boolean(news.disabled)) {
            sa.disabled = Boolean(news.disabled);
            audit(google, `google.iam.admin.v1.${news.disabled ? "Disable" : "Enable"}ServiceAccount`, id);
        }
        return { ...olds, ...news, ...this.read(google, id, news)! };
    },
    delete(google, id) {
        const found = findAccount(google, id);
        if (!found) return; // a 404 is success (resourceGoogleServiceAccountDelete)
        // Deleting an account deletes its keys with it, and Google rewrites the bindings that name it.
        delete google.projects[found.projectId].serviceAccounts[found.email];
        markAccountDeleted(google, found.email, found.account.uniqueId);
        audit(google, "google.iam.admin.v1.DeleteServiceAccount", id);
    },
};

// ---------------------------------------------------------------------------------------------
// gcp:serviceaccount/key:Key: google_service_account_key,
// google-beta/services/resourcemanager/resource_google_service_account_key.go
// ---------------------------------------------------------------------------------------------
const keyId = (name: string) => /^(projects\/[^/]+\/serviceAccounts\/[^/]+)\/keys\/([^/]+)$/.exec(name);

const key: ResourceType = {
    token: "gcp:serviceaccount/key:Key",
    terraform:
        "google_service_account_key (google-beta/services/resourcemanager/resource_google_service_account_key.go)",
    // resourceGoogleServiceAccountKeyCreate: fmt.Errorf("Error creating service account key: %s", err).
    failures: { creating: "Error creating service account key" },
    properties: {
        serviceAccountId: { type: "string", input: "required", forceNew: true },
        keyAlgorithm: {
            type: "string",
            input: "optional",
            forceNew: true,
            default: "KEY_ALG_RSA_2048",
            problem: (v) =>
                ["KEY_ALG_UNSPECIFIED", "KEY_ALG_RSA_1024", "KEY_ALG_RSA_2048"].includes(v)
                    ? undefined
                    : "must be one of KEY_ALG_UNSPECIFIED, KEY_ALG_RSA_1024, KEY_ALG_RSA_2048",
        },
        privateKeyType: {
            type: "string",
            input: "optional",
            forceNew: true,
            default: "TYPE_GOOGLE_CREDENTIALS_FILE",
            // TYPE_PKCS12_FILE is valid for Terraform; the double makes JSON key files only.
            problem: (v) =>
                ["TYPE_UNSPECIFIED", "TYPE_GOOGLE_CREDENTIALS_FILE"].includes(v)
                    ? undefined
                    : "must be TYPE_GOOGLE_CREDENTIALS_FILE (the double does not make TYPE_PKCS12_FILE keys)",
        },
        publicKeyType: {
            type: "string",
            input: "optional",
            forceNew: true,
            default: "TYPE_X509_PEM_FILE",
            problem: (v) =>
                v === "TYPE_X509_PEM_FILE" ? undefined : "must be TYPE_X509_PEM_FILE (the only one the double serves)",
        },
        publicKeyData: { type: "string", input: "optional", forceNew: true, notImplemented: true },
        keepers: { type: "stringMap", input: "optional", forceNew: true },
        deletionPolicy,
        name: { type: "string" },
        publicKey: { type: "string" },
        privateKey: { type: "string", secret: true },
        validAfter: { type: "string" },
        validBefore: { type: "string" },
    },
    create(google, inputs, config) {
        const found = accountOrNotFound(google, serviceAccountFqn(inputs.serviceAccountId, config.project));
        // Made by Google's clock (../propagation.ts `googleNowMs`), as its propagation is judged by it.
        const created = createKey(google, found, inputs.keyAlgorithm, new Date(googleNowMs()));
        const id = `${accountName(found)}/keys/${created.keyId}`;
        audit(google, "google.iam.admin.v1.CreateServiceAccountKey", id);
        // Only the create response carries the private key; Read keeps what the state holds.
        return {
            id,
            outputs: {
                ...inputs,
                ...this.read(google, id, inputs)!,
                privateKey: created.privateKeyData,
                validAfter: created.key.validAfterTime,
                validBefore: created.key.validBeforeTime,
            },
        };
    },
    read(google, id, state) {
        const [, account, keyIdPart] = keyId(id) ?? [];
        const found = account ? findAccount(google, account) : undefined;
        const stored = found?.account.keys[keyIdPart];
        // A key of a deleted account is gone with it; the API answers 404 (or 403), read as gone.
        if (!found || !stored) return undefined;
        return {
            ...state,
            name: id,
            keyAlgorithm: stored.keyAlgorithm,
            publicKey: Buffer.from(stored.publicKeyCertificate, "utf8").toString("base64"),
            deletionPolicy: state.deletionPolicy ?? "DELETE",
        };
    },
    // Only deletion_policy changes in place, and only in the state (resourceGoogleServiceAccountKeyUpdate).
    update(_google, _id, olds, news) {
        return { ...olds, deletionPolicy: news.deletionPolicy };
    },
    delete(google, id) {
        const [, account, keyIdPart] = keyId(id) ?? [];
        const found = account ? findAccount(google, account) : undefined;
        if (!found?.account.keys[keyIdPart]) return; // 404 and 403 are success here
        delete found.account.keys[keyIdPart];
        audit(google, "google.iam.admin.v1.DeleteServiceAccountKey", id);
    },
};

// ---------------------------------------------------------------------------------------------
// IAM members (google-beta/tpgiamresource/resource_iam_member.go), on a repository and on a service account
// ---------------------------------------------------------------------------------------------

/** Where an IAM member lives: the policy it is in, the resource id and what the API must check. */
interface PolicyHolder {
    resourceId: string;
    policy: Policy;
    grantableOn: keyof typeof grantableRoles;
    setMethod: string;
}

/** A member added to or removed from a policy reaches the data plane after a drawn delay (../propagation.ts). */
function propagate(google: GoogleCloud, found: PolicyHolder, props: Props, granted: boolean): void {
    const change = { role: String(props.role), member: String(props.member), granted, on: found.resourceId };
    propagateMemberChange(google, found.policy, change, googleNowMs());
}

/** Create, read and delete of a `*_iam_member`, given how to find the policy from its inputs or state. */
function iamMember(
    holder: (google: GoogleCloud, props: Props, config: ProviderConfig) => PolicyHolder,
    resolved: (holder: PolicyHolder, props: Props) => Props,
): Pick<ResourceType, "create" | "read" | "delete"> {
    const idOf = (h: PolicyHolder, props: Props) => `${h.resourceId}/${props.role}/${normalizeIamMember(props.member)}`;
    const read = (google: GoogleCloud, state: Props, config: ProviderConfig = {}) => {
        let found: PolicyHolder;
        try {
            found = holder(google, state, config);
        } catch (error) {
            if (error instanceof GoogleApiError && error.code === 404) return undefined; // HandleNotFoundError
            throw error;
        }
        const member = memberIn(found.policy, state.role, state.member);
        if (member === undefined) return undefined;
        return { ...state, ...resolved(found, state), member, etag: found.policy.etag };
    };
    return {
        create(google, inputs, config) {
            const found = holder(google, inputs, config);
            const refused = roleProblem(inputs.role, found.grantableOn);
            if (refused) throw refused;
            checkMemberExists(google, inputs.member);
            const held = memberIn(found.policy, inputs.role, inputs.member) !== undefined;
            addMember(found.policy, inputs.role, inputs.member);
            if (!held) propagate(google, found, inputs, true);
            audit(google, found.setMethod, found.resourceId);
            const id = idOf(found, inputs);
            return { id, outputs: read(google, { ...inputs, ...resolved(found, inputs) }, config)! };
        },
        // The id only repeats what the state holds (resource, role, member).
        read: (google, _id, state) => read(google, state),
        delete(google, _id, state) {
            let found: PolicyHolder;
            try {
                found = holder(google, state, {});
            } catch (error) {
                if (error instanceof GoogleApiError && error.code === 404) return;
                throw error;
            }
            const held = memberIn(found.policy, state.role, state.member) !== undefined;
            removeMember(found.policy, state.role, state.member);
            if (held) propagate(google, found, state, false);
            audit(google, found.setMethod, found.resourceId);
        },
    };
}

// gcp:artifactregistry/repositoryIamMember:RepositoryIamMember: google_artifact_registry_repository_iam_member,
// google-beta/services/artifactregistry/iam_artifact_registry_repository.go
const repositoryIamMember: ResourceType = {
    token: "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    terraform:
        "google_artifact_registry_repository_iam_member (google-beta/services/artifactregistry/iam_artifact_registry_repository.go)",
    properties: {
        project: { type: "string", input: "optional", computed: true, forceNew: true },
        location: { type: "string", input: "optional", computed: true, forceNew: true },
        repository: { type: "string", input: "required", forceNew: true, same: sameRepository },
        ...iamMemberProperties,
    },
    ...iamMember(
        (google, props, config) => {
            const name = repositoryName(props.repository, {
                project: props.project ?? config.project,
                location: props.location ?? config.region,
            });
            if ("problem" in name) throw new Error(`repository ${name.problem}`);
            const resourceId = `projects/${name.project}/locations/${name.location}/repositories/${name.repository}`;
            const repository = google.projects[name.project]?.repositories[`${name.location}/${name.repository}`];
            if (!repository) {
                // GetResourceIamPolicy's wrapping of the API's 404.
                throw notFound();
            }
            return {
                resourceId,
                policy: repository.iamPolicy,
                grantableOn: "repository",
                setMethod: "google.devtools.artifactregistry.v1.ArtifactRegistry.SetIamPolicy",
            };
        },
        // ArtifactRegistryRepositoryIamUpdaterProducer sets project, location and the full repository name.
        (holder) => {
            const [, project, , location, , repository] = holder.resourceId.split("/");
            return {
                project,
                location,
                repository: `projects/${project}/locations/${location}/repositories/${repository}`,
            };
        },
    ),
};

// gcp:serviceaccount/iAMMember:IAMMember: google_service_account_iam_member,
// google-beta/services/resourcemanager/iam_service_account.go
const serviceAccountIamMember: ResourceType = {
    token: "gcp:serviceaccount/iAMMember:IAMMember",
    terraform: "google_service_account_iam_member (google-beta/services/resourcemanager/iam_service_account.go)",
    properties: {
        serviceAccountId: { type: "string", input: "required", forceNew: true, problem: serviceAccountLinkProblem },
        ...iamMemberProperties,
    },
    ...iamMember(
        (google, props) => {
            const found = accountOrNotFound(google, props.serviceAccountId);
            return {
                // GetResourceId is the service_account_id as given.
                resourceId: props.serviceAccountId,
                policy: found.account.iamPolicy,
                grantableOn: "serviceAccount",
                setMethod: "google.iam.admin.v1.SetIAMPolicy",
            };
        },
        () => ({}),
    ),
};

// ---------------------------------------------------------------------------------------------
// Workload identity pools and providers: google-beta/services/iambeta/resource_iam_workload_identity_pool.go
// and resource_iam_workload_identity_pool_provider.go. Deleting one soft-deletes it (state DELETED,
// kept 30 days, its id not reusable), and Read treats DELETED as gone (their Decoder functions).
// ---------------------------------------------------------------------------------------------
const thirtyDaysMs = 30 * 86_400_000;
const poolPath = /^projects\/([^/]+)\/locations\/global\/workloadIdentityPools\/([^/]+)(?:\/providers\/([^/]+))?$/;

function poolAt(google: GoogleCloud, id: string) {
    const [, projectId, poolId, providerId] = poolPath.exec(id) ?? [];
    const project = google.projects[projectId];
    const pool = project?.workloadIdentityPools[poolId];
    return {
        project,
        pool,
        provider: providerId ? pool?.providers[providerId] : undefined,
        projectId,
        poolId,
        providerId,
    };
}

/** What pools and providers both have (the API's WorkloadIdentityPool and WorkloadIdentityPoolProvider). */
const poolSettings: Record<string, PropertySpec> = {
    project: { type: "string", input: "optional", computed: true, forceNew: true },
    displayName: { type: "string", input: "optional", problem: displayNameProblem },
    description: { type: "string", input: "optional", problem: poolDescriptionProblem },
    disabled: { type: "boolean", input: "optional" },
};

/** Soft delete: DELETED for 30 days (their Delete calls the API's delete, which keeps them that long). */
function softDelete(
    google: GoogleCloud,
    entity: { state: string; expireTime?: string } | undefined,
    method: string,
    id: string,
) {
    if (!entity || entity.state === "DELETED") return;
    Object.assign(entity, { state: "DELETED", expireTime: new Date(Date.now() + thirtyDaysMs).toISOString() });
    audit(google, method, id);
}

const workloadIdentityPool: ResourceType = {
    token: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
    terraform:
        "google_iam_workload_identity_pool (google-beta/services/iambeta/resource_iam_workload_identity_pool.go)",
    properties: {
        workloadIdentityPoolId: {
            type: "string",
            input: "required",
            forceNew: true,
            problem: (v) => workloadIdentityIdProblem(v, "pool"),
        },
        ...poolSettings,
        mode: {
            type: "string",
            input: "optional",
            computed: true,
            problem: (v) =>
                ["FEDERATION_ONLY", "TRUST_DOMAIN", "SYSTEM_TRUST_DOMAIN", ""].includes(v)
                    ? undefined
                    : "must be FEDERATION_ONLY, TRUST_DOMAIN or SYSTEM_TRUST_DOMAIN",
        },
        attestationRules: { type: "object", input: "optional", notImplemented: true },
        inlineCertificateIssuanceConfig: { type: "object", input: "optional", notImplemented: true },
        inlineTrustConfig: { type: "object", input: "optional", notImplemented: true },
        deletionPolicy,
        name: { type: "string" },
        state: { type: "string" },
    },
    create(google, inputs, config) {
        const projectId = providerProject(inputs, config);
        const project = projectOf(google, projectId, "iam.workloadIdentityPools.create");
        const poolId = inputs.workloadIdentityPoolId;
        // A soft-deleted pool still holds its id for 30 days.
        if (project.workloadIdentityPools[poolId]) {
            throw new GoogleApiError(409, "Requested entity already exists", "alreadyExists");
        }
        project.workloadIdentityPools[poolId] = {
            displayName: inputs.displayName ?? "",
            description: inputs.description ?? "",
            disabled: inputs.disabled ?? false,
            mode: inputs.mode || "FEDERATION_ONLY",
            state: "ACTIVE",
            providers: {},
        };
        const id = `projects/${projectId}/locations/global/workloadIdentityPools/${poolId}`;
        audit(google, "google.iam.v1.WorkloadIdentityPools.CreateWorkloadIdentityPool", id);
        return { id, outputs: this.read(google, id, { ...inputs, project: projectId })! };
    },
    read(google, id, state) {
        const { project, pool, projectId, poolId } = poolAt(google, id);
        if (!pool || pool.state === "DELETED") return undefined;
        return {
            ...state,
            project: projectId,
            workloadIdentityPoolId: poolId,
            displayName: pool.displayName,
            description: pool.description,
            disabled: pool.disabled,
            mode: pool.mode,
            // The API names pools by project number.
            name: `projects/${project.number}/locations/global/workloadIdentityPools/${poolId}`,
            state: pool.state,
            deletionPolicy: state.deletionPolicy ?? "DELETE",
        };
    },
    update(google, id, olds, news) {
        const { pool } = poolAt(google, id);
        if (!pool || pool.state === "DELETED") throw notFound();
        Object.assign(pool, {
            displayName: news.displayName ?? "",
            description: news.description ?? "",
            disabled: news.disabled ?? false,
        });
        audit(google, "google.iam.v1.WorkloadIdentityPools.UpdateWorkloadIdentityPool", id);
        return this.read(google, id, { ...olds, ...news })!;
    },
    delete(google, id) {
        softDelete(
            google,
            poolAt(google, id).pool,
            "google.iam.v1.WorkloadIdentityPools.DeleteWorkloadIdentityPool",
            id,
        );
    },
};

const oidcProperties: Record<string, PropertySpec> = {
    issuerUri: { type: "string", input: "required" },
    allowedAudiences: { type: "stringList", input: "optional" },
    jwksJson: { type: "string", input: "optional", same: sameJwks },
};

const workloadIdentityPoolProvider: ResourceType = {
    token: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
    terraform:
        "google_iam_workload_identity_pool_provider (google-beta/services/iambeta/resource_iam_workload_identity_pool_provider.go)",
    properties: {
        workloadIdentityPoolId: { type: "string", input: "required", forceNew: true },
        workloadIdentityPoolProviderId: {
            type: "string",
            input: "required",
            forceNew: true,
            problem: (v) => workloadIdentityIdProblem(v, "provider"),
        },
        ...poolSettings,
        attributeMapping: { type: "stringMap", input: "optional" },
        attributeCondition: { type: "string", input: "optional" },
        oidc: { type: "object", input: "optional", properties: oidcProperties },
        aws: { type: "object", input: "optional", notImplemented: true },
        saml: { type: "object", input: "optional", notImplemented: true },
        x509: { type: "object", input: "optional", notImplemented: true },
        deletionPolicy,
        name: { type: "string" },
        state: { type: "string" },
    },
    checkAll(inputs) {
        // ExactlyOneOf aws, oidc, saml, x509 (all four in @pulumi/gcp 9.37.0's Args); only oidc is implemented.
        if (inputs.oidc === undefined) {
            return [{ property: "oidc", reason: "exactly one of aws, oidc, saml, x509 must be specified" }];
        }
        return [
            ...[oidcProblem(inputs.oidc)].filter((r) => r).map((reason) => ({ property: "oidc", reason: reason! })),
            ...[attributeMappingProblem(inputs.attributeMapping)]
                .filter((r) => r)
                .map((reason) => ({ property: "attributeMapping", reason: reason! })),
        ];
    },
    create(google, inputs, config) {
        const projectId = providerProject(inputs, config);
        projectOf(google, projectId, "iam.workloadIdentityPoolProviders.create");
        const poolId = inputs.workloadIdentityPoolId;
        const { pool } = poolAt(google, `projects/${projectId}/locations/global/workloadIdentityPools/${poolId}`);
        if (!pool || pool.state === "DELETED") throw notFound();
        const providerId = inputs.workloadIdentityPoolProviderId;
        if (pool.providers[providerId])
            throw new GoogleApiError(409, "Requested entity already exists", "alreadyExists");
        pool.providers[providerId] = providerFrom(inputs);
        const id = `projects/${projectId}/locations/global/workloadIdentityPools/${poolId}/providers/${providerId}`;
        audit(google, "google.iam.v1.WorkloadIdentityPools.CreateWorkloadIdentityPoolProvider", id);
        return { id, outputs: this.read(google, id, { ...inputs, project: projectId })! };
    },
    read(google, id, state) {
        const { project, provider, projectId, poolId, providerId } = poolAt(google, id);
        if (!provider || provider.state === "DELETED") return undefined;
        return {
            ...state,
            project: projectId,
            workloadIdentityPoolId: poolId,
            workloadIdentityPoolProviderId: providerId,
            displayName: provider.displayName,
            description: provider.description,
            disabled: provider.disabled,
            attributeMapping: provider.attributeMapping,
            attributeCondition: provider.attributeCondition,
            oidc: {
                issuerUri: provider.oidc.issuerUri,
                allowedAudiences: provider.oidc.allowedAudiences,
                jwksJson: provider.oidc.jwksJson,
            },
            name: `projects/${project.number}/locations/global/workloadIdentityPools/${poolId}/providers/${providerId}`,
            state: provider.state,
            deletionPolicy: state.deletionPolicy ?? "DELETE",
        };
    },
    update(google, id, olds, news) {
        const { pool, providerId } = poolAt(google, id);
        if (!pool?.providers[providerId] || pool.providers[providerId].state === "DELETED") throw notFound();
        pool.providers[providerId] = providerFrom(news);
        audit(google, "google.iam.v1.WorkloadIdentityPools.UpdateWorkloadIdentityPoolProvider", id);
        return this.read(google, id, { ...olds, ...news })!;
    },
    delete(google, id) {
        const { provider } = poolAt(google, id);
        softDelete(google, provider, "google.iam.v1.WorkloadIdentityPools.DeleteWorkloadIdentityPoolProvider", id);
    },
};

function providerFrom(inputs: Props) {
    return {
        displayName: inputs.displayName ?? "",
        description: inputs.description ?? "",
        disabled: inputs.disabled ?? false,
        attributeMapping: inputs.attributeMapping ?? {},
        attributeCondition: inputs.attributeCondition ?? "",
        oidc: {
            issuerUri: inputs.oidc.issuerUri,
            allowedAudiences: inputs.oidc.allowedAudiences ?? [],
            jwksJson: inputs.oidc.jwksJson ?? "",
        },
        state: "ACTIVE" as const,
    };
}

/** Every type the double serves, by token. */
export const resourceTypes: Record<string, ResourceType> = Object.fromEntries(
    [
        account,
        key,
        repositoryIamMember,
        serviceAccountIamMember,
        workloadIdentityPool,
        workloadIdentityPoolProvider,
    ].map((type) => [type.token, type]),
);
