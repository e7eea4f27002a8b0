import * as pulumi from "@pulumi/pulumi";
import { Secret } from "@pulumi/kubernetes/core/v1";
import { Provider } from "@pulumi/kubernetes/provider";
import { attachPullSecret } from "./attachment/attachment";
import {
    checkCredentialSource,
    declareCredential,
    type CredentialSource,
    type StaticCredentialSource,
} from "./credential/credential";
import { declareNodeAccess, declareTokenIdentity, tokenIdentityWarnings } from "./keyless/keyless-credential";
import { ownerIdOf } from "./rules/ownership";
import { SecretClaim } from "./claim/secret-claim";
import { declareTokenRefresher } from "./refresher/token-refresher-deployment";
import { dockerConfigJson } from "./rules/docker-config";
import { childNames } from "./names";
import {
    emailProblem,
    firstDuplicateIndex,
    isPinnedByDigest,
    namespaceNameProblem,
    objectNameProblem,
    registryHostProblem,
} from "./rules/rules";
import { check, checkChoice, checkInput, checkPlainList, invalid, whenKnown, type Rule } from "./validate";
import { AttachMode, type RegistryPullSecretArgs } from "./args";

export { keyUsername, readerRole } from "./credential/credential";

/**
 * Options only a TypeScript program can pass (the schema other languages see is inferred from the
 * args alone, and a component hosted as a plugin receives the engine's plain options).
 */
export interface RegistryPullSecretOptions extends pulumi.ComponentResourceOptions {
    /**
     * The clock that decides the key's rotation period, read once per construction. Default: the
     * system clock. For tests that prove what happens at period boundaries.
     */
    rotationClock?: () => Date;
}

/**
 * Pull credentials for Kubernetes namespaces: a Google Cloud service-account key (created and rotated
 * here, or existing), short-lived access tokens a refresher in the cluster keeps fresh, or a username and
 * password for any registry, made into a `kubernetes.io/dockerconfigjson` Secret in every namespace and
 * listed in the `imagePullSecrets` of the namespaces' ServiceAccounts. Or, on GKE, only read access for
 * the node pool's own service account, with nothing in the cluster.
 */
export class RegistryPullSecret extends pulumi.ComponentResource {
    /** The Secret's name in every namespace; `""` with `gcp.credential: "gkeNode"`. */
    public readonly secretName: pulumi.Output<string>;
    /** The namespaces that hold the Secret; `[]` with `gcp.credential: "gkeNode"`. */
    public readonly namespaces: pulumi.Output<string[]>;
    /** The registry hosts the credential is written for; `[]` with `gcp.credential: "gkeNode"`. */
    public readonly registries: pulumi.Output<string[]>;
    /**
     * The Google service account that pulls: the key's, the node pool's (`"gkeNode"`), or the one the
     * refresher impersonates (`"accessToken"`, else `""`); `""` with `credentials`.
     */
    public readonly serviceAccountEmail: pulumi.Output<string>;
    /**
     * The key's resource name (`projects/P/serviceAccounts/E/keys/K`), not its material; `""` with
     * `credentials` and the keyless credentials.
     */
    public readonly keyName: pulumi.Output<string>;
    /**
     * When the next scheduled key rotation is due (RFC 3339, UTC): the first `pulumi up` at or after
     * it replaces the key. `""` when nothing rotates on a schedule: no `gcp.keyRotationDays`, an
     * `existingKey`, or `credentials`.
     */
    public readonly keyRotatesAfter: pulumi.Output<string>;
    /**
     * The `.dockerconfigjson` document (a secret); `""` with the keyless credentials (the refresher
     * writes the tokens in the cluster, and `"gkeNode"` has no Secret).
     */
    public readonly dockerConfigJson: pulumi.Output<string>;

    constructor(name: string, args: RegistryPullSecretArgs, opts?: RegistryPullSecretOptions) {
        const valid = validateArgs(name, args);
        const { rotationClock, ...componentOpts } = opts ?? {};
        super("registry-pull-secret:index:RegistryPullSecret", name, {}, componentOpts);
        const source = valid.credential;
        const declared =
            source.mode === "gkeNode"
                ? declareNodeAccessOnly(name, source, this)
                : source.mode === "accessToken"
                  ? declareRefreshedSecrets(name, source, valid, oneCluster(this, name, valid))
                  : declareStaticSecrets(
                        name,
                        source,
                        valid,
                        oneCluster(this, name, valid),
                        rotationClock ? rotationClock() : new Date(),
                    );

        this.secretName = declared.secretName;
        this.namespaces = declared.namespaces;
        this.registries = pulumi.output(valid.registries);
        this.serviceAccountEmail = declared.serviceAccountEmail;
        this.keyName = declared.keyName;
        this.keyRotatesAfter = declared.keyRotatesAfter;
        this.dockerConfigJson = declared.dockerConfigJson;
        this.registerOutputs({
            secretName: this.secretName,
            namespaces: this.namespaces,
            registries: this.registries,
            serviceAccountEmail: this.serviceAccountEmail,
            keyName: this.keyName,
            keyRotatesAfter: this.keyRotatesAfter,
            dockerConfigJson: this.dockerConfigJson,
        });
    }
}

