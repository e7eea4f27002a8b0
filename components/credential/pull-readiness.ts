/**
 * `PullReadiness`: the step between a new credential and the Secrets that will hold it. Its create,
 * and its update whenever the credential changes (a rotation, a new password, a takeover's first
 * key), return only when the credential pulls from every listed registry and repository, as a kubelet
 * will pull with it (the proof is in components/credential/pull-readiness-provider.ts, its provider).
 * The Secrets depend on it, so they switch only to a credential that already pulls.
 */
import * as pulumi from "@pulumi/pulumi";
import { PackageResource, providerByName } from "../cluster/provider-by-name";
import type { ReadinessProbe } from "../rules/readiness";
import { provider as implementation } from "./pull-readiness-provider";

export interface PullReadinessArgs {
    username: pulumi.Input<string>;
    /** A secret. */
    password: pulumi.Input<string>;
    probes: pulumi.Input<ReadinessProbe[]>;
    timeoutSeconds: number;
    /** The component, on which the wait's progress is logged. */
    component: pulumi.Input<string>;
}

const providerText = providerByName("pull-readiness-provider", implementation);

/** Waits until the credential pulls; the Secrets wait for it. */
export class PullReadiness extends PackageResource {
    /** How long the last proof waited, in ms. */
    declare public readonly waitedMs: pulumi.Output<number>;

    constructor(name: string, args: PullReadinessArgs, opts: pulumi.CustomResourceOptions) {
        super(
            providerText,
            name,
            { ...args, password: pulumi.secret(args.password), waitedMs: undefined },
            { ...opts, additionalSecretOutputs: ["password"] },
            "registry-pull-secret",
            "PullReadiness",
        );
    }
}
