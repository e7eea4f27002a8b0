/**
 * Pure planning for one `imagePullSecrets` entry: from the live ServiceAccount and what we want,
 * the RFC 6902 operations to send. The list is atomic (docs/facts.md#imagepullsecrets-is-an-atomic-list),
 * so the only way to touch
 * one entry without owning the list is a JSON patch; every plan starts with a `test` of the
 * `resourceVersion`, so a writer who changed the account after our read makes the patch fail
 * (the API server answers 422, handlers/patch.go) instead of being overwritten.
 *
 * Ownership: the same patch that adds our entry records it in our owner's marker annotation
 * (components/rules/ownership.ts). A name is ours when our marker lists it, so a read after a lost answer
 * (the patch applied, the 504 or reset came back) or after an interrupted `pulumi up` (no state at
 * all) recognizes our own write instead of taking it for somebody else's.
 */
import { entriesOwnedBy, ownersOfEntry, ownershipKeys, pulumiKubernetesManagerPrefix } from "../rules/ownership";

/** One field manager's record in `metadata.managedFields`: the parts read here. */
export interface ManagedFieldsEntry {
    manager?: string;
    operation?: string;
    fieldsV1?: Record<string, unknown>;
}

/** The parts of a ServiceAccount a plan reads. */
export interface LiveServiceAccount {
    metadata: {
        resourceVersion: string;
        annotations?: Record<string, string>;
        managedFields?: ManagedFieldsEntry[];
    };
    imagePullSecrets?: { name?: string }[];
}

/** One RFC 6902 operation, as the API server accepts them with `application/json-patch+json`. */
export type PatchOperation =
    | { op: "test"; path: string; value: unknown }
    | { op: "add"; path: string; value: unknown }
    | { op: "remove"; path: string }
    | { op: "replace"; path: string; value: unknown };

/**
 * What attaching found: whether the name was listed by somebody else before us, and the patch;
 * `coOwn`: the field manager that first co-owns the list as it is by server-side apply (a hand-over
 * from `attachMode: "patch"`).
 */
export interface AttachPlan {
    listedBefore: boolean;
    operations: PatchOperation[];
    coOwn?: string;
}

const names = (account: LiveServiceAccount): (string | undefined)[] =>
    (account.imagePullSecrets ?? []).map((entry) => entry.name);

/**
 * The field managers that declare the list by server-side apply. The list is atomic, so each of them
 * owns all of it, and as long as one does, the list is what it applied (an update that changes the list
 * takes the ownership away). When the last of them relinquishes it (a `ServiceAccountPatch`'s delete:
 * pulumi-kubernetes provider/pkg/ssa/actions.go `Relinquish`), the API server removes the whole list.
 */
export function listAppliers(account: LiveServiceAccount): string[] {
    return (account.metadata.managedFields ?? [])
        .filter((entry) => entry.operation === "Apply" && entry.fieldsV1?.["f:imagePullSecrets"] !== undefined)
        .map((entry) => entry.manager ?? "");
}

/**
 * Whether the name is listed and no owner's marker claims it: the caller then reads the Secret of that
 * name ({@link planAttach} `ownSecret`). When it carries our owner label, the entry is ours whoever
 * listed it: our own write whose marker a tenant erased, or our `attachMode: "patch"`; an entry naming
 * the Secret we delete on destroy is of no use to anyone after it.
 */
export function needsSecretCheck(account: LiveServiceAccount, secretName: string): boolean {
    return names(account).includes(secretName) && ownersOfEntry(account, secretName).length === 0;
}

/**
 * Whether, besides {@link needsSecretCheck}, a `ServiceAccountPatch` (a Pulumi server-side apply other
 * than ours) declares the list: what our own `attachMode: "patch"` leaves when the stack switches to
 * `"merge"`, whose delete would remove the list unless someone else co-owns it.
 */
function mayBeHandedOver(account: LiveServiceAccount, secretName: string, owner: string): boolean {
    return (
        needsSecretCheck(account, secretName) &&
        listAppliers(account).some(
            (manager) =>
                manager.startsWith(pulumiKubernetesManagerPrefix) && manager !== ownershipKeys.listManager(owner),
        )
    );
}

/** What the caller knows beyond the live ServiceAccount. */
export interface AttachKnowledge {
    /** The state says we added the entry (before markers existed). */
    ours?: boolean;
    /** The user asked to take over an entry of our name that no owner claims (the kubectl recipe's). */
    takeOver?: boolean;
    /** The Secret of our name carries our owner label (read when {@link needsSecretCheck}). */
    ownSecret?: boolean;
}

const guard = (account: LiveServiceAccount): PatchOperation => ({
    op: "test",
    path: "/metadata/resourceVersion",
    value: account.metadata.resourceVersion,
});

