/**
 * The arguments parsed once, top to bottom, into one typed description ({@link ParsedArgs}): defaults
 * applied, every plain value checked, every value known only later wrapped in the same check (run in
 * `apply`, with the same message; validate.ts `whenKnown`), and the credential narrowed to one
 * {@link ParsedCredential} per way of making it. The first broken rule throws
 * `InputPropertyError` naming the property, before any resource is registered. The declaring code
 * (credential/, keyless/, attachment/, claim/, refresher/ and the component) takes only this
 * description, never the raw args. The rules themselves are pure functions over values
 * (rules/rules.ts, credential/rotation.ts, credential/service-account-key.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import {
    AttachMode,
    CredentialKind,
    type ArtifactRegistryRepository,
    type GoogleCloudCredentialArgs,
    type ReadinessArgs,
    type RegistryCredentialsArgs,
    type RegistryPullSecretArgs,
} from "./args";
import { keyRotationDaysProblem, keyVersionProblem } from "./credential/rotation";
import {
    readServiceAccountKey,
    type ServiceAccountKey,
    type ServiceAccountKeyIdentity,
} from "./credential/service-account-key";
import { defaultRefresherNamespace, federatedSubject } from "./names";
import { defaultReadinessTimeoutSeconds, mirroredHostProblem, readinessTimeoutProblem } from "./rules/readiness";
import {
    containerImageProblem,
    emailProblem,
    firstDuplicateIndex,
    issuerUriProblem,
    jwksJsonProblem,
    namespaceNameProblem,
    objectNameProblem,
    projectIdProblem,
    projectNumberProblem,
    registryHostProblem,
    registryPasswordProblem,
    registryUsernameProblem,
    repositoryIdProblem,
    repositoryLocationProblem,
    serviceAccountIdProblem,
    workloadIdentityIdProblem,
} from "./rules/rules";
import {
    check,
    checkChoice,
    checkInput,
    checkNumberInput,
    checkPlainList,
    invalid,
    whenKnown,
    type Rule,
} from "./validate";

/** The refresher's image when `gcp.refresher.image` is left out: the official Node.js LTS image, by tag. */
export const defaultRefresherImage = "node:24-alpine";

/** The args, parsed: what the component declares, and nothing left to check but the cluster connection. */
export interface ParsedArgs {
    /** The namespaces that get the Secret; `[]` with `"gkeNode"`. */
    namespaces: string[];
    /** The ServiceAccounts in each namespace whose `imagePullSecrets` list the Secret. */
    serviceAccounts: string[];
    /** The registry hosts; `[]` with `"gkeNode"`. */
    registries: pulumi.Input<string[]>;
    secretName: pulumi.Input<string>;
    email: pulumi.Input<string | undefined>;
    credential: ParsedCredential;
    attachMode: AttachMode;
    kubeconfig?: pulumi.Input<string>;
    /** Only ever true with a credential Pulumi writes (`"createKey"`, `"existingKey"`, `"credentials"`) and `"merge"`. */
    takeOver: boolean;
    readiness: ParsedReadiness;
}

/**
 * `readiness`, checked: off (`turnedOff` when the user said so, rather than the credential's default),
 * or how long to wait and which listed hosts mirror which Google host.
 */
export type ParsedReadiness =
    | { wait: false; turnedOff: boolean }
    | { wait: true; timeoutSeconds: number; mirrorOf: pulumi.Input<Record<string, string>> };

/** The project, its repositories and (when one is used) an existing service account. */
export interface GoogleCloudProject {
    project: pulumi.Input<string>;
    repositories: ArtifactRegistryRepository[];
    serviceAccountEmail?: pulumi.Input<string>;
}

/** `gcp` with a key the component creates (and rotates), for a new or an existing service account. */
export interface CreateKeyCredential {
    mode: "createKey";
    gcp: GoogleCloudProject & {
        serviceAccountId?: pulumi.Input<string>;
        keyRotationDays?: pulumi.Input<number>;
        keyVersion?: pulumi.Input<number>;
    };
}

