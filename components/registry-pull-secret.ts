import * as pulumi from "@pulumi/pulumi";
import { Secret } from "@pulumi/kubernetes/core/v1";
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
                { parent: this },
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
                    { parent: this },
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
        // PullSecretEntry keeps it secret; "patch" mode does not use it.
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
