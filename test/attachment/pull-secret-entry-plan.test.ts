/** The pure planner, with every planned patch applied by a real RFC 6902 implementation (fast-json-patch). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import jsonpatch, { type Operation } from "fast-json-patch";
import {
    planAttach,
    planDetach,
    planOwnerChange,
    planSwap,
    shouldRelinquish,
    type LiveServiceAccount,
    type PatchOperation,
} from "../../components/attachment/pull-secret-entry-plan";
import { entriesOwnedBy, ownerIdOf, ownersOfEntry, ownershipKeys } from "../../components/rules/ownership";

const owner = ownerIdOf("urn:pulumi:dev::app::registry-pull-secret:index:RegistryPullSecret::ours");
const other = ownerIdOf("urn:pulumi:prod::app::registry-pull-secret:index:RegistryPullSecret::theirs");
const secretName = fc.constantFrom("regcred", "a", "b", "c", "theirs", "regcred-2");
/**
 * Accounts as others leave them: any list, sometimes another owner's marker (naming some of the
 * listed names, as that owner's writes leave it) and an unrelated annotation.
 */
const account = fc
    .record({
        list: fc.option(fc.array(secretName, { maxLength: 6 }), { nil: undefined }),
        rv: fc.nat().map(String),
        otherPicks: fc.option(fc.array(fc.nat(), { maxLength: 2 }), { nil: undefined }),
        unrelated: fc.boolean(),
    })
    .map(({ list, rv, otherPicks, unrelated }): LiveServiceAccount => {
        const otherMarker =
            otherPicks === undefined || !list?.length
                ? undefined
                : [...new Set(otherPicks.map((i) => list[i % list.length]))];
        const annotations: Record<string, string> = {
            ...(otherMarker === undefined ? {} : { [ownershipKeys.entries(other)]: JSON.stringify(otherMarker) }),
            ...(unrelated ? { "example.com/note": "kept" } : {}),
        };
        return {
            metadata: { resourceVersion: rv, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
            ...(list === undefined || list.length === 0 ? {} : { imagePullSecrets: list.map((name) => ({ name })) }),
        };
    });

/** Applies like the API server: test ops must hold, an empty list or map is not stored (omitempty), the version moves. */
function apply(live: LiveServiceAccount, operations: PatchOperation[]): LiveServiceAccount {
    if (operations.length === 0) return live;
    const result = jsonpatch.applyPatch(structuredClone(live), operations as Operation[], true, false).newDocument;
    if (result.imagePullSecrets?.length === 0) delete result.imagePullSecrets;
    if (result.metadata.annotations && Object.keys(result.metadata.annotations).length === 0) {
        delete result.metadata.annotations;
    }
    result.metadata.resourceVersion = `${result.metadata.resourceVersion}+`;
    return result;
}
const names = (a: LiveServiceAccount) => (a.imagePullSecrets ?? []).map((e) => e.name);
const without = (list: (string | undefined)[], name: string) => list.filter((n) => n !== name);
const othersAnnotations = (a: LiveServiceAccount) =>
    Object.fromEntries(
        Object.entries(a.metadata.annotations ?? {}).filter(([key]) => key !== ownershipKeys.entries(owner)),
    );

describe("planning one imagePullSecrets entry", () => {
    it("attach lists our name exactly once, records it in our marker, and keeps others' entries, order and annotations", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                const plan = planAttach(live, name, owner);
                const after = apply(live, plan.operations);
                assert.equal(plan.listedBefore, names(live).includes(name));
                if (plan.listedBefore) assert.deepEqual(after, live);
                else {
                    assert.deepEqual(names(after), [...names(live), name]);
                    assert.deepEqual(entriesOwnedBy(after, owner), [name]);
                }
                assert.deepEqual(without(names(after), name), without(names(live), name));
                assert.deepEqual(othersAnnotations(after), othersAnnotations(live));
            }),
        );
    });

    it("after a lost answer (our patch applied), planning again finds the entry ours and changes nothing; for another owner it is not theirs", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                fc.pre(!names(live).includes(name));
                const applied = apply(live, planAttach(live, name, owner).operations);
                assert.deepEqual(planAttach(applied, name, owner), { listedBefore: false, operations: [] });
                assert.equal(planAttach(applied, name, other).listedBefore, true);
                assert.deepEqual(ownersOfEntry(applied, name), [owner]);
            }),
        );
    });

    it("attach then detach restores the list and the annotations exactly", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                fc.pre(!names(live).includes(name));
                const attached = apply(live, planAttach(live, name, owner).operations);
                const detached = apply(attached, planDetach(attached, name, owner, true));
                assert.deepEqual(detached.imagePullSecrets, live.imagePullSecrets);
                assert.deepEqual(detached.metadata.annotations, live.metadata.annotations);
            }),
        );
    });

    it("detach removes nothing of others: a name listed before us, with or without another owner's marker, stays", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                const plan = planAttach(live, name, owner);
                fc.pre(plan.listedBefore);
                const attached = apply(live, plan.operations);
                assert.deepEqual(planDetach(attached, name, owner, false), []);
            }),
        );
    });

    it("takeOver makes an entry of our name listed already ours (the kubectl recipe's), unless another owner's marker claims it; detach then removes it and keeps the rest", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                fc.pre(names(live).includes(name));
                const claimedByOther = ownersOfEntry(live, name).includes(other);
                const plan = planAttach(live, name, owner, { takeOver: true });
                assert.equal(plan.listedBefore, claimedByOther);
                const taken = apply(live, plan.operations);
                assert.deepEqual(names(taken), names(live), "taking over lists nothing new");
                if (claimedByOther) {
                    assert.deepEqual(taken, live);
                    return;
                }
                assert.deepEqual(entriesOwnedBy(taken, owner), [name]);
                const detached = apply(taken, planDetach(taken, name, owner, !plan.listedBefore));
                const removed = names(live).lastIndexOf(name);
                assert.deepEqual(names(detached), [
                    ...names(live).slice(0, removed),
                    ...names(live).slice(removed + 1),
                ]);
                assert.deepEqual(detached.metadata.annotations, live.metadata.annotations);
            }),
        );
    });

    it("a marker forged under our owner id naming another team's entry: detach removes only ours, theirs stays", () => {
        const live: LiveServiceAccount = { metadata: { resourceVersion: "3" }, imagePullSecrets: [{ name: "team-b" }] };
        const attached = apply(live, planAttach(live, "regcred", owner).operations);
        const forged = {
            ...attached,
            metadata: {
                ...attached.metadata,
                annotations: { [ownershipKeys.entries(owner)]: '["regcred","team-b"]' },
            },
        };
        const detached = apply(forged, planDetach(forged, "regcred", owner, true));
        assert.deepEqual(names(detached), ["team-b"]);
        assert.deepEqual(detached.metadata.annotations ?? {}, {});
    });

    it("a forged marker naming only another team's entry: detach still removes ours (the state says we added it) and none of theirs", () => {
        fc.assert(
            fc.property(
                account,
                secretName,
                fc.array(secretName, { minLength: 1, maxLength: 3 }),
                (live, name, theirs) => {
                    fc.pre(!names(live).includes(name) && !theirs.includes(name));
                    const attached = apply(live, planAttach(live, name, owner).operations);
                    const forged = {
                        ...attached,
                        metadata: {
                            ...attached.metadata,
                            annotations: {
                                ...attached.metadata.annotations,
                                [ownershipKeys.entries(owner)]: JSON.stringify([...new Set(theirs)].sort()),
                            },
                        },
                    };
                    const detached = apply(forged, planDetach(forged, name, owner, true));
                    assert.deepEqual(names(detached), names(live), "ours removed, every other entry kept");
                },
            ),
        );
    });

    it("detach of an entry from before markers (the state says ours) removes one entry with our name, the last, unless another owner's marker claims it now", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                const after = names(apply(live, planDetach(live, name, owner, true)));
                const before = names(live);
                const claimed = ownersOfEntry(live, name).some((claimant) => claimant !== owner);
                const removed = claimed ? -1 : before.lastIndexOf(name);
                assert.deepEqual(
                    after,
                    removed < 0 ? before : [...before.slice(0, removed), ...before.slice(removed + 1)],
                );
            }),
        );
    });

    it("swap puts the new name in our entry's place and moves our marker, others untouched; a lost swap answer plans nothing more", () => {
        fc.assert(
            fc.property(account, secretName, secretName, (live, oldName, newName) => {
                fc.pre(oldName !== newName && !names(live).includes(oldName) && !names(live).includes(newName));
                const attached = apply(live, planAttach(live, oldName, owner).operations);
                const swapped = apply(attached, planSwap(attached, oldName, newName, owner).operations);
                assert.deepEqual(names(swapped), [...names(live), newName]);
                assert.deepEqual(entriesOwnedBy(swapped, owner), [newName]);
                assert.deepEqual(othersAnnotations(swapped), othersAnnotations(live));
                const again = planSwap(swapped, oldName, newName, owner);
                assert.deepEqual(again, { listedBefore: false, operations: [] });
            }),
        );
    });

    it("an owner change moves the marker, so the entry stays ours under the new id", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                fc.pre(!names(live).includes(name));
                const renamed = ownerIdOf(
                    "urn:pulumi:renamed::app::registry-pull-secret:index:RegistryPullSecret::ours",
                );
                const attached = apply(live, planAttach(live, name, owner).operations);
                const moved = apply(attached, planOwnerChange(attached, owner, renamed));
                assert.equal(entriesOwnedBy(moved, owner), undefined);
                assert.deepEqual(planAttach(moved, name, renamed), { listedBefore: false, operations: [] });
            }),
        );
    });

    it("a stale claim (another owner's marker naming an entry removed by hand) is dropped when we list the name, so no two owners claim one entry", () => {
        const live: LiveServiceAccount = {
            metadata: { resourceVersion: "7", annotations: { [ownershipKeys.entries(other)]: '["regcred","b"]' } },
            imagePullSecrets: [{ name: "b" }],
        };
        const attached = apply(live, planAttach(live, "regcred", owner).operations);
        assert.deepEqual(ownersOfEntry(attached, "regcred"), [owner]);
        assert.deepEqual(entriesOwnedBy(attached, other), ["b"]);
        assert.deepEqual(names(attached), ["b", "regcred"]);
    });

    it("every write is guarded: a patch planned on a stale read fails its test instead of overwriting", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                const plan = planAttach(live, name, owner);
                fc.pre(plan.operations.length > 0);
                const changed = {
                    ...live,
                    metadata: { ...live.metadata, resourceVersion: `${live.metadata.resourceVersion}1` },
                };
                assert.throws(() => apply(changed, plan.operations), { name: "TEST_OPERATION_FAILED" });
            }),
        );
    });

    describe("a switch of attachMode on a live stack (the list declared by a server-side apply)", () => {
        const patchManager = "pulumi-kubernetes-3fa2b1c9";
        const applied = (
            list: string[],
            managers: string[],
            annotations?: Record<string, string>,
        ): LiveServiceAccount => ({
            metadata: {
                resourceVersion: "9",
                ...(annotations ? { annotations } : {}),
                managedFields: managers.map((manager) => ({
                    manager,
                    operation: "Apply",
                    fieldsV1: { "f:imagePullSecrets": {} },
                })),
            },
            imagePullSecrets: list.map((name) => ({ name })),
        });

        it("patch to merge: the entry our own ServiceAccountPatch made (our Secret) is handed over: co-owned first, then marked ours", () => {
            const live = applied(["regcred"], [patchManager]);
            const handOver = planAttach(live, "regcred", owner, { ownSecret: true });
            assert.equal(handOver.listedBefore, false);
            assert.equal(handOver.coOwn, ownershipKeys.listManager(owner));
            const coOwned = applied(["regcred"], [patchManager, ownershipKeys.listManager(owner)]);
            const marked = planAttach(coOwned, "regcred", owner);
            assert.equal(marked.coOwn, undefined, "co-owned already: no second apply");
            assert.equal(marked.listedBefore, false);
            assert.deepEqual(entriesOwnedBy(apply(coOwned, marked.operations), owner), ["regcred"]);
        });

        it("patch to merge: a Secret not ours or another owner's marker leaves the entry somebody else's; a GitOps applier gets no hand-over", () => {
            assert.deepEqual(planAttach(applied(["regcred"], [patchManager]), "regcred", owner), {
                listedBefore: true,
                operations: [],
            });
            const claimed = applied(["regcred"], [patchManager], { [ownershipKeys.entries(other)]: '["regcred"]' });
            assert.equal(planAttach(claimed, "regcred", owner, { ownSecret: true }).listedBefore, true);
            // Our Secret listed by a GitOps tool's apply: ours (it names the Secret we delete on destroy),
            // but no hand-over: only a Pulumi patch relinquishes the list at the end of this update.
            const gitOps = planAttach(applied(["regcred"], ["argocd-controller"]), "regcred", owner, {
                ownSecret: true,
            });
            assert.equal(gitOps.listedBefore, false);
            assert.equal(gitOps.coOwn, undefined);
        });

        it("merge to patch, or any other server-side apply declaring our entry: destroy removes only our marker and leaves the entry to that applier", () => {
            const live = applied(["regcred", "theirs"], [patchManager], {
                [ownershipKeys.entries(owner)]: '["regcred"]',
            });
            const detached = apply(live, planDetach(live, "regcred", owner, true));
            assert.deepEqual(names(detached), ["regcred", "theirs"]);
            assert.equal(entriesOwnedBy(detached, owner), undefined);
        });

        it("after a hand-over, with only our list manager left, destroy removes our entry as usual; beside another applier ours relinquishes first", () => {
            const ours = applied(["regcred"], [ownershipKeys.listManager(owner)], {
                [ownershipKeys.entries(owner)]: '["regcred"]',
            });
            assert.deepEqual(names(apply(ours, planDetach(ours, "regcred", owner, true))), []);
            assert.equal(shouldRelinquish(ours, owner), false);
            const both = applied(["regcred"], [ownershipKeys.listManager(owner), patchManager]);
            assert.equal(shouldRelinquish(both, owner), true);
        });
    });
});