/** `gcp.existingKey`: a key file the user already has, read once. */
export interface ExistingKeyCredential {
    mode: "existingKey";
    gcp: GoogleCloudProject & {
        /** The key file, read and checked; a secret. */
        existingKey: pulumi.Output<ServiceAccountKey>;
        /** Its names (account, key id), not material: not a secret, so grants, previews and outputs show them. */
        identity: pulumi.Output<ServiceAccountKeyIdentity>;
        /** The key's own account (`client_email`), checked against `gcp.serviceAccountEmail` when given. */
        serviceAccountEmail: pulumi.Output<string>;
    };
}

/** `credentials`: any registry's username and password. */
export interface UsernamePasswordCredential {
    mode: "credentials";
    username: pulumi.Input<string>;
    /** Always a secret. */
    password: pulumi.Output<string>;
}

/** `gcp.credential: "gkeNode"`: grants to the node pool's service account, nothing in the cluster. */
export interface GkeNodeCredential {
    mode: "gkeNode";
    gcp: GoogleCloudProject & { serviceAccountEmail: pulumi.Input<string> };
}

/** `gcp.federation`, checked. */
export interface ParsedFederation {
    poolId: string;
    providerId: string;
    existing: boolean;
    issuerUri?: pulumi.Input<string>;
    jwksJson?: pulumi.Input<string>;
}

/** `gcp.credential: "accessToken"`: a refresher in the cluster writes short-lived tokens. */
export interface AccessTokenCredential {
    mode: "accessToken";
    gcp: GoogleCloudProject & {
        projectNumber: pulumi.Input<string>;
        federation?: ParsedFederation;
        refresher: { namespace: string; image: pulumi.Input<string> };
    };
}

/** The credential, parsed: exactly one of five ways, told apart by `mode`. */
export type ParsedCredential =
    | CreateKeyCredential
    | ExistingKeyCredential
    | UsernamePasswordCredential
    | GkeNodeCredential
    | AccessTokenCredential;

/** The credentials whose material Pulumi itself holds and writes into the Secrets. */
export type StaticCredential = CreateKeyCredential | ExistingKeyCredential | UsernamePasswordCredential;

/**
 * Throws `InputPropertyError` for the first broken rule, before any resource is registered.
 * `component` is the component's name (it names the token refresher's default namespace).
 */
export function parseArgs(component: string, args: RegistryPullSecretArgs): ParsedArgs {
    if (args === undefined || args === null || typeof args !== "object") throw invalid("args", "must be an object");
    // "gkeNode" declares nothing in the cluster: namespaces and registries would do nothing there.
    const nodeAccessOnly = typeof args.gcp === "object" && args.gcp?.credential === "gkeNode";
    const namespaces = nodeAccessOnly
        ? checkNotForNodeAccess("namespaces", args.namespaces, "no Secret is declared in any namespace")
        : checkRequiredList("namespaces", args.namespaces, namespaceNameProblem, "namespace to hold the Secret");
    const serviceAccounts = checkList("serviceAccounts", args.serviceAccounts ?? ["default"], objectNameProblem);
    const registries = nodeAccessOnly
        ? checkNotForNodeAccess("registries", args.registries, "no docker config is written for any registry")
        : checkRegistries(args.registries);
    const secretName = checkInput("secretName", args.secretName ?? "regcred", objectNameProblem);
    const email = args.email === undefined ? undefined : checkInput("email", args.email, emailProblem);
    const credential = parseCredential(args, component);
    const attachMode = checkChoice("attachMode", args.attachMode, Object.values(AttachMode), AttachMode.merge);
    if (credential.mode === "accessToken" && namespaces.includes(credential.gcp.refresher.namespace)) {
        throw invalid(
            "gcp.refresher.namespace",
            `must not be one of namespaces ("${credential.gcp.refresher.namespace}"): the component creates and deletes the refresher's namespace, and whoever may create pods or edit ConfigMaps there holds the refresher's Google identity and every pull Secret`,
        );
    }
    return {
        namespaces,
        serviceAccounts,
        registries,
        secretName,
        email,
        credential,
        attachMode,
        kubeconfig: args.kubeconfig,
        takeOver: checkTakeOver(args.takeOver, credential, attachMode),
        readiness: parseReadiness(args.readiness, credential, registries),
    };
}

