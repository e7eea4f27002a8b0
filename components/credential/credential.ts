import * as pulumi from "@pulumi/pulumi";
import { Account, Key } from "@pulumi/gcp/serviceaccount";
import { childNames } from "../names";
import type { CreateKeyCredential, ExistingKeyCredential, StaticCredential } from "../parse";
import { grantReader } from "./grants";
import { isKeyCreationRefusal, keyCreationRefusedFix, type SettingsSource } from "./key-creation-refused";
import { KeyHandover, keyHandoverSeconds } from "./key-handover";
import { keyExpiryProblem, keyKeepers, keyRotatesAfter, type KeySchedule } from "./rotation";
import { serviceAccountKeyName } from "./service-account-key";

export { readerRole } from "./grants";

/**
 * Artifact Registry accepts `_json_key_base64` with the key file in base64, and the provider's
 * `privateKey` is exactly that: it goes in as it is, so nothing decodes or re-encodes key material.
 */
export const keyUsername = "_json_key_base64";

/** What the Secret and the component's outputs need from wherever the credential comes from. */
export interface RegistryCredential {
    username: pulumi.Output<string>;
    /** Always a secret. */
    password: pulumi.Output<string>;
    /** The service account the key belongs to; `""` for `credentials`. */
    serviceAccountEmail: pulumi.Output<string>;
    /** The key's resource name (not its material); `""` for `credentials`. */
    keyName: pulumi.Output<string>;
    /** RFC 3339 time of the next scheduled key rotation; `""` when nothing rotates on a schedule. */
    keyRotatesAfter: pulumi.Output<string>;
    /**
     * For a created key: declares, after `secrets` (every Secret that holds the key), the grace a
     * replaced key keeps before the engine deletes it (components/credential/key-handover.ts).
     */
    handOver?: (secrets: pulumi.Resource[]) => void;
}

/**
 * Declares the credential's part of the graph as children of `parent` (so their URNs stay what they
 * were before this module existed): service account -> repository grants -> key, an existing key
 * behind the grants, or nothing for plain credentials.
 */
export function declareCredential(
    name: string,
    source: StaticCredential,
    opts: { parent: pulumi.Resource; now: Date; settings: SettingsSource },
): RegistryCredential {
    switch (source.mode) {
        case "createKey":
            return createKey(name, source.gcp, opts);
        case "existingKey":
            return existingKey(name, source.gcp, opts.parent);
        case "credentials":
            return {
                username: pulumi.output(source.username),
                password: source.password,
                serviceAccountEmail: pulumi.output(""),
                keyName: pulumi.output(""),
                keyRotatesAfter: pulumi.output(""),
            };
    }
}

function createKey(
    name: string,
    gcp: CreateKeyCredential["gcp"],
    { parent, now, settings }: { parent: pulumi.Resource; now: Date; settings: SettingsSource },
): RegistryCredential {
    const account =
        gcp.serviceAccountId === undefined
            ? undefined
            : new Account(
                  childNames.serviceAccount(name),
                  {
                      project: gcp.project,
                      accountId: gcp.serviceAccountId,
                      displayName: "Image pulls",
                      description: `Pulls images for the Kubernetes Secret of Pulumi component ${name}.`,
                  },
                  { parent },
              );
    const serviceAccountEmail = account
        ? account.email
        : pulumi.output(gcp.serviceAccountEmail as pulumi.Input<string>);
    const member = account ? account.member : pulumi.interpolate`serviceAccount:${serviceAccountEmail}`;
    const grants = grantReader(name, gcp, member, parent, account ? "created" : "existing");

    const schedule: pulumi.Output<KeySchedule> = pulumi
        .all([gcp.keyRotationDays, gcp.keyVersion])
        .apply(([rotationDays, keyVersion]) => ({ now, rotationDays, keyVersion }));
    // Changed keepers replace the key; Pulumi creates the new key, updates the Secrets that read its
    // privateKey in place, and deletes the old key last (create-before-replace, the default: no
    // deleteBeforeReplace here), after the handover's grace, so pulls never lack a valid key and at most
    // two keys of ours exist.
    // The key waits for the grants so that no Secret ever holds a credential that cannot pull yet.
    const keyName = childNames.key(name);
    const refused = engineRunsErrorHooks()
        ? new pulumi.ErrorHook(
              uniqueHookName(`${name}-key-creation-refused`),
              onKeyCreationError(keyName, parent, settings),
          )
        : undefined;
    const key = new Key(
        keyName,
        { serviceAccountId: account ? account.name : serviceAccountEmail, keepers: schedule.apply(keyKeepers) },
        { parent, dependsOn: grants, ...(refused ? { hooks: { onError: [refused] } } : {}) },
    );
    // Reported on every run that knows the key's expiry (not in a preview of a new key).
    pulumi
        .all([key.validBefore, gcp.keyRotationDays, gcp.keyVersion])
        .apply(([validBefore, rotationDays, keyVersion]) => {
            const problem = keyExpiryProblem(validBefore, { now, rotationDays, keyVersion });
            if (problem !== undefined) void pulumi.log.warn(problem, parent);
        });
    return {
        username: pulumi.output(keyUsername),
        password: pulumi.secret(key.privateKey),
        serviceAccountEmail,
        keyName: key.name,
        keyRotatesAfter: schedule.apply(keyRotatesAfter),
        handOver: (secrets) => {
            new KeyHandover(
                childNames.keyHandover(name),
                { keyName: key.name, graceSeconds: keyHandoverSeconds },
                { parent, dependsOn: secrets },
            );
        },
    };
}

