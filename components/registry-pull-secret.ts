import * as pulumi from "@pulumi/pulumi";
import { Secret } from "@pulumi/kubernetes/core/v1";
import { Provider } from "@pulumi/kubernetes/provider";
import { attachModes, attachPullSecret, type AttachMode } from "./attachment";
import { checkCredentialSource, declareCredential, type CredentialSource } from "./credential";
import { dockerConfigJson } from "./docker-config";
import { childNames } from "./names";
import {
    emailProblem,
    firstDuplicateIndex,
    namespaceNameProblem,
    objectNameProblem,
    registryHostProblem,
} from "./rules";
import { check, checkInput, checkPlainList, invalid } from "./validate";
import type { RegistryPullSecretArgs } from "./args";

export { keyUsername, readerRole } from "./credential";

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
 * A Google Cloud service-account key (created and rotated here, or existing) or a username and
 * password for any registry, made into a `kubernetes.io/dockerconfigjson` Secret in every namespace
 * and listed in the `imagePullSecrets` of the namespaces' ServiceAccounts.
 */
export class RegistryPullSecret extends pulumi.ComponentResource {
    /** The Secret's name in every namespace. */
    public readonly secretName: pulumi.Output<string>;
    /** The namespaces that hold the Secret. */
    public readonly namespaces: pulumi.Output<string[]>;
    /** The registry hosts the credential is written for. */
    public readonly registries: pulumi.Output<string[]>;
    /** The service account whose key the Secret holds; `""` with `credentials`. */
    public readonly serviceAccountEmail: pulumi.Output<string>;
    /** The key's resource name (`projects/P/serviceAccounts/E/keys/K`), not its material; `""` with `credentials`. */
    public readonly keyName: pulumi.Output<string>;
    /**
     * When the next scheduled key rotation is due (RFC 3339, UTC): the first `pulumi up` at or after
     * it replaces the key. `""` when nothing rotates on a schedule: no `gcp.keyRotationDays`, an
     * `existingKey`, or `credentials`.
     */
    public readonly keyRotatesAfter: pulumi.Output<string>;
    /** The `.dockerconfigjson` document (a secret). */
    public readonly dockerConfigJson: pulumi.Output<string>;

    constructor(name: string, args: RegistryPullSecretArgs, opts?: RegistryPullSecretOptions) {
        const valid = validateArgs(args);
        const { rotationClock, ...componentOpts } = opts ?? {};
        super("registry-pull-secret:index:RegistryPullSecret", name, {}, componentOpts);
        const cluster = oneCluster(this, name, valid);
        const now = rotationClock ? rotationClock() : new Date();
        const credential = declareCredential(name, valid.credential, { parent: this, now });

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

        for (const namespace of valid.namespaces) {
            const secret = new Secret(
                childNames.secret(name, namespace),
                {
                    metadata: { name: valid.secretName, namespace },
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
                        kubeconfig: valid.kubeconfig,
                    },
                    valid.attachMode === "patch" ? cluster : { parent: this },
                );
            }
        }

        this.secretName = pulumi.output(valid.secretName);
        this.namespaces = pulumi.output(valid.namespaces);
        this.registries = pulumi.output(valid.registries);
        this.serviceAccountEmail = credential.serviceAccountEmail;
        this.keyName = credential.keyName;
        this.keyRotatesAfter = credential.keyRotatesAfter;
        this.dockerConfigJson = dockerConfig;
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

/**
 * The options that put the Secrets and "patch" attachments on the cluster "merge" attachments reach,
 * which talk to the API server themselves through `kubeconfig` (or the stack's connection) and cannot
 * use a Kubernetes provider resource. An explicit provider (`provider`, `providers` or a parent's, as
 * the component itself resolves it) is kept, and then `kubeconfig` is required when "merge"
 * attachments are declared; `kubeconfig` alone becomes one child provider for all of them.
 * Runs after `super()`: the component may be registered by then, no child is.
 */
function oneCluster(component: RegistryPullSecret, name: string, valid: ValidArgs): pulumi.CustomResourceOptions {
    const declaresEntries = valid.attachMode === "merge" && valid.serviceAccounts.length > 0;
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
        { kubeconfig: pulumi.secret(valid.kubeconfig) },
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
        credential: checkCredentialSource(args),
        attachMode: checkAttachMode(args.attachMode),
        kubeconfig: args.kubeconfig,
    };
}

/** The mode picks which resource type registers, so it must be known when the program runs. */
function checkAttachMode(mode: unknown): AttachMode {
    if (mode === undefined) return "merge";
    if (!(attachModes as readonly unknown[]).includes(mode)) {
        throw invalid(
            "attachMode",
            `must be one of ${attachModes.map((m) => `"${m}"`).join(", ")}, as a plain string known when the program runs`,
        );
    }
    return mode as AttachMode;
}

function checkList(path: string, value: unknown, rule: (value: string) => string | undefined): string[] {
    const list = checkPlainList(path, value);
    list.forEach((element, i) => check(`${path}[${i}]`, element, rule));
    const duplicate = firstDuplicateIndex(list);
    if (duplicate !== undefined)
        throw invalid(`${path}[${duplicate}]`, "repeats an earlier entry; each must be listed once");
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