/**
 * `readiness`: for the credentials that reach the Secrets: the ones Pulumi writes, and the tokens of
 * the `"accessToken"` refresher, which proves its first token the same way before it writes one.
 * `"gkeNode"` writes none. Left out, a Google credential (a key, created or existing, or the
 * refresher's tokens) waits, since Google applies grants and new keys minutes late; `credentials` do
 * not: a registry password usually works at once, and the deployer often cannot reach a private
 * registry at all.
 */
function parseReadiness(
    value: ReadinessArgs | undefined,
    credential: ParsedCredential,
    registries: pulumi.Input<string[]>,
): ParsedReadiness {
    if (value === undefined) {
        return credential.mode !== "gkeNode" && credential.mode !== "credentials"
            ? { wait: true, timeoutSeconds: defaultReadinessTimeoutSeconds, mirrorOf: {} }
            : { wait: false, turnedOff: false };
    }
    if (credential.mode === "gkeNode") {
        throw invalid(
            "readiness",
            'cannot be given with gcp.credential "gkeNode": the gate proves a credential that reaches the Secrets, and gkeNode writes none',
        );
    }
    if (value === null || typeof value !== "object") {
        throw invalid("readiness", "must be an object: wait, timeoutSeconds, mirrorOf");
    }
    const wait = value.wait ?? true;
    if (typeof wait !== "boolean") {
        throw invalid("readiness.wait", "must be true or false, as a plain boolean known when the program runs");
    }
    if (!wait) {
        const given = (["timeoutSeconds", "mirrorOf"] as const).find((field) => value[field] !== undefined);
        if (given !== undefined)
            throw invalid(`readiness.${given}`, "cannot be given with readiness.wait false: nothing waits");
        return { wait: false, turnedOff: true };
    }
    const timeoutSeconds = value.timeoutSeconds ?? defaultReadinessTimeoutSeconds;
    const timeoutProblem = readinessTimeoutProblem(timeoutSeconds);
    if (timeoutProblem !== undefined) throw invalid("readiness.timeoutSeconds", timeoutProblem);
    const mirrorOf = value.mirrorOf ?? {};
    if (mirrorOf === null || typeof mirrorOf !== "object" || Array.isArray(mirrorOf)) {
        throw invalid(
            "readiness.mirrorOf",
            "must be an object from a listed registry host to the Artifact Registry host it mirrors",
        );
    }
    for (const [mirror, google] of Object.entries(mirrorOf)) {
        check(`readiness.mirrorOf["${mirror}"]`, google, mirroredHostProblem);
    }
    const checked = whenKnown(registries, (listed) => {
        const unlisted = Object.keys(mirrorOf).find((mirror) => !listed.includes(mirror));
        if (unlisted !== undefined) {
            throw invalid(`readiness.mirrorOf["${unlisted}"]`, "must name a host listed in registries");
        }
        return mirrorOf;
    });
    return { wait: true, timeoutSeconds, mirrorOf: checked };
}

/** How the component reaches the cluster, decided once its resolved Kubernetes provider is known. */
export interface ClusterReach {
    /** A Kubernetes provider reaches the component (its `provider`, `providers` or a parent's): kept. */
    explicitProvider: boolean;
    /** Whether the Secrets' claims are declared: they read the cluster through kubeconfig or the stack's connection. */
    claims: boolean;
}

/**
 * The rules on `kubeconfig` that depend on whether a Kubernetes provider reaches the component (known
 * only after `super()`, before any child is registered). "merge" attachments, the refresher's Secrets
 * and the claims reach a cluster only through `kubeconfig` (or the stack's connection), not through a
 * provider resource: with an explicit provider they need `kubeconfig` to reach the same cluster.
 * Claims (components/claim/secret-claim.ts) are then left out, unless `takeOver` needs them.
 */