function existingKey(name: string, gcp: ExistingKeyCredential["gcp"], parent: pulumi.Resource): RegistryCredential {
    const { existingKey: key, identity, serviceAccountEmail } = gcp;
    const grants = grantReader(
        name,
        gcp,
        pulumi.interpolate`serviceAccount:${serviceAccountEmail}`,
        parent,
        "existing",
    );
    return {
        username: pulumi.output(keyUsername),
        // Reading the checked email and the grants' ids makes every Secret wait for them (and fail
        // with a key that belongs to another account), as Secrets wait for a created key.
        password: pulumi.secret(
            pulumi.all([key, serviceAccountEmail, grants.map((grant) => grant.id)]).apply(([read]) => read.base64),
        ),
        serviceAccountEmail,
        keyName: identity.apply(serviceAccountKeyName),
        keyRotatesAfter: pulumi.output(""),
    };
}

/**
 * The key's error hook: when the engine's create of the key fails because an organization policy forbids
 * keys, it logs on the component what to set instead (./key-creation-refused.ts), beside the provider's
 * own error, which stays as it is. It never retries: nothing changes by trying again. The engine calls
 * a resource's error hooks after each failed create, update or delete (pulumi/pulumi
 * pkg/resource/deploy/step.go, v3.274.1), in this process, while the program still waits for the key.
 */
export function onKeyCreationError(
    keyResourceName: string,
    component: pulumi.Resource,
    settings: SettingsSource,
): (args: pulumi.ErrorHookArgs) => Promise<boolean> {
    return async (args) => {
        try {
            if (args.failedOperation === "create" && isKeyCreationRefusal(args.errors)) {
                // The component, not the key: the key's URN is not resolved until its registration ends.
                await pulumi.log.error(keyCreationRefusedFix(keyResourceName, settings), component);
            }
        } catch {
            // A hook that throws replaces the provider's error with its own: say nothing rather than that.
        }
        return false;
    };
}

/** Hook names this process registered: the engine refuses a second hook of the same name. */
const hookNames = new Set<string>();

/**
 * `base`, or `base-2`, `base-3`, ... when it is taken: two components of one name under different
 * parents are two URNs, and each key gets its own hook.
 */
function uniqueHookName(base: string): string {
    let name = base;
    for (let n = 2; hookNames.has(name); n++) name = `${base}-${n}`;
    hookNames.add(name);
    return name;
}

/**
 * Whether the engine runs error hooks. @pulumi/pulumi asks the engine before the program runs and keeps
 * the answer in its state (runtime/settings.js `awaitFeatureSupport`); a `pulumi.ErrorHook` made for an
 * engine without them (an older CLI) fails the resource it is bound to, and the mock monitor of
 * `pulumi.runtime.setMocks` has no `registerErrorHook`. The SDK exports no reader of that answer, so
 * it is read from the SDK's state module; any doubt means no hook, and the provider's error alone.
 */
export function engineRunsErrorHooks(): boolean {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { supportsErrorHooks?: unknown } };
        const monitor = pulumi.runtime.getMonitor() as { registerErrorHook?: unknown } | undefined;
        return state.getStore().supportsErrorHooks === true && typeof monitor?.registerErrorHook === "function";
    } catch {
        return false;
    }
}
