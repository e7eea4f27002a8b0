import * as pulumi from "@pulumi/pulumi";
import { RepositoryIamMember } from "@pulumi/gcp/artifactregistry";
import { Account, Key } from "@pulumi/gcp/serviceaccount";
import { Secret } from "@pulumi/kubernetes/core/v1";
import { attachPullSecret } from "./attachment";
import { dockerConfigJson } from "./docker-config";
import { childNames } from "./names";
import {
    emailProblem,
    firstDuplicateIndex,
    namespaceNameProblem,
    objectNameProblem,
    projectIdProblem,
    registryHostProblem,
    repositoryIdProblem,
    repositoryLocationProblem,
    serviceAccountIdProblem,
} from "./rules";
import { check, checkInput, checkPlainList, invalid } from "./validate";

/** An Artifact Registry repository the credential must be able to pull from. */
export interface ArtifactRegistryRepository {
    /** The repository's location: `us`, `asia`, `europe` for the `gcr.io` hosts, or a region such as `asia-northeast1`. */
    location: string;
    /** The repository id: for `gcr.io`, `asia.gcr.io`, `eu.gcr.io`, `us.gcr.io` it is the host itself. */
    repository: string;
}

/** Where the credential comes from on Google Cloud. */
export interface GoogleCloudCredentialArgs {
    /** The project that holds the repositories (and the service account, when one is created). */
    project: pulumi.Input<string>;
    /** Create a service account with this id (6-30 characters). Give this or `serviceAccountEmail`, not both. */
    serviceAccountId?: pulumi.Input<string>;
    /** Use this existing service account. Give this or `serviceAccountId`, not both. */
    serviceAccountEmail?: pulumi.Input<string>;
    /**
     * Repositories that get a non-authoritative `roles/artifactregistry.reader` grant for the service
     * account. Default: none, which is only allowed with `serviceAccountEmail` (an account that can
     * already read what it needs); a created account needs at least one.
     */
    repositories?: ArtifactRegistryRepository[];
}

/** The arguments of a {@link RegistryPullSecret}. */
export interface RegistryPullSecretArgs {
    /**
     * The namespaces that get the Secret; at least one, each existing already. A plain list known
     * when the program runs: one Secret is declared per namespace and named after it.
     */
    namespaces: string[];
    /**
     * Registry hosts the credential is for, e.g. `gcr.io`, `asia.gcr.io`,
     * `asia-northeast1-docker.pkg.dev`: `host` or `host:port`, kubelet-style globs allowed
     * (`*.gcr.io`, which does not match `gcr.io` itself). At least one.
     */
    registries: pulumi.Input<pulumi.Input<string>[]>;
    /** The Secret's name in every namespace. Default: `regcred`. */
    secretName?: pulumi.Input<string>;
    /**
     * ServiceAccounts in each namespace whose `imagePullSecrets` get the Secret. Default: `["default"]`.
     * An empty list creates the Secrets only, for manifests that list `imagePullSecrets` themselves.
     */
    serviceAccounts?: string[];
    /** The Google Cloud service account, its repository grants and its key. */
    gcp: GoogleCloudCredentialArgs;
    /** Written into each docker config entry, like kubectl's `--docker-email`. Default: none. */
    email?: pulumi.Input<string>;
}

/**
 * Artifact Registry accepts `_json_key_base64` with the key file in base64, and the provider's
 * `privateKey` is exactly that: it goes in as it is, so nothing decodes or re-encodes key material.
 */
export const keyUsername = "_json_key_base64";

/** Least privilege for pulling (FACTS.md section 3). */
export const readerRole = "roles/artifactregistry.reader";

/**
 * A Google Cloud service-account key, made into a `kubernetes.io/dockerconfigjson` Secret in every
 * namespace and listed in the `imagePullSecrets` of the namespaces' ServiceAccounts.
 */