export function parseClusterReach(parsed: ParsedArgs, explicitProvider: boolean): ClusterReach {
    if (!explicitProvider || parsed.kubeconfig !== undefined) return { explicitProvider, claims: true };
    // The refresher's Secrets, like "merge" entries, reach the cluster through kubeconfig alone.
    const declaresEntries =
        (parsed.attachMode === "merge" && parsed.serviceAccounts.length > 0) ||
        parsed.credential.mode === "accessToken";
    if (declaresEntries) {
        throw invalid(
            "kubeconfig",
            'must be given when a Kubernetes provider reaches the component (its provider, providers or a parent\'s): the Secrets go to that provider\'s cluster, while "merge" attachments reach a cluster only through kubeconfig and would otherwise use the stack\'s default one; pass the kubeconfig the provider was made from (e.g. kubeconfig: cluster.kubeconfig), or use attachMode "patch"',
        );
    }
    if (parsed.takeOver) {
        throw invalid(
            "kubeconfig",
            "must be given with takeOver when a Kubernetes provider reaches the component (its provider, providers or a parent's): what is taken over is read through kubeconfig; pass the kubeconfig the provider was made from",
        );
    }
    return { explicitProvider, claims: false };
}

/**
 * `takeOver` is a plain boolean (it decides what the Secrets' claims may do), for the Secrets Pulumi
 * writes: the refresher's Secrets (`"accessToken"`) are created by their own provider, `"gkeNode"`
 * declares none, and a `"patch"` attachment shares the recipe's list with `kubectl-patch` instead of
 * taking the entry over, so destroy would not remove it.
 */
function checkTakeOver(value: unknown, credential: ParsedCredential, attachMode: AttachMode): boolean {
    if (value === undefined || value === false) return false;
    if (value !== true)
        throw invalid("takeOver", "must be true or false, as a plain boolean known when the program runs");
    if (credential.mode === "gkeNode" || credential.mode === "accessToken") {
        throw invalid(
            "takeOver",
            `cannot be used with gcp.credential "${credential.mode}": it takes over Secrets that Pulumi writes (gcp.credential "key", or credentials); ${credential.mode === "gkeNode" ? "gkeNode declares no Secret" : "the refresher's Secrets are never taken over"}. Delete the kubectl recipe's Secret first (docs/takeover.md#from-the-kubectl-recipe)`,
        );
    }
    if (attachMode === AttachMode.patch) {
        throw invalid(
            "takeOver",
            'cannot be used with attachMode "patch": the recipe\'s list stays shared with kubectl, so destroy would not remove the entry; use attachMode "merge" (the default)',
        );
    }
    return true;
}

/** `gcp.credential: "gkeNode"` takes no namespaces and no registries: absent or empty, else refused. */
function checkNotForNodeAccess(path: string, value: unknown, what: string): [] {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) return [];
    throw invalid(
        path,
        `cannot be given with gcp.credential "gkeNode": the nodes pull with their own service account, so ${what}; leave ${path} out (every pod on those nodes can pull from the granted repositories)`,
    );
}

/** A list that must name at least one `what`, except with "gkeNode" (see {@link checkNotForNodeAccess}). */
function checkRequiredList(path: string, value: unknown, rule: Rule, what: string): string[] {
    const onlyNodeAccess = '(only gcp.credential "gkeNode" takes none)';
    if (value === undefined) throw invalid(path, `is required: at least one ${what}; it is not set ${onlyNodeAccess}`);
    const list = checkList(path, value, rule);
    if (list.length === 0) throw invalid(path, `must name at least one ${what}; it is empty ${onlyNodeAccess}`);
    return list;
}

function checkList(path: string, value: unknown, rule: Rule): string[] {
    const list = checkPlainList(path, value);
    list.forEach((element, i) => check(`${path}[${i}]`, element, rule));
    const duplicate = firstDuplicateIndex(list);
    if (duplicate !== undefined)
        throw invalid(`${path}[${duplicate}]`, "repeats an earlier entry; each must be listed once");
    return list;
}

function checkRegistries(registries: pulumi.Input<pulumi.Input<string>[]> | undefined): pulumi.Input<string[]> {
    const what = "registry host to write the credential for";
    const checkKnown = (list: unknown) => checkRequiredList("registries", list, registryHostProblem, what);
    const isPlain =
        registries === undefined || (Array.isArray(registries) && registries.every((host) => typeof host === "string"));
    return isPlain ? checkKnown(registries) : pulumi.output(registries).apply(checkKnown);
}