/** What each way of making the credential leaves for the component's outputs. */
interface Declared {
    secretName: pulumi.Output<string>;
    namespaces: pulumi.Output<string[]>;
    serviceAccountEmail: pulumi.Output<string>;
    keyName: pulumi.Output<string>;
    keyRotatesAfter: pulumi.Output<string>;
    dockerConfigJson: pulumi.Output<string>;
}

/** A key or credentials Pulumi holds: the same Secret in every namespace, then the attachments. */
function declareStaticSecrets(
    name: string,
    source: StaticCredentialSource,
    valid: ValidArgs,
    cluster: pulumi.CustomResourceOptions,
    now: Date,
): Declared {
    const parent = cluster.parent!;
    warnIfSecretsAreReplaced(parent, cluster);
    const credential = declareCredential(name, source, { parent, now });
    const owner = ownerOf(parent);

    const dockerConfig = pulumi.secret(
        pulumi
            .all([valid.registries, credential.username, credential.password, valid.email])
            .apply(([registries, username, password, email]) =>
                dockerConfigJson(registries.map((server) => ({ server, username, password, email }))),
            ),
    );
    const secretData = pulumi.secret(
        dockerConfig.apply((json) => ({ ".dockerconfigjson": Buffer.from(json, "utf8").toString("base64") })),
    );

    const claims = claimsReachCluster(parent, valid);
    for (const namespace of valid.namespaces) {
        const claim = claims
            ? new SecretClaim(
                  childNames.claim(name, namespace),
                  {
                      namespace,
                      secretName: valid.secretName,
                      owner,
                      takeOver: valid.takeOver,
                      serviceAccounts: valid.serviceAccounts,
                      kubeconfig: valid.kubeconfig,
                  },
                  cluster,
              )
            : undefined;
        if (claim) sayWhatIsTakenOver(claim, parent);
        const secret = new Secret(
            childNames.secret(name, namespace),
            {
                // The claim's outputs: the Secret waits for it, and with takeOver a Secret the claim took
                // over from kubectl is applied with force (without takeOver a claim never takes anything).
                metadata: claim
                    ? {
                          name: claim.secretName,
                          namespace,
                          ...(valid.takeOver ? { annotations: forceWhenTakenOver(claim) } : {}),
                      }
                    : { name: valid.secretName, namespace },
                type: "kubernetes.io/dockerconfigjson",
                data: secretData,
            },
            cluster,
        );
        for (const serviceAccount of valid.serviceAccounts) {
            attachPullSecret(
                childNames.attachment(name, namespace, serviceAccount),
                {
                    namespace,
                    serviceAccount,
                    secretName: secret.metadata.name,
                    mode: valid.attachMode,
                    owner,
                    kubeconfig: valid.kubeconfig,
                    takeOver: valid.takeOver,
                },
                cluster,
            );
        }
    }
    return {
        secretName: pulumi.output(valid.secretName),
        namespaces: pulumi.output(valid.namespaces),
        serviceAccountEmail: credential.serviceAccountEmail,
        keyName: credential.keyName,
        keyRotatesAfter: credential.keyRotatesAfter,
        dockerConfigJson: dockerConfig,
    };
}

/**
 * Claims (components/claim/secret-claim.ts) read the cluster through `kubeconfig` or the stack's connection,
 * like "merge" attachments: with an explicit Kubernetes provider and no `kubeconfig` they would read
 * another cluster than the Secrets go to, so none is declared then, and `takeOver` needs `kubeconfig`.
 */
function claimsReachCluster(component: pulumi.Resource, valid: ValidArgs): boolean {
    if (valid.kubeconfig !== undefined || component.getProvider("kubernetes::") === undefined) return true;
    if (valid.takeOver) {
        throw invalid(
            "kubeconfig",
            "must be given with takeOver when a Kubernetes provider reaches the component (its provider, providers or a parent's): what is taken over is read through kubeconfig; pass the kubeconfig the provider was made from",
        );
    }
    return false;
}

/**
 * `pulumi.com/patchForce` makes the Kubernetes provider's server-side apply take the fields another
 * manager set (pulumi-kubernetes provider/pkg/await/await.go `patchForce`): the same object, new data,
 * never deleted and created again. Set only on a Secret whose claim takes it over from kubectl; a claim
 * without a verdict (an engine that runs no provider: mocks, the offline plan) takes nothing over.
 */
