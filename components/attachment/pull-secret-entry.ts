/**
 * `PullSecretEntry`: a Pulumi dynamic resource that owns exactly one `imagePullSecrets` entry
 * (namespace, ServiceAccount, Secret name) and nothing else of the atomic list
 * (docs/facts.md#imagepullsecrets-is-an-atomic-list).
 * Its provider lives in components/attachment/pull-secret-entry-provider.ts and is loaded by package name.
 */
import * as pulumi from "@pulumi/pulumi";
import { PackageResource, providerByName } from "../cluster/provider-by-name";
import { provider as implementation } from "./pull-secret-entry-provider";

/** The arguments of a {@link PullSecretEntry}. */
export interface PullSecretEntryArgs {
    namespace: pulumi.Input<string>;
    serviceAccount: pulumi.Input<string>;
    secretName: pulumi.Input<string>;
    /** The owner id of the component the entry belongs to (components/rules/ownership.ts `ownerIdOf`). */
    owner: pulumi.Input<string>;
    /** A kubeconfig document or path; default: the stack's Kubernetes connection. A secret. */
    kubeconfig?: pulumi.Input<string>;
    /** An entry of our name listed already, which no owner's marker claims, becomes ours. Default: false. */
    takeOver?: boolean;
}

const providerText = providerByName("pull-secret-entry-provider", implementation);

/** One Secret name in one ServiceAccount's `imagePullSecrets`, owned alone. */
export class PullSecretEntry extends PackageResource {
    // `declare`: a class field would be defined after super() and hide the output it set (ES2022 fields).
    declare public readonly namespace: pulumi.Output<string>;
    declare public readonly serviceAccount: pulumi.Output<string>;
    declare public readonly secretName: pulumi.Output<string>;
    declare public readonly entry: pulumi.Output<string>;
    declare public readonly owner: pulumi.Output<string>;
    declare public readonly listedBefore: pulumi.Output<boolean>;
    declare public readonly present: pulumi.Output<boolean>;

    constructor(name: string, args: PullSecretEntryArgs, opts?: pulumi.CustomResourceOptions) {
        const props = {
            namespace: args.namespace,
            serviceAccount: args.serviceAccount,
            secretName: args.secretName,
            entry: pulumi.interpolate`${args.namespace}/${args.serviceAccount}: ${args.secretName}`,
            owner: args.owner,
            kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
            // Left out unless set, so the inputs of every entry declared without it stay as they were.
            takeOver: args.takeOver === true ? true : undefined,
            listedBefore: undefined,
            present: undefined,
        };
        super(
            providerText,
            name,
            props,
            { ...opts, additionalSecretOutputs: ["kubeconfig"] },
            "registry-pull-secret",
            "PullSecretEntry",
        );
    }
}