/** Exactly one of `gcp` and `credentials`, given and valid. */
function parseCredential(
    args: { gcp?: GoogleCloudCredentialArgs; credentials?: RegistryCredentialsArgs },
    component: string,
): ParsedCredential {
    const hasGcp = args.gcp !== undefined && args.gcp !== null;
    const hasCredentials = args.credentials !== undefined && args.credentials !== null;
    if (!hasGcp && !hasCredentials) {
        throw invalid(
            "gcp",
            "or credentials: exactly one is required; neither is set (gcp for a Google Cloud credential: a service-account key, the GKE node pool's account or short-lived tokens; credentials for a username and password of any registry)",
        );
    }
    if (hasGcp && hasCredentials) {
        throw invalid("credentials", "or gcp: exactly one is required; both are set");
    }
    return hasGcp ? parseGoogleCloud(args.gcp!, component) : parseUsernamePassword(args.credentials!);
}

function parseUsernamePassword(credentials: RegistryCredentialsArgs): UsernamePasswordCredential {
    if (typeof credentials !== "object") throw invalid("credentials", "must be an object with username and password");
    if (credentials.username === undefined) throw invalid("credentials.username", "is required; it is not set");
    if (credentials.password === undefined) throw invalid("credentials.password", "is required; it is not set");
    return {
        mode: "credentials",
        username: checkInput("credentials.username", credentials.username, registryUsernameProblem),
        password: pulumi.secret(checkInput("credentials.password", credentials.password, registryPasswordProblem)),
    };
}

const keyArgs = ["serviceAccountId", "existingKey", "keyRotationDays", "keyVersion"] as const;
const accessTokenArgs = ["projectNumber", "federation", "refresher"] as const;

/** The first of `fields` that is given, or `undefined`. */
function firstGiven(gcp: GoogleCloudCredentialArgs, fields: readonly (keyof GoogleCloudCredentialArgs)[]) {
    return fields.find((field) => gcp[field] !== undefined);
}

function parseGoogleCloud(gcp: GoogleCloudCredentialArgs, component: string): ParsedCredential {
    if (typeof gcp !== "object") {
        throw invalid("gcp", "must be an object: project, and how the credential is made (see gcp.credential)");
    }
    if (gcp.project === undefined) {
        throw invalid("gcp.project", "is required: the project that holds the repositories; it is not set");
    }
    const kind = checkChoice("gcp.credential", gcp.credential, Object.values(CredentialKind), CredentialKind.key);
    if (kind === "gkeNode") return parseGkeNode(gcp);
    if (kind === "accessToken") return parseAccessToken(gcp, component);
    const keylessOnly = firstGiven(gcp, accessTokenArgs);
    if (keylessOnly !== undefined) throw invalid(`gcp.${keylessOnly}`, 'is only for gcp.credential "accessToken"');
    return gcp.existingKey !== undefined ? parseExistingKey(gcp, gcp.existingKey) : parseCreateKey(gcp);
}

function parseExistingKey(gcp: GoogleCloudCredentialArgs, existingKey: pulumi.Input<string>): ExistingKeyCredential {
    const createOnly = (["serviceAccountId", "keyRotationDays", "keyVersion"] as const).find(
        (field) => gcp[field] !== undefined,
    );
    if (createOnly !== undefined) {
        throw invalid(
            `gcp.${createOnly}`,
            "cannot be given with gcp.existingKey: that key already exists and belongs to its own service account; the component creates no account and no key, and whoever issued the key rotates it",
        );
    }
    const repositories = checkRepositories(gcp.repositories ?? []);
    const project = checkInput("gcp.project", gcp.project, projectIdProblem);
    const givenEmail =
        gcp.serviceAccountEmail === undefined
            ? undefined
            : checkInput("gcp.serviceAccountEmail", gcp.serviceAccountEmail, emailProblem);
    // Read once: checked before anything registers when known, and the parsed key is what the grants,
    // the outputs and the Secrets use.
    const key = pulumi.secret(
        pulumi.output(
            whenKnown(existingKey, (text) => {
                const read = readServiceAccountKey(text);
                if ("problem" in read) throw invalid("gcp.existingKey", read.problem);
                return read;
            }),
        ),
    );
    // The account's email and the key's id are names, not material: they leave the secret so that
    // grants, previews and the outputs can show them.
    const identity = pulumi.unsecret(key.apply((read) => read.identity));
    const serviceAccountEmail = pulumi.all([identity, givenEmail]).apply(([{ clientEmail }, email]) => {
        if (email !== undefined && email !== clientEmail) {
            throw invalid(
                "gcp.serviceAccountEmail",
                "must be the service account of gcp.existingKey (its client_email), or be left out",
            );
        }
        return clientEmail;
    });
    return { mode: "existingKey", gcp: { project, repositories, existingKey: key, identity, serviceAccountEmail } };
}

