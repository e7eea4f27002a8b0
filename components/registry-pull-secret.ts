import * as pulumi from "@pulumi/pulumi";
import { Secret } from "@pulumi/kubernetes/core/v1";
import { Provider } from "@pulumi/kubernetes/provider";
import type { RegistryPullSecretArgs } from "./args";
import { attachPullSecret } from "./attachment/attachment";
import { SecretClaim } from "./claim/secret-claim";
import { takeOverArgument, takeOverStackConfig } from "./claim/secret-claim-plan";
import { declareCredential } from "./credential/credential";
import type { SettingsSource } from "./credential/key-creation-refused";
import { PullReadiness } from "./credential/pull-readiness";
import { declareNodeAccess, declareTokenIdentity, tokenIdentityWarnings } from "./keyless/keyless-credential";
import { childNames, formerChildNames } from "./names";
import {
    parseArgs,
    parseClusterReach,
    type AccessTokenCredential,
    type GkeNodeCredential,
    type GoogleCloudProject,
    type ParsedArgs,
    type StaticCredential,
} from "./parse";
import { declareTokenRefresher } from "./refresher/token-refresher-deployment";
import { dockerConfigJson } from "./rules/docker-config";
import { defaultReadinessTimeoutSeconds, readinessProbes, type ReadinessProbe } from "./rules/readiness";
import { ownerIdOf, ownershipKeys } from "./rules/ownership";
import { isPinnedByDigest } from "./rules/rules";
import { whenKnown } from "./validate";

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
    /**
     * The arguments come from this repository's sample stack config (index.ts): an error that asks
     * for a setting names its stack config key instead of the argument.
     */
    argsFromStackConfig?: boolean;
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
        const parsed = parseArgs(name, args);
        const { rotationClock, argsFromStackConfig, ...componentOpts } = opts ?? {};
        super("registry-pull-secret:index:RegistryPullSecret", name, {}, componentOpts);
        const credential = parsed.credential;
        const declared =
            credential.mode === "gkeNode"
                ? declareNodeAccessOnly(name, credential, this)
                : credential.mode === "accessToken"
                  ? declareRefreshedSecrets(name, credential, parsed, oneCluster(this, name, parsed).cluster)
                  : declareStaticSecrets(
                        name,
                        credential,
                        parsed,
                        oneCluster(this, name, parsed),
                        rotationClock ? rotationClock() : new Date(),
                        argsFromStackConfig ? "stackConfig" : "arguments",
                    );

        this.secretName = declared.secretName;
        this.namespaces = declared.namespaces;
        this.registries = pulumi.output(parsed.registries);
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
    source: StaticCredential,
    parsed: ParsedArgs,
    { cluster, secrets, claims }: OneCluster,
    now: Date,
    settings: SettingsSource,
): Declared {
    const takeOverFix = settings === "stackConfig" ? takeOverStackConfig : takeOverArgument;
    const parent = cluster.parent!;
    const credential = declareCredential(name, source, { parent, now, settings });
    const owner = ownerOf(parent);
    const ready = gatePulls(name, source, parsed, credential, parent);

    const dockerConfig = pulumi.secret(
        pulumi
            .all([parsed.registries, credential.username, credential.password, parsed.email])
            .apply(([registries, username, password, email]) =>
                dockerConfigJson(registries.map((server) => ({ server, username, password, email }))),
            ),
    );
    const secretData = pulumi.secret(
        dockerConfig.apply((json) => ({ ".dockerconfigjson": Buffer.from(json, "utf8").toString("base64") })),
    );

    // Whose Secret it is (components/rules/ownership.ts): a claim refuses another component's, and a
    // destroy removes an imagePullSecrets entry our marker lists only when its Secret carries our owner.
    const ownerLabels = {
        [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value,
        [ownershipKeys.secretOwner]: owner,
    };
    const claim = claims
        ? new SecretClaim(
              childNames.claim(name),
              {
                  namespaces: parsed.namespaces,
                  secretName: parsed.secretName,
                  owner,
                  takeOver: parsed.takeOver,
                  registries: parsed.registries,
                  takeOverFix,
                  serviceAccounts: parsed.serviceAccounts,
                  kubeconfig: parsed.kubeconfig,
              },
              cluster,
          )
        : undefined;
    if (claim) sayWhatIsTakenOver(claim, parent);
    const declaredSecrets: Secret[] = [];
    for (const namespace of parsed.namespaces) {
        const secret = new Secret(
            childNames.secret(name, namespace),
            {
                // Applied with force (see forced) once the claim allowed the name: it waits for the claim.
                metadata: {
                    name: parsed.secretName,
                    namespace,
                    labels: ownerLabels,
                    ...(claim ? { annotations: forced } : {}),
                },
                type: "kubernetes.io/dockerconfigjson",
                data: secretData,
            },
            {
                ...secrets,
                dependsOn: [...(claim ? [claim] : []), ...ready],
                aliases: [{ name: formerChildNames.secret(name, namespace) }],
            },
        );
        declaredSecrets.push(secret);
        for (const serviceAccount of parsed.serviceAccounts) {
            attachPullSecret(
                childNames.attachment(name, namespace, serviceAccount),
                {
                    namespace,
                    serviceAccount,
                    secretName: secret.metadata.name,
                    mode: parsed.attachMode,
                    owner,
                    kubeconfig: parsed.kubeconfig,
                    takeOver: parsed.takeOver,
                },
                { ...cluster, aliases: [{ name: formerChildNames.attachment(name, namespace, serviceAccount) }] },
            );
        }
    }
    credential.handOver?.(declaredSecrets);
    return {
        secretName: pulumi.output(parsed.secretName),
        namespaces: pulumi.output(parsed.namespaces),
        serviceAccountEmail: credential.serviceAccountEmail,
        keyName: credential.keyName,
        keyRotatesAfter: credential.keyRotatesAfter,
        dockerConfigJson: dockerConfig,
    };
}

/**
 * The readiness gate (components/credential/pull-readiness.ts) the Secrets wait for: the credential,
 * with the username and password the docker config will hold, must pull from every listed host and
 * repository first. `[]` when `readiness.wait` is false (the default with `credentials`).
 */
function gatePulls(
    name: string,
    source: StaticCredential,
    parsed: ParsedArgs,
    credential: { username: pulumi.Output<string>; password: pulumi.Output<string> },
    parent: pulumi.Resource,
): PullReadiness[] {
    const gcp = source.mode === "credentials" ? { project: "", repositories: [] } : source.gcp;
    const probes = probesOf(parsed, gcp, parent);
    if (!parsed.readiness.wait) return [];
    return [
        new PullReadiness(
            childNames.pullReadiness(name),
            {
                username: credential.username,
                password: credential.password,
                probes,
                timeoutSeconds: parsed.readiness.timeoutSeconds,
                component: urnOf(parent),
            },
            { parent },
        ),
    ];
}

/**
 * What the gate asks (components/rules/readiness.ts): `[]` when `readiness.wait` is false, which a user
 * who said so is warned of.
 */
function probesOf(
    parsed: ParsedArgs,
    gcp: Pick<GoogleCloudProject, "project" | "repositories">,
    parent: pulumi.Resource,
): pulumi.Output<ReadinessProbe[]> {
    const readiness = parsed.readiness;
    if (!readiness.wait) {
        if (readiness.turnedOff) {
            void pulumi.log.warn(
                parsed.credential.mode === "accessToken"
                    ? "readiness.wait is false: the refresher writes its first token without proof that it pulls; on Google a new grant can take 7 minutes or longer, and pods started meanwhile fail to pull. Keep it only for registries the refresher's pod cannot reach."
                    : "readiness.wait is false: the Secrets take a new key or password without proof that it pulls; on Google a new grant can take 7 minutes or longer and a new key about a minute, and pods started meanwhile fail to pull. Keep it only for registries the machine running pulumi up cannot reach.",
                parent,
            );
        }
        return pulumi.output([]);
    }
    return pulumi
        .all([parsed.registries, gcp.project, readiness.mirrorOf])
        .apply(([registries, project, mirrorOf]) => readinessProbes(registries, project, gcp.repositories, mirrorOf));
}

/**
 * `pulumi.com/patchForce` makes the Kubernetes provider's server-side apply take the fields another
 * manager set (pulumi-kubernetes provider/pkg/await/await.go `patchForce`): the same object, new data,
 * never deleted and created again. On every Secret a claim guards: a Secret is created only once its
 * claim allowed the name (free, this component's own, or with `takeOver` the recipe's; see
 * claimedSecretsProvider), so the force acts on what the claim gave the stack: a later `up` puts our
 * credential back over a hand edit (`kubectl edit` writes as another manager), which without it failed
 * with an apply conflict on every `up` (found by the CLI fault campaign). A claim keeps its verdict: a
 * Secret somebody makes under the name after ours was deleted is written over too (docs/security.md).
 */
const forced = { "pulumi.com/patchForce": "true" };

/**
 * The claimed Secrets' own Kubernetes provider. Since pulumi-kubernetes v4.29.0 (PR #4278,
 * provider/pkg/await/await.go) a create is a plain create: an object that exists answers AlreadyExists,
 * unless the provider sets `upsertExistingObjects`, when the create is a server-side apply, which with
 * `pulumi.com/patchForce` (see forced) takes the fields in place. Two Secrets exist before their create:
 * the kubectl recipe's, which `takeOver` takes over, and the stack's own after an `up` was interrupted
 * between the API server's write and the state's (the answer lost: a killed process, a dropped
 * connection), which a plain create would refuse on every later `up` although the claim knows it as ours
 * (test/engine/cli-campaign.test.ts forces that window). Each Secret is created only once its claim
 * allowed the name (free, this component's own, or with `takeOver` the recipe's). No other child adopts
 * what exists: they keep the component's cluster (with `kubeconfig` alone, the Secrets share its child
 * provider with the "patch" attachments only, which apply in any case: oneCluster).
 *
 * Made when the Secrets have no provider of the component's own (the stack's connection, or an
 * explicit provider with `kubeconfig`). It reaches the cluster the claims read: `kubeconfig`, else the
 * stack's `kubernetes:kubeconfig` and `kubernetes:context` (else `KUBECONFIG` or `~/.kube/config`, as
 * the default provider does). Its settings are its own: `enableSecretMutable` (Secrets updated in
 * place), nothing of the stack's other `kubernetes:` settings or of an explicit provider's. Moving the
 * Secrets onto it does not replace them: the engine asks the new provider's DiffConfig, which replaces
 * only when the active cluster changes (pulumi/pulumi pkg/resource/deploy/step_generator.go
 * `providerChanged`; pulumi-kubernetes provider/pkg/provider/provider.go `DiffConfig`);
 * test/engine/child-names-upgrade.test.ts moves a stack's Secrets from the default provider onto it.
 */
function claimedSecretsProvider(name: string, parsed: ParsedArgs, parent: pulumi.Resource): Provider {
    const stack = new pulumi.Config("kubernetes");
    const connection =
        parsed.kubeconfig !== undefined
            ? { kubeconfig: pulumi.secret(parsed.kubeconfig) }
            : { kubeconfig: stack.getSecret("kubeconfig"), context: stack.get("context") };
    return new Provider(
        childNames.secrets(name),
        { ...connection, ...adopting, enableSecretMutable: true },
        { parent, aliases: [{ name: formerChildNames.secrets(name) }] },
    );
}

/** A create of an object that exists applies over it (see claimedSecretsProvider). */
const adopting = { upsertExistingObjects: true };

/** A preview says what `takeOver` will take over (the claim's sentences exist only then), a line per namespace. */
function sayWhatIsTakenOver(claim: SecretClaim, component: pulumi.Resource): void {
    claim.plannedTakeovers.apply((sentences) => {
        for (const sentence of sentences ?? []) void pulumi.log.warn(sentence, component);
    });
}

/**
 * `gcp.credential: "gkeNode"`: the kubelet pulls with the node's service account
 * (docs/facts.md#gke-nodes-pull-with-their-own-account), so the grants are all there is: no Secret, no
 * attachment. The preview says who can pull.
 */
function declareNodeAccessOnly(name: string, source: GkeNodeCredential, parent: pulumi.Resource): Declared {
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
    source: AccessTokenCredential,
    parsed: ParsedArgs,
    cluster: pulumi.CustomResourceOptions,
): Declared {
    const parent = cluster.parent!;
    for (const warning of tokenIdentityWarnings(source.gcp)) void pulumi.log.warn(warning, parent);
    void whenKnown(source.gcp.refresher.image, (image) => {
        if (!isPinnedByDigest(image)) {
            void pulumi.log.warn(
                `gcp.refresher.image "${image}" is not pinned by digest: whoever can move that tag chooses the code that holds the refresher's Google identity and writes every pull Secret. Pin it (name@sha256:...), ideally in a registry you control (see docs/security.md#supply-chain).`,
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
            targets: parsed.namespaces,
            secretName: parsed.secretName,
            registries: parsed.registries,
            probes: probesOf(parsed, source.gcp, parent),
            timeoutSeconds: parsed.readiness.wait ? parsed.readiness.timeoutSeconds : defaultReadinessTimeoutSeconds,
            email: parsed.email,
            identity: google.identity,
            impersonate: google.impersonate,
            kubeconfig: parsed.kubeconfig,
            owner,
            grants: google.grants,
        },
        cluster,
    );
    parsed.namespaces.forEach((namespace, i) => {
        for (const serviceAccount of parsed.serviceAccounts) {
            attachPullSecret(
                childNames.attachment(name, namespace, serviceAccount),
                {
                    namespace,
                    serviceAccount,
                    secretName: refresher.secrets[i].secretName,
                    mode: parsed.attachMode,
                    owner,
                    kubeconfig: parsed.kubeconfig,
                },
                {
                    ...cluster,
                    dependsOn: [refresher.deployment],
                    aliases: [{ name: formerChildNames.attachment(name, namespace, serviceAccount) }],
                },
            );
        }
    });
    return {
        secretName: pulumi.output(parsed.secretName),
        namespaces: pulumi.output(parsed.namespaces),
        serviceAccountEmail: pulumi.output(source.gcp.serviceAccountEmail ?? ""),
        keyName: pulumi.output(""),
        keyRotatesAfter: pulumi.output(""),
        // Pulumi never holds the token: the refresher writes it in the cluster.
        dockerConfigJson: pulumi.output(""),
    };
}

/** The options that put the component's Kubernetes children on its one cluster, and whether claims are declared. */
interface OneCluster {
    cluster: pulumi.CustomResourceOptions;
    /** The pull Secrets' options: with claims, a provider that adopts what exists (see claimedSecretsProvider). */
    secrets: pulumi.CustomResourceOptions;
    /** Claims read the cluster like "merge" attachments (components/parse.ts `parseClusterReach`). */
    claims: boolean;
}

/**
 * The options that put the Secrets and "patch" attachments on the cluster "merge" attachments reach,
 * which talk to the API server themselves through `kubeconfig` (or the stack's connection) and cannot
 * use a Kubernetes provider resource. An explicit provider (`provider`, `providers` or a parent's, as
 * the component itself resolves it) is kept (components/parse.ts `parseClusterReach` says when
 * `kubeconfig` must come with it); `kubeconfig` alone becomes one child provider for all of them.
 * Claimed Secrets (a key or credentials Pulumi holds) go through a provider that adopts what exists:
 * `kubeconfig`'s own child provider, which then carries only them and "patch" attachments (patches
 * apply in any case), else one of their own. Runs after `super()`: the component may be registered by
 * then, no child is.
 */
function oneCluster(component: RegistryPullSecret, name: string, parsed: ParsedArgs): OneCluster {
    const { explicitProvider, claims } = parseClusterReach(parsed, component.getProvider("kubernetes::") !== undefined);
    const adopts = claims && parsed.credential.mode !== "accessToken";
    if (explicitProvider || parsed.kubeconfig === undefined) {
        const cluster = { parent: component };
        const secrets = adopts
            ? { parent: component, provider: claimedSecretsProvider(name, parsed, component) }
            : cluster;
        return { cluster, secrets, claims };
    }
    const provider = new Provider(
        childNames.cluster(name),
        // Secrets change in place when their data changes (a rotated key or password): by default the
        // provider replaces them, and with a fixed name that is delete, then create, a gap in which pulls
        // fail (pulumi-kubernetes pkg/provider/diff.go; test/engine/kubeconfig-argument.test.ts shows this
        // provider updating them in place).
        { kubeconfig: pulumi.secret(parsed.kubeconfig), enableSecretMutable: true, ...(adopts ? adopting : {}) },
        { parent: component },
    );
    const cluster = { parent: component, provider };
    return { cluster, secrets: cluster, claims };
}

/**
 * The component's owner id (components/rules/ownership.ts), from its URN. The URN is taken as a value, not
 * as an output carrying the component: a dependency on a component waits for its children, and the
 * resources that record the owner are among them. URNs are known in previews too.
 */
function ownerOf(component: pulumi.Resource): pulumi.Output<string> {
    return urnOf(component).apply(ownerIdOf);
}

/** The component's URN as a value, without the dependency on the component (see {@link ownerOf}). */
function urnOf(component: pulumi.Resource): pulumi.Output<string> {
    return pulumi.output(new Promise<string>((resolve) => component.urn.apply(resolve)));
}
