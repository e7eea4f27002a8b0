/**
 * `KeyHandover`: after a key rotation switched every Secret to the new key, the old key stays valid
 * for a grace period before the engine deletes it (the reasons are in
 * components/credential/key-handover-provider.ts, its provider).
 */
import * as pulumi from "@pulumi/pulumi";
import { PackageResource, providerByName } from "../cluster/provider-by-name";
import { provider as implementation } from "./key-handover-provider";

/**
 * How long a replaced key outlives the switch, in seconds: twice the longest backoff of a kubelet whose
 * watch on the Secret just broke (docs/facts.md#the-kubelet-reads-pull-secrets-through-a-cache).
 */
export const keyHandoverSeconds = 60;

export interface KeyHandoverArgs {
    keyName: pulumi.Input<string>;
    graceSeconds: number;
}

const providerText = providerByName("key-handover-provider", implementation);

/** Waits, when the key changed, between the Secrets' switch and the old key's deletion. */
export class KeyHandover extends PackageResource {
    declare public readonly keyName: pulumi.Output<string>;
    declare public readonly graceSeconds: pulumi.Output<number>;

    constructor(name: string, args: KeyHandoverArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            providerText,
            name,
            { keyName: args.keyName, graceSeconds: args.graceSeconds },
            opts ?? {},
            "registry-pull-secret",
            "KeyHandover",
        );
    }
}
