/**
 * `SecretClaim`: before the component's Secret is created in a namespace, what is there under its name
 * decides whether it may be written, and whether `takeOver` takes over the kubectl recipe's Secret and
 * `imagePullSecrets` entries (components/claim/secret-claim-plan.ts). One per component, for all its
 * namespaces. Its provider lives in components/claim/secret-claim-provider.ts and is loaded by package name.
 */
import * as pulumi from "@pulumi/pulumi";
import { PackageResource, providerByName } from "../cluster/provider-by-name";
import { provider as implementation, type SecretClaimVerdict } from "./secret-claim-provider";

/** The arguments of a {@link SecretClaim}. */
export interface SecretClaimArgs {
    namespaces: string[];
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

/**
 * The right to write one Secret name in each namespace, decided once per namespace, when its Secret is
 * first declared.
 */
export class SecretClaim extends PackageResource {
    // `declare`: a class field would be defined after super() and hide the output it set (ES2022 fields).
    /** By namespace: the field managers whose Secret was taken over in place, and the entries taken over. */
    declare public readonly verdicts: pulumi.Output<Record<string, SecretClaimVerdict>>;
    /**
     * Set only in a preview, for the namespaces it decides: what this update takes over, a sentence
     * per namespace (see the provider).
     */
    declare public readonly plannedTakeovers: pulumi.Output<string[] | undefined>;

    constructor(name: string, args: SecretClaimArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            providerText,
            name,
            {
                namespaces: args.namespaces,
                secretName: args.secretName,
                owner: args.owner,
                takeOver: args.takeOver,
                registries: args.registries,
                takeOverFix: args.takeOverFix,
                serviceAccounts: args.serviceAccounts,
                kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
                verdicts: undefined,
                plannedTakeovers: undefined,
            },
            { ...opts, additionalSecretOutputs: ["kubeconfig"] },
            "registry-pull-secret",
            "SecretClaim",
        );
    }
}