function parseCreateKey(gcp: GoogleCloudCredentialArgs): CreateKeyCredential {
    const creates = gcp.serviceAccountId !== undefined;
    if (creates === (gcp.serviceAccountEmail !== undefined)) {
        throw invalid(
            "gcp.serviceAccountId",
            `or gcp.serviceAccountEmail: exactly one is required; ${creates ? "both are" : "neither is"} set (an id creates a service account, an email uses an existing one; or give gcp.existingKey, or pick a keyless gcp.credential)`,
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
        mode: "createKey",
        gcp: {
            project: checkInput("gcp.project", gcp.project, projectIdProblem),
            repositories,
            serviceAccountId: creates
                ? checkInput("gcp.serviceAccountId", gcp.serviceAccountId!, serviceAccountIdProblem)
                : undefined,
            serviceAccountEmail: creates
                ? undefined
                : checkInput("gcp.serviceAccountEmail", gcp.serviceAccountEmail!, emailProblem),
            keyRotationDays:
                gcp.keyRotationDays === undefined
                    ? undefined
                    : checkNumberInput("gcp.keyRotationDays", gcp.keyRotationDays, keyRotationDaysProblem),
            keyVersion:
                gcp.keyVersion === undefined
                    ? undefined
                    : checkNumberInput("gcp.keyVersion", gcp.keyVersion, keyVersionProblem),
        },
    };
}

function parseGkeNode(gcp: GoogleCloudCredentialArgs): GkeNodeCredential {
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
        mode: "gkeNode",
        gcp: {
            project: checkInput("gcp.project", gcp.project, projectIdProblem),
            repositories,
            serviceAccountEmail: checkInput("gcp.serviceAccountEmail", gcp.serviceAccountEmail, emailProblem),
        },
    };
}

/**
 * `google.subject` may hold at most 127 bytes (IAM `workloadIdentityPools.providers`
 * `attributeMapping`); ours is `PROVIDER:system:serviceaccount:NAMESPACE:token-refresher`.
 */
const maxSubjectLength = 127;

/**
 * `component` (the component's name) names the default refresher namespace, with the stack and
 * project (components/names.ts `defaultRefresherNamespace`).
 */
function parseAccessToken(gcp: GoogleCloudCredentialArgs, component: string): AccessTokenCredential {
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
    const federation = gcp.federation === undefined ? undefined : parseFederation(gcp.federation);
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
        mode: "accessToken",
        gcp: {
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
                image: checkInput(
                    "gcp.refresher.image",
                    refresher.image ?? defaultRefresherImage,
                    containerImageProblem,
                ),
            },
        },
    };
}

function parseFederation(federation: NonNullable<GoogleCloudCredentialArgs["federation"]>): ParsedFederation {
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

/** `gcp.repositories`: a plain list of distinct, valid `{ location, repository }`. */
function checkRepositories(repositories: unknown): ArtifactRegistryRepository[] {
    const isPlain = Array.isArray(repositories) && repositories.every((r) => r !== null && typeof r === "object");
    if (!isPlain)
        throw invalid(
            "gcp.repositories",
            "must be a plain list of { location, repository } known when the program runs",
        );
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
