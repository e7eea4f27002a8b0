import * as pulumi from "@pulumi/pulumi";
import { ServiceAccountPatch } from "@pulumi/kubernetes/core/v1";

/** One ServiceAccount that should list the pull Secret in its `imagePullSecrets`. */
export interface PullSecretAttachmentArgs {
    namespace: string;
    serviceAccount: string;
    secretName: pulumi.Input<string>;
}

/**
 * Puts the Secret into a ServiceAccount's `imagePullSecrets` with a server-side-apply
 * `ServiceAccountPatch`. The list is atomic (kubernetes/api core/v1 types.go `+listType=atomic`):
 * this patch conflicts with any other manager of the list, and on destroy relinquishes the whole list
 * (pulumi-kubernetes provider/pkg/ssa). The README says so; the mechanism stays behind this one
 * function so it can be replaced without touching the component.
 */
export function attachPullSecret(
    name: string,
    args: PullSecretAttachmentArgs,
    opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
    return new ServiceAccountPatch(
        name,
        {
            metadata: { name: args.serviceAccount, namespace: args.namespace },
            imagePullSecrets: [{ name: args.secretName }],
        },
        opts,
    );
}