/** RFC 6901: `~` and `/` in a member name are escaped. */
const pointer = (member: string) => member.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * The operations that make `owner`'s marker list exactly `wanted` (sorted, each once); none when it
 * does already. An empty list removes the annotation. `add` replaces a member that exists (RFC 6902
 * section 4.1); the `resourceVersion` test guarding the whole patch makes that safe.
 */
function markerOperations(account: LiveServiceAccount, owner: string, wanted: string[]): PatchOperation[] {
    const key = ownershipKeys.entries(owner);
    const annotations = account.metadata.annotations;
    const value = wanted.length === 0 ? undefined : JSON.stringify([...new Set(wanted)].sort());
    if (annotations?.[key] === value) return [];
    const path = `/metadata/annotations/${pointer(key)}`;
    if (value === undefined) return [{ op: "remove", path }];
    if (annotations === undefined) return [{ op: "add", path: "/metadata/annotations", value: { [key]: value } }];
    return [{ op: "add", path, value }];
}

const append = (account: LiveServiceAccount, name: string): PatchOperation =>
    // `add /imagePullSecrets/-` needs the list to exist; the API server omits an empty list (omitempty).
    account.imagePullSecrets === undefined
        ? { op: "add", path: "/imagePullSecrets", value: [{ name }] }
        : { op: "add", path: "/imagePullSecrets/-", value: { name } };

/**
 * When we list a name nobody lists, another owner's marker that still names it is stale (its entry
 * was removed by hand): the name leaves that marker in the same patch, so no two owners ever claim
 * one entry.
 */
const staleClaims = (account: LiveServiceAccount, name: string, owner: string): PatchOperation[] =>
    ownersOfEntry(account, name)
        .filter((claimant) => claimant !== owner)
        .flatMap((claimant) =>
            markerOperations(
                account,
                claimant,
                (entriesOwnedBy(account, claimant) ?? []).filter((n) => n !== name),
            ),
        );

/**
 * Appends our name and records it in our marker, unless the name is listed already: then it is ours
 * when our marker lists it (our own earlier write) or when the caller knows it is (`ours`: the state of
 * an entry we added before markers existed; the marker is written now), or when the user asked to take
 * it over (`takeOver`: the kubectl recipe's entry) and no other owner's marker claims it; somebody
 * else's otherwise (we record that and change nothing).
 *
 * A listed name no marker claims whose Secret carries our owner label (`ownSecret`) is ours too. When
 * a Pulumi server-side apply declares the list (our own `attachMode: "patch"` before a switch to
 * `"merge"`), the list is first co-owned as it is (`coOwn`), so the old `ServiceAccountPatch`'s delete,
 * which the engine runs after this create, leaves it in place; our list manager co-owning it already
 * makes it ours as well.
 */
export function planAttach(
    account: LiveServiceAccount,
    secretName: string,
    owner: string,
    { ours = false, takeOver = false, ownSecret = false }: AttachKnowledge = {},
): AttachPlan {
    const marked = entriesOwnedBy(account, owner) ?? [];
    const marker = markerOperations(account, owner, [...marked, secretName]);
    if (names(account).includes(secretName)) {
        const claimedByOthers = ownersOfEntry(account, secretName).some((claimant) => claimant !== owner);
        const taken = takeOver && !claimedByOthers;
        const coOwned = !claimedByOthers && listAppliers(account).includes(ownershipKeys.listManager(owner));
        const ourSecret = ownSecret && !claimedByOthers;
        const handOver = !coOwned && ourSecret && mayBeHandedOver(account, secretName, owner);
        if (!ours && !taken && !marked.includes(secretName) && !coOwned && !ourSecret) {
            return { listedBefore: true, operations: [] };
        }
        return {
            listedBefore: false,
            operations: marker.length > 0 ? [guard(account), ...marker] : [],
            ...(handOver ? { coOwn: ownershipKeys.listManager(owner) } : {}),
        };
    }
    return {
        listedBefore: false,
        operations: [
            guard(account),
            append(account, secretName),
            ...staleClaims(account, secretName, owner),
            ...marker,
        ],
    };
}

/**
 * Moves `from`'s marker to `to` (a component whose owner id changed: a renamed stack or project), so
 * its entries stay its own; nothing when `from` has no marker here.
 */
export function planOwnerChange(account: LiveServiceAccount, from: string, to: string): PatchOperation[] {
    const moved = entriesOwnedBy(account, from);
    if (moved === undefined || from === to) return [];
    const kept = entriesOwnedBy(account, to) ?? [];
    return [
        guard(account),
        ...markerOperations(account, from, []),
        ...markerOperations(account, to, [...kept, ...moved]),
    ];
}

/**
 * Removes our entries and our marker. Ours: `secretName` when the state says we added it (`addedByUs`),
 * and the names in `confirmed`: names our marker lists whose Secret, read by the caller, carries our
 * owner label (a swap whose update was interrupted, so the state still names the old Secret). Never a
 * name only our marker lists: a marker is anybody's to write (whoever may patch the ServiceAccount), so
 * a marker forged under our owner id, naming other teams' entries, removes none of theirs, and one naming
 * only theirs does not keep ours. Nor a name another owner's marker claims now. Our marker itself always
 * goes. One entry per name goes, the last (ours was appended); a list left empty is removed as a whole,
 * which is what the API server stores for an empty list anyway (omitempty). Nothing to do when nothing of
 * ours is left.
 */
