/**
 * `SecretClaim`: before the component's Secret is created in a namespace, what is there under its name
 * decides whether it may be written, and whether `takeOver` takes over the kubectl recipe's Secret and
 * `imagePullSecrets` entries (components/claim/secret-claim-plan.ts). Its provider lives in
 * components/claim/secret-claim-provider.ts and is loaded by package name.
 */
import * as pulumi from "@pulumi/pulumi";
import { PackageResource, providerByName } from "../cluster/provider-by-name";
import { provider as implementation } from "./secret-claim-provider";

/** The arguments of a {@link SecretClaim}. */
export interface SecretClaimArgs {
    namespace: pulumi.Input<string>;
    secretName: pulumi.Input<string>;
    /** The owner id of the component (components/rules/ownership.ts `ownerIdOf`). */
    owner: pulumi.Input<string>;
    /** Take over a Secret only kubectl wrote, and entries of its name no owner claims. */
    takeOver: boolean;
    /** The component's registry hosts: only the recipe's Secret for these is taken over. */
    registries: pulumi.Input<string[]>;
    /** How the user sets `takeOver` in their program, for the error that asks for it. */
    takeOverFix: string;
    /** The ServiceAccounts whose entries of the Secret's name are looked at. */
    serviceAccounts: string[];
    /** A kubeconfig document or path; default: the stack's Kubernetes connection. A secret. */
    kubeconfig?: pulumi.Input<string>;
}

const providerText = providerByName("secret-claim-provider", implementation);

/** The right to write one Secret name in one namespace, decided once, when the Secret is first declared. */
export class SecretClaim extends PackageResource {
    // `declare`: a class field would be defined after super() and hide the output it set (ES2022 fields).
    declare public readonly namespace: pulumi.Output<string>;
    declare public readonly secretName: pulumi.Output<string>;
    /** The field managers whose Secret was taken over in place; `[]` when nothing was. */
    declare public readonly takesOverFrom: pulumi.Output<string[]>;
    /** The ServiceAccounts whose existing entry of the Secret's name was taken over. */
    declare public readonly entriesTakenOver: pulumi.Output<string[]>;
    /** Set only in the preview of the claim's creation: what this update takes over (see the provider). */
    declare public readonly plannedTakeover: pulumi.Output<string | undefined>;

    constructor(name: string, args: SecretClaimArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            providerText,
            name,
            {
                namespace: args.namespace,
                secretName: args.secretName,
                owner: args.owner,
                takeOver: args.takeOver,
                registries: args.registries,
                takeOverFix: args.takeOverFix,
                serviceAccounts: args.serviceAccounts,
                kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
                takesOverFrom: undefined,
                entriesTakenOver: undefined,
                plannedTakeover: undefined,
            },
            { ...opts, additionalSecretOutputs: ["kubeconfig"] },
            "registry-pull-secret",
            "SecretClaim",
        );
    }
}
