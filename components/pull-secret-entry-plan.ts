/**
 * Pure planning for one `imagePullSecrets` entry: from the live ServiceAccount and what we want,
 * the RFC 6902 operations to send. The list is atomic (docs/facts.md#imagepullsecrets-is-an-atomic-list),
 * so the only way to touch
 * one entry without owning the list is a JSON patch; every plan starts with a `test` of the
 * `resourceVersion`, so a writer who changed the account after our read makes the patch fail
 * (the API server answers 422, handlers/patch.go) instead of being overwritten.
 */

/** The parts of a ServiceAccount a plan reads. */
export interface LiveServiceAccount {
    metadata: { resourceVersion: string };
    imagePullSecrets?: { name?: string }[];
}

/** One RFC 6902 operation, as the API server accepts them with `application/json-patch+json`. */
export type PatchOperation =
    | { op: "test"; path: string; value: unknown }
    | { op: "add"; path: string; value: unknown }
    | { op: "remove"; path: string }
    | { op: "replace"; path: string; value: unknown };

/** What attaching found: whether the name was listed before us, and the patch (empty when it was). */
export interface AttachPlan {
    listedBefore: boolean;
    operations: PatchOperation[];
}

const names = (account: LiveServiceAccount): (string | undefined)[] =>
    (account.imagePullSecrets ?? []).map((entry) => entry.name);

const guard = (account: LiveServiceAccount): PatchOperation => ({
    op: "test",
    path: "/metadata/resourceVersion",
    value: account.metadata.resourceVersion,
});

/** Appends our name unless somebody already lists it; then we record that and change nothing. */
export function planAttach(account: LiveServiceAccount, secretName: string): AttachPlan {
    if (names(account).includes(secretName)) return { listedBefore: true, operations: [] };
    // `add /imagePullSecrets/-` needs the list to exist; the API server omits an empty list (omitempty).
    const add: PatchOperation =
        account.imagePullSecrets === undefined
            ? { op: "add", path: "/imagePullSecrets", value: [{ name: secretName }] }
            : { op: "add", path: "/imagePullSecrets/-", value: { name: secretName } };
    return { listedBefore: false, operations: [guard(account), add] };
}

/**
 * Removes one entry with our name (the last: ours was appended, and anything listed before us was
 * recorded as not ours). Nothing to do when the name is gone already. A list left empty is removed
 * as a whole, which is what the API server stores for an empty list anyway (omitempty).
 */
export function planDetach(account: LiveServiceAccount, secretName: string): PatchOperation[] {
    const index = names(account).lastIndexOf(secretName);
    if (index < 0) return [];
    const entry = account.imagePullSecrets![index];
    if (account.imagePullSecrets!.length === 1) {
        return [
            guard(account),
            { op: "test", path: "/imagePullSecrets", value: [entry] },
            { op: "remove", path: "/imagePullSecrets" },
        ];
    }
    const path = `/imagePullSecrets/${index}`;
    return [guard(account), { op: "test", path, value: entry }, { op: "remove", path }];
}

/**
 * A new Secret name takes our old entry's place, so the order others see does not change. When the
 * old entry is gone, this is an attach; when the new name is listed by others already, our old
 * entry goes and the new one is recorded as listed before us.
 */
export function planSwap(account: LiveServiceAccount, oldName: string, newName: string): AttachPlan {
    const list = names(account);
    const index = list.lastIndexOf(oldName);
    if (index < 0) return planAttach(account, newName);
    if (list.includes(newName)) return { listedBefore: true, operations: planDetach(account, oldName) };
    const path = `/imagePullSecrets/${index}`;
    return {
        listedBefore: false,
        operations: [
            guard(account),
            { op: "test", path, value: account.imagePullSecrets![index] },
            { op: "replace", path, value: { name: newName } },
        ],
    };
}

/** True when the name is listed: what `pulumi refresh` reports as our entry being present. */
export function isListed(account: LiveServiceAccount, secretName: string): boolean {
    return names(account).includes(secretName);
}