function forceWhenTakenOver(claim: SecretClaim): pulumi.Output<Record<string, string>> {
    return claim.takesOverFrom.apply(
        (from) => ((from ?? []).length > 0 ? { "pulumi.com/patchForce": "true" } : undefined) as Record<string, string>,
    );
}

/** A preview says what `takeOver` will take over (the claim's sentence exists only then). */
function sayWhatIsTakenOver(claim: SecretClaim, component: pulumi.Resource): void {
    claim.plannedTakeover.apply((sentence) => {
        if (sentence) void pulumi.log.warn(sentence, component);
    });
}

/**
 * Secrets on the stack's default Kubernetes provider are REPLACED when their data changes (a rotated
 * key, a new password) unless the stack sets `kubernetes:enableSecretMutable`: with a fixed name that
 * is delete, then create, a gap in which pulls fail (pulumi-kubernetes pkg/provider/diff.go; shown by
 * test/engine/real-engine.test.ts). The child provider made from `kubeconfig` sets it; an explicit
 * provider's settings cannot be read from here, so only the default provider is checked.
 */
function warnIfSecretsAreReplaced(component: pulumi.Resource, cluster: pulumi.CustomResourceOptions): void {
    if (cluster.provider !== undefined || component.getProvider("kubernetes::") !== undefined) return;
    if (new pulumi.Config("kubernetes").getBoolean("enableSecretMutable") === true) return;
    void pulumi.log.warn(
        'kubernetes:enableSecretMutable is not "true": when the credential changes (a key rotation, a new password) the Kubernetes provider replaces each pull Secret, deleting it before creating it again under the same name, and pulls fail in between. Run `pulumi config set kubernetes:enableSecretMutable true`.',
        component,
    );
}

/**
 * `gcp.credential: "gkeNode"`: the kubelet pulls with the node's service account
 * (docs/facts.md#gke-nodes-pull-with-their-own-account), so the grants are all there is: no Secret, no
 * attachment. The preview says who can pull.
 */
function declareNodeAccessOnly(
    name: string,
    source: Extract<CredentialSource, { mode: "gkeNode" }>,
    parent: pulumi.Resource,
): Declared {
    declareNodeAccess(name, source.gcp, parent);
    void pulumi.log.warn(
        'gcp.credential "gkeNode": EVERY pod on the nodes that run as gcp.serviceAccountEmail can pull from the granted repositories, in any namespace; no Secret and no imagePullSecrets entry is declared. Use gcp.credential "accessToken" to let only the listed namespaces pull.',
        parent,
    );
    return {
        secretName: pulumi.output(""),
        namespaces: pulumi.output([]),
        serviceAccountEmail: pulumi.output(source.gcp.serviceAccountEmail),
        keyName: pulumi.output(""),
        keyRotatesAfter: pulumi.output(""),
        dockerConfigJson: pulumi.output(""),
    };
}

/**
 * `gcp.credential: "accessToken"`: the refresher's Google identity and grants, then the refresher
 * with its Secrets; the attachments wait for the refresher's readiness (the first token written).
 */
function declareRefreshedSecrets(
    name: string,
    source: Extract<CredentialSource, { mode: "accessToken" }>,
    valid: ValidArgs,
    cluster: pulumi.CustomResourceOptions,
): Declared {
    const parent = cluster.parent!;
    for (const warning of tokenIdentityWarnings(source.gcp)) void pulumi.log.warn(warning, parent);
    void whenKnown(source.gcp.refresher.image, (image) => {
        if (!isPinnedByDigest(image)) {
            void pulumi.log.warn(
                `gcp.refresher.image "${image}" is not pinned by digest: whoever can move that tag chooses the code that holds the refresher's Google identity and writes every pull Secret. Pin it (name@sha256:...), ideally in a registry you control (see README, "Supply chain").`,
                parent,
            );
        }
    });
    const owner = ownerOf(parent);
    const google = declareTokenIdentity(name, source.gcp, parent);
    const refresher = declareTokenRefresher(
        name,
        {
            namespace: source.gcp.refresher.namespace,
            image: source.gcp.refresher.image,
            targets: valid.namespaces,
            secretName: valid.secretName,
            registries: valid.registries,
            email: valid.email,
            identity: google.identity,
            impersonate: google.impersonate,
            kubeconfig: valid.kubeconfig,
            owner,
            grants: google.grants,
        },
        cluster,
    );
    valid.namespaces.forEach((namespace, i) => {
        for (const serviceAccount of valid.serviceAccounts) {
            attachPullSecret(
                childNames.attachment(name, namespace, serviceAccount),
                {
                    namespace,
                    serviceAccount,
                    secretName: refresher.secrets[i].secretName,
                    mode: valid.attachMode,
                    owner,
                    kubeconfig: valid.kubeconfig,
                },
                { ...cluster, dependsOn: [refresher.deployment] },
            );
        }
    });
    return {
        secretName: pulumi.output(valid.secretName),
        namespaces: pulumi.output(valid.namespaces),
        serviceAccountEmail: pulumi.output(source.gcp.serviceAccountEmail ?? ""),
        keyName: pulumi.output(""),
        keyRotatesAfter: pulumi.output(""),
        // Pulumi never holds the token: the refresher writes it in the cluster.
        dockerConfigJson: pulumi.output(""),
    };
}