export function planDetach(
    account: LiveServiceAccount,
    secretName: string,
    owner: string | undefined,
    addedByUs: boolean,
    confirmed: string[] = [],
): PatchOperation[] {
    const ours = declaredByOthers(account, owner)
        ? []
        : [...(addedByUs ? [secretName] : []), ...confirmed].filter(
              (name) => !ownersOfEntry(account, name).some((claimant) => claimant !== owner),
          );
    const list = names(account);
    const indices = [...new Set(ours.map((name) => list.lastIndexOf(name)).filter((i) => i >= 0))].sort(
        (a, b) => b - a,
    );
    const marker = owner === undefined ? [] : markerOperations(account, owner, []);
    if (indices.length === 0 && marker.length === 0) return [];
    const entries = account.imagePullSecrets ?? [];
    const removals: PatchOperation[] =
        indices.length > 0 && indices.length === entries.length
            ? [
                  { op: "test", path: "/imagePullSecrets", value: entries },
                  { op: "remove", path: "/imagePullSecrets" },
              ]
            : indices.flatMap((index): PatchOperation[] => [
                  { op: "test", path: `/imagePullSecrets/${index}`, value: entries[index] },
                  { op: "remove", path: `/imagePullSecrets/${index}` },
              ]);
    return [guard(account), ...removals, ...marker];
}

/**
 * Whether a server-side apply other than ours declares the list (a `ServiceAccountPatch` of
 * `attachMode: "patch"` that took over from us, a GitOps tool): the list it applied holds our entry, so
 * removing the entry would undo its declaration; that applier relinquishes it, and we take only our
 * marker away. A stale applier (a patch whose stack forgot it) can at most make us leave ours behind.
 */
function declaredByOthers(account: LiveServiceAccount, owner: string | undefined): boolean {
    return listAppliers(account).some((manager) => owner === undefined || manager !== ownershipKeys.listManager(owner));
}

/** Whether our list manager co-owns the list while another applier declares it: ours goes, theirs stays. */
export function shouldRelinquish(account: LiveServiceAccount, owner: string | undefined): boolean {
    return (
        owner !== undefined &&
        listAppliers(account).includes(ownershipKeys.listManager(owner)) &&
        declaredByOthers(account, owner)
    );
}

/** The names `owner`'s marker lists besides `secretName`: candidates the caller confirms by their Secret's owner label. */
export function unconfirmedMarkerNames(
    account: LiveServiceAccount,
    secretName: string,
    owner: string | undefined,
): string[] {
    if (owner === undefined) return [];
    return (entriesOwnedBy(account, owner) ?? []).filter(
        (name) => name !== secretName && names(account).includes(name),
    );
}

/**
 * A new Secret name takes our old entry's place, so the order others see does not change, and our
 * marker follows. Our old entry: the marker lists it, or there is no marker and the state says we
 * added it (the caller only swaps then). When it is gone, or not ours, this is an attach; when the new
 * name is listed already, our old entry goes and the new one is ours only if our marker lists it (a
 * swap whose answer was lost), else somebody else's.
 */
export function planSwap(account: LiveServiceAccount, oldName: string, newName: string, owner: string): AttachPlan {
    const marked = entriesOwnedBy(account, owner);
    const after = (marked ?? []).filter((name) => name !== oldName);
    const list = names(account);
    const index = list.lastIndexOf(oldName);
    const newListed = list.includes(newName);
    const newIsOurs = !newListed || after.includes(newName);
    const marker = markerOperations(account, owner, newIsOurs ? [...after, newName] : after);
    if (index < 0 || (marked !== undefined && !marked.includes(oldName))) {
        // No old entry of ours to swap: attach the new name (or find it listed), and drop the old from the marker.
        const operations = newListed
            ? marker
            : [append(account, newName), ...staleClaims(account, newName, owner), ...marker];
        return { listedBefore: !newIsOurs, operations: operations.length > 0 ? [guard(account), ...operations] : [] };
    }
    const path = `/imagePullSecrets/${index}`;
    return {
        listedBefore: !newIsOurs,
        operations: [
            guard(account),
            { op: "test", path, value: account.imagePullSecrets![index] },
            ...(newListed
                ? [{ op: "remove", path } as const]
                : [
                      { op: "replace", path, value: { name: newName } } as const,
                      ...staleClaims(account, newName, owner),
                  ]),
            ...marker,
        ],
    };
}

/** True when the name is listed: what `pulumi refresh` reports as our entry being present. */
export function isListed(account: LiveServiceAccount, secretName: string): boolean {
    return names(account).includes(secretName);
}