export class RegistryPullSecret extends pulumi.ComponentResource {
    /** The Secret's name in every namespace. */
    public readonly secretName: pulumi.Output<string>;
    /** The namespaces that hold the Secret. */
    public readonly namespaces: pulumi.Output<string[]>;
    /** The registry hosts the credential is written for. */
    public readonly registries: pulumi.Output<string[]>;
    /** The service account whose key the Secret holds. */
    public readonly serviceAccountEmail: pulumi.Output<string>;
    /** The key's resource name (`projects/P/serviceAccounts/E/keys/K`), not its material. */
    public readonly keyName: pulumi.Output<string>;
    /** The `.dockerconfigjson` document (a secret). */
    public readonly dockerConfigJson: pulumi.Output<string>;

    constructor(name: string, args: RegistryPullSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        const valid = validateArgs(args);
        super("registry-pull-secret:index:RegistryPullSecret", name, {}, opts);
        const { gcp } = valid;

        const account =
            gcp.serviceAccountId === undefined
                ? undefined
                : new Account(
                      childNames.serviceAccount(name),
                      {
                          project: gcp.project,
                          accountId: gcp.serviceAccountId,
                          displayName: "Image pulls",
                          description: `Pulls images for the Kubernetes Secret of Pulumi component ${name}.`,
                      },
                      { parent: this },
                  );
        const serviceAccountEmail = account ? account.email : pulumi.output(gcp.serviceAccountEmail as pulumi.Input<string>);
        const member = account ? account.member : pulumi.interpolate`serviceAccount:${serviceAccountEmail}`;

        const grants = gcp.repositories.map(
            ({ location, repository }) =>
                new RepositoryIamMember(
                    childNames.grant(name, location, repository),
                    { project: gcp.project, location, repository, role: readerRole, member },
                    { parent: this },
                ),
        );

        // The key waits for the grants so that no Secret ever holds a credential that cannot pull yet.
        const key = new Key(
            childNames.key(name),
            { serviceAccountId: account ? account.name : serviceAccountEmail },
            { parent: this, dependsOn: grants },
        );

        const dockerConfig = pulumi.secret(
            pulumi.all([valid.registries, key.privateKey, valid.email]).apply(([registries, password, email]) =>
                dockerConfigJson(registries.map((server) => ({ server, username: keyUsername, password, email }))),
            ),
        );
        const secretData = pulumi.secret(
            dockerConfig.apply((json) => ({ ".dockerconfigjson": Buffer.from(json, "utf8").toString("base64") })),
        );

        for (const namespace of valid.namespaces) {
            const secret = new Secret(
                childNames.secret(name, namespace),
                {
                    metadata: { name: valid.secretName, namespace },
                    type: "kubernetes.io/dockerconfigjson",
                    data: secretData,
                },
                { parent: this },
            );
            for (const serviceAccount of valid.serviceAccounts) {
                attachPullSecret(
                    childNames.attachment(name, namespace, serviceAccount),
                    { namespace, serviceAccount, secretName: secret.metadata.name },
                    { parent: this },
                );
            }
        }

        this.secretName = pulumi.output(valid.secretName);
        this.namespaces = pulumi.output(valid.namespaces);
        this.registries = pulumi.output(valid.registries);
        this.serviceAccountEmail = serviceAccountEmail;
        this.keyName = key.name;
        this.dockerConfigJson = dockerConfig;
        this.registerOutputs({
            secretName: this.secretName,
            namespaces: this.namespaces,
            registries: this.registries,
            serviceAccountEmail: this.serviceAccountEmail,
            keyName: this.keyName,
            dockerConfigJson: this.dockerConfigJson,
        });
    }
}

/** The args with defaults applied, every plain value checked and every later value wrapped in a check. */
interface ValidArgs {
    namespaces: string[];
    serviceAccounts: string[];
    registries: pulumi.Input<string[]>;
    secretName: pulumi.Input<string>;
    email: pulumi.Input<string | undefined>;
    gcp: {
        project: pulumi.Input<string>;
        serviceAccountId?: pulumi.Input<string>;
        serviceAccountEmail?: pulumi.Input<string>;
        repositories: ArtifactRegistryRepository[];
    };
}

