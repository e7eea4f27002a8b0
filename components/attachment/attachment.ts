import * as pulumi from "@pulumi/pulumi";
import { ServiceAccountPatch } from "@pulumi/kubernetes/core/v1";
import type { AttachMode } from "../args";
import { PullSecretEntry } from "./pull-secret-entry";

/** One ServiceAccount that should list the pull Secret in its `imagePullSecrets`. */
export interface PullSecretAttachmentArgs {
    namespace: string;
    serviceAccount: string;
    secretName: pulumi.Input<string>;
    mode: AttachMode;
    /** The component's owner id, recorded beside a `merge` entry (components/rules/ownership.ts). */
    owner: pulumi.Input<string>;
    /** A kubeconfig for `merge`; default: the stack's Kubernetes connection. */
    kubeconfig?: pulumi.Input<string>;
    /** `merge` only: an entry of our name that no owner claims becomes ours (the kubectl recipe's). */
    takeOver?: boolean;
}

/**
 * `merge` (default): a {@link PullSecretEntry} that adds and removes only our entry with guarded JSON
 * patches. `patch`: a server-side-apply `ServiceAccountPatch`; the list is atomic (kubernetes/api
 * core/v1 types.go `+listType=atomic`), so it conflicts with any other manager of the list (or, forced,
 * replaces their entries) and on destroy relinquishes the whole list (pulumi-kubernetes provider/pkg/ssa).
 */
export function attachPullSecret(
    name: string,
    args: PullSecretAttachmentArgs,
    opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
    if (args.mode === "patch") {
        return new ServiceAccountPatch(
            name,
            {
                metadata: { name: args.serviceAccount, namespace: args.namespace },
                imagePullSecrets: [{ name: args.secretName }],
            },
            opts,
        );
    }
    return new PullSecretEntry(
        name,
        {
            namespace: args.namespace,
            serviceAccount: args.serviceAccount,
            secretName: args.secretName,
            owner: args.owner,
            kubeconfig: args.kubeconfig,
            takeOver: args.takeOver,
        },
        opts,
    );
}
