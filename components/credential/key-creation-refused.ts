/**
 * What the user must hear when Google refuses to create the service-account key because an
 * organization policy forbids keys. Pure: no Pulumi.
 *
 * Organizations created on or after 2024-05-03 enforce `iam.disableServiceAccountKeyCreation` by
 * default (docs/facts.md#registries-and-the-reader-role). Google then answers the key's create with
 * HTTP 400 FAILED_PRECONDITION and the message below, the constraint named only in a
 * `google.rpc.PreconditionFailure` detail (cloud.google.com/iam/docs/troubleshoot-org-policies, "Key
 * creation error"); the Terraform provider behind `@pulumi/gcp` passes it on as "Error creating service
 * account key: googleapi: Error 400: ..." with the details as JSON. Nothing in that text says what to
 * change in the program: this does.
 */

/** Google's message for a key the organization policy forbids. */
export const keyCreationRefusal = "Key creation is not allowed on this service account.";

/**
 * The constraints that forbid new keys: the legacy boolean one, and the managed constraint Google
 * introduced beside it (resource-manager/docs/secure-by-default-organizations).
 */
const keyCreationConstraints = [
    "constraints/iam.disableServiceAccountKeyCreation",
    "constraints/iam.managed.disableServiceAccountKeyCreation",
];

/** Whether the newest of a failed create's errors is Google refusing the key for an organization policy. */
export function isKeyCreationRefusal(errors: readonly string[]): boolean {
    const newest = errors[0] ?? "";
    return newest.includes(keyCreationRefusal) || keyCreationConstraints.some((c) => newest.includes(c));
}

/** Whether the settings come as the component's arguments or as this repository's sample stack config. */
export type SettingsSource = "arguments" | "stackConfig";

/**
 * The way out, naming the settings in the program the user has: the component's arguments, or the
 * sample program's stack config keys (components/stack-config.ts).
 */
export function keyCreationRefusedFix(keyResourceName: string, settings: SettingsSource): string {
    const set =
        settings === "arguments"
            ? {
                  accessToken: 'gcp.credential: "accessToken" (with gcp.projectNumber)',
                  gkeNode: 'gcp.credential: "gkeNode" (with gcp.serviceAccountEmail the node pool\'s account)',
                  existingKey: "gcp.existingKey",
              }
            : {
                  accessToken: "pulumi config set credential accessToken (and projectNumber)",
                  gkeNode:
                      "pulumi config set credential gkeNode (and serviceAccountEmail the node pool's account, no namespaces or registries)",
                  existingKey:
                      "pulumi config set --secret existingKey < key.json (and pulumi config rm serviceAccountId)",
              };
    return [
        `Google refused to create the service-account key ${keyResourceName} ("${keyCreationRefusal}"):`,
        "an organization policy (constraints/iam.disableServiceAccountKeyCreation, enforced by default in organizations created since 2024-05-03) forbids new keys for this service account.",
        "Choose a credential that needs no new key:",
        `${set.accessToken}, short-lived tokens a refresher in the cluster keeps fresh, no key anywhere;`,
        `or on GKE ${set.gkeNode}, the nodes pull with their own account, no Secret;`,
        `or ${set.existingKey}, a key issued where the policy allows it;`,
        "or ask an organization policy administrator for an exception for this project.",
        "See docs/rotation.md#existing-keys-and-the-iamdisableserviceaccountkeycreation-policy.",
    ].join(" ");
}