/** Throws `InputPropertyError` for the first broken rule, before any resource is registered. */
function validateArgs(args: RegistryPullSecretArgs): ValidArgs {
    if (args === undefined || args === null || typeof args !== "object") throw invalid("args", "must be an object");
    const namespaces = checkList("namespaces", args.namespaces, namespaceNameProblem);
    if (namespaces.length === 0) throw invalid("namespaces", "must name at least one namespace");
    const serviceAccounts = checkList("serviceAccounts", args.serviceAccounts ?? ["default"], objectNameProblem);
    return {
        namespaces,
        serviceAccounts,
        registries: checkRegistries(args.registries),
        secretName: checkInput("secretName", args.secretName ?? "regcred", objectNameProblem),
        email: args.email === undefined ? undefined : checkInput("email", args.email, emailProblem),
        gcp: checkGoogleCloud(args.gcp),
    };
}

function checkList(path: string, value: unknown, rule: (value: string) => string | undefined): string[] {
    const list = checkPlainList(path, value);
    list.forEach((element, i) => check(`${path}[${i}]`, element, rule));
    const duplicate = firstDuplicateIndex(list);
    if (duplicate !== undefined) throw invalid(`${path}[${duplicate}]`, "repeats an earlier entry; each must be listed once");
    return list;
}

function checkRegistries(registries: pulumi.Input<pulumi.Input<string>[]>): pulumi.Input<string[]> {
    const checkKnown = (list: string[]) => {
        if (list.length === 0) throw invalid("registries", "must name at least one registry host");
        return checkList("registries", list, registryHostProblem);
    };
    if (registries === undefined) throw invalid("registries", "must name at least one registry host");
    const isPlain = Array.isArray(registries) && registries.every((host) => typeof host === "string");
    return isPlain ? checkKnown(registries) : pulumi.output(registries).apply(checkKnown);
}

function checkGoogleCloud(gcp: GoogleCloudCredentialArgs): ValidArgs["gcp"] {
    if (gcp === undefined || gcp === null || typeof gcp !== "object") {
        throw invalid("gcp", "must be an object with project and serviceAccountId or serviceAccountEmail");
    }
    if (gcp.project === undefined) throw invalid("gcp.project", "is required");
    const creates = gcp.serviceAccountId !== undefined;
    if (creates === (gcp.serviceAccountEmail !== undefined)) {
        throw invalid(
            "gcp.serviceAccountId",
            "or gcp.serviceAccountEmail must be given, not both: an id creates a service account, an email uses an existing one",
        );
    }
    const repositories = checkRepositories(gcp.repositories ?? []);
    if (creates && repositories.length === 0) {
        throw invalid(
            "gcp.repositories",
            "must name at least one repository when gcp.serviceAccountId creates the account: a new account can read nothing else",
        );
    }
    return {
        project: checkInput("gcp.project", gcp.project, projectIdProblem),
        serviceAccountId: creates ? checkInput("gcp.serviceAccountId", gcp.serviceAccountId!, serviceAccountIdProblem) : undefined,
        serviceAccountEmail: creates ? undefined : checkInput("gcp.serviceAccountEmail", gcp.serviceAccountEmail!, emailProblem),
        repositories,
    };
}

function checkRepositories(repositories: unknown): ArtifactRegistryRepository[] {
    const isPlain = Array.isArray(repositories) && repositories.every((r) => r !== null && typeof r === "object");
    if (!isPlain) throw invalid("gcp.repositories", "must be a plain list of { location, repository } known when the program runs");
    const checked = (repositories as ArtifactRegistryRepository[]).map((r, i) => ({
        location: check(`gcp.repositories[${i}].location`, r.location, repositoryLocationProblem),
        repository: check(`gcp.repositories[${i}].repository`, r.repository, repositoryIdProblem),
    }));
    const duplicate = firstDuplicateIndex(checked.map((r) => `${r.location}/${r.repository}`));
    if (duplicate !== undefined) {
        throw invalid(`gcp.repositories[${duplicate}]`, "repeats an earlier repository; each must be listed once");
    }
    return checked;
}