/**
 * The options that put the Secrets and "patch" attachments on the cluster "merge" attachments reach,
 * which talk to the API server themselves through `kubeconfig` (or the stack's connection) and cannot
 * use a Kubernetes provider resource. An explicit provider (`provider`, `providers` or a parent's, as
 * the component itself resolves it) is kept, and then `kubeconfig` is required when "merge"
 * attachments are declared; `kubeconfig` alone becomes one child provider for all of them.
 * Runs after `super()`: the component may be registered by then, no child is.
 */
function oneCluster(component: RegistryPullSecret, name: string, valid: ValidArgs): pulumi.CustomResourceOptions {
    // The refresher's Secrets, like "merge" entries, reach the cluster through kubeconfig alone.
    const declaresEntries =
        (valid.attachMode === "merge" && valid.serviceAccounts.length > 0) || valid.credential.mode === "accessToken";
    if (component.getProvider("kubernetes::") !== undefined) {
        if (valid.kubeconfig === undefined && declaresEntries) {
            throw invalid(
                "kubeconfig",
                'must be given when a Kubernetes provider reaches the component (its provider, providers or a parent\'s): the Secrets go to that provider\'s cluster, while "merge" attachments reach a cluster only through kubeconfig and would otherwise use the stack\'s default one; pass the kubeconfig the provider was made from (e.g. kubeconfig: cluster.kubeconfig), or use attachMode "patch"',
            );
        }
        return { parent: component };
    }
    if (valid.kubeconfig === undefined) return { parent: component };
    const provider = new Provider(
        childNames.cluster(name),
        // Secrets change in place when their data changes (a rotated key or password): by default the
        // provider replaces them, and with a fixed name that is delete, then create, a gap in which pulls
        // fail (pulumi-kubernetes pkg/provider/diff.go; shown by test/engine/real-engine.test.ts).
        { kubeconfig: pulumi.secret(valid.kubeconfig), enableSecretMutable: true },
        { parent: component },
    );
    return { parent: component, provider };
}

/** The args with defaults applied, every plain value checked and every later value wrapped in a check. */
interface ValidArgs {
    namespaces: string[];
    serviceAccounts: string[];
    registries: pulumi.Input<string[]>;
    secretName: pulumi.Input<string>;
    email: pulumi.Input<string | undefined>;
    credential: CredentialSource;
    attachMode: AttachMode;
    kubeconfig?: pulumi.Input<string>;
    takeOver: boolean;
}

/**
 * The component's owner id (components/rules/ownership.ts), from its URN. The URN is taken as a value, not
 * as an output carrying the component: a dependency on a component waits for its children, and the
 * resources that record the owner are among them. URNs are known in previews too.
 */
function ownerOf(component: pulumi.Resource): pulumi.Output<string> {
    return pulumi.output(new Promise<string>((resolve) => component.urn.apply(resolve))).apply(ownerIdOf);
}

/** Throws `InputPropertyError` for the first broken rule, before any resource is registered. */
function validateArgs(name: string, args: RegistryPullSecretArgs): ValidArgs {
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
    const credential = checkCredentialSource(args, name);
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
    };
}

/**
 * `takeOver` is a plain boolean (it decides what the Secrets' claims may do), for the Secrets Pulumi
 * writes: the refresher's Secrets (`"accessToken"`) are created by their own provider, `"gkeNode"`
 * declares none, and a `"patch"` attachment shares the recipe's list with `kubectl-patch` instead of
 * taking the entry over, so destroy would not remove it.
 */
function checkTakeOver(value: unknown, credential: CredentialSource, attachMode: AttachMode): boolean {
    if (value === undefined || value === false) return false;
    if (value !== true)
        throw invalid("takeOver", "must be true or false, as a plain boolean known when the program runs");
    if (credential.mode === "gkeNode" || credential.mode === "accessToken") {
        throw invalid(
            "takeOver",
            `cannot be used with gcp.credential "${credential.mode}": it takes over Secrets that Pulumi writes (gcp.credential "key", or credentials); ${credential.mode === "gkeNode" ? "gkeNode declares no Secret" : "the refresher's Secrets are never taken over"}. Delete the kubectl recipe's Secret first (README, "From the kubectl recipe")`,
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
