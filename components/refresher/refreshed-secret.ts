/**
 * `RefreshedSecret`: a `kubernetes.io/dockerconfigjson` Secret whose content the token refresher owns;
 * Pulumi creates and deletes it but never holds or writes its data (the reasons are in
 * components/refresher/refreshed-secret-provider.ts, its provider).
 */
import * as pulumi from "@pulumi/pulumi";
import { PackageResource, providerByName } from "../cluster/provider-by-name";
import { provider as implementation } from "./refreshed-secret-provider";

export interface RefreshedSecretArgs {
    namespace: pulumi.Input<string>;
    secretName: pulumi.Input<string>;
    writer: pulumi.Input<string>;
    /** The owner id of the component (components/rules/ownership.ts), recorded as a label on the Secret. */
    owner: pulumi.Input<string>;
    /** A kubeconfig document or path; default: the stack's Kubernetes connection. A secret. */
    kubeconfig?: pulumi.Input<string>;
}

const providerText = providerByName("refreshed-secret-provider", implementation);

/** A `kubernetes.io/dockerconfigjson` Secret whose data only the token refresher writes. */
export class RefreshedSecret extends PackageResource {
    // `declare`: a class field would be defined after super() and hide the outputs it sets (ES2022 fields).
    declare public readonly namespace: pulumi.Output<string>;
    declare public readonly secretName: pulumi.Output<string>;
    declare public readonly writer: pulumi.Output<string>;
    declare public readonly owner: pulumi.Output<string>;

    constructor(name: string, args: RefreshedSecretArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            providerText,
            name,
            {
                namespace: args.namespace,
                secretName: args.secretName,
                writer: args.writer,
                owner: args.owner,
                kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
            },
            { ...opts, additionalSecretOutputs: ["kubeconfig"] },
            "registry-pull-secret",
            "RefreshedSecret",
        );
    }
}
