/** The pure planner, with every planned patch applied by a real RFC 6902 implementation (fast-json-patch). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import jsonpatch, { type Operation } from "fast-json-patch";
import {
    planAttach,
    planDetach,
    planSwap,
    type LiveServiceAccount,
    type PatchOperation,
} from "../components/pull-secret-entry-plan";

const secretName = fc.constantFrom("regcred", "a", "b", "c", "theirs", "regcred-2");
const account = fc
    .record({ list: fc.option(fc.array(secretName, { maxLength: 6 }), { nil: undefined }), rv: fc.nat().map(String) })
    .map(({ list, rv }): LiveServiceAccount => ({
        metadata: { resourceVersion: rv },
        ...(list === undefined || list.length === 0 ? {} : { imagePullSecrets: list.map((name) => ({ name })) }),
    }));

/** Applies like the API server: test ops must hold, and an empty list is not stored (omitempty). */
function apply(live: LiveServiceAccount, operations: PatchOperation[]): LiveServiceAccount {
    const result = jsonpatch.applyPatch(structuredClone(live), operations as Operation[], true, false).newDocument;
    if (result.imagePullSecrets?.length === 0) delete result.imagePullSecrets;
    return result;
}
const names = (a: LiveServiceAccount) => (a.imagePullSecrets ?? []).map((e) => e.name);
const without = (list: (string | undefined)[], name: string) => list.filter((n) => n !== name);

describe("planning one imagePullSecrets entry", () => {
    it("attach lists our name exactly once and keeps others and their order", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                const plan = planAttach(live, name);
                const after = names(apply(live, plan.operations));
                assert.equal(plan.listedBefore, names(live).includes(name));
                if (plan.listedBefore) assert.deepEqual(after, names(live));
                else assert.deepEqual(after, [...names(live), name]);
                assert.deepEqual(without(after, name), without(names(live), name));
            }),
        );
    });

    it("attach then detach restores the list exactly", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                fc.pre(!names(live).includes(name));
                const attached = apply(live, planAttach(live, name).operations);
                const detached = apply(attached, planDetach(attached, name));
                assert.deepEqual(detached.imagePullSecrets, live.imagePullSecrets);
            }),
        );
    });

    it("planning again after applying changes nothing (idempotent)", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                const attached = apply(live, planAttach(live, name).operations);
                assert.deepEqual(planAttach(attached, name), { listedBefore: true, operations: [] });
                const detached = apply(attached, planDetach(attached, name));
                if (!names(attached).slice(0, -1).includes(name)) assert.deepEqual(planDetach(detached, name), []);
            }),
        );
    });

    it("detach removes one entry with our name and nothing of others", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                const after = names(apply(live, planDetach(live, name)));
                const before = names(live);
                const removed = before.lastIndexOf(name);
                assert.deepEqual(
                    after,
                    removed < 0 ? before : [...before.slice(0, removed), ...before.slice(removed + 1)],
                );
            }),
        );
    });

    it("swap puts the new name in our entry's place, others untouched", () => {
        fc.assert(
            fc.property(account, secretName, secretName, (live, oldName, newName) => {
                fc.pre(oldName !== newName && !names(live).includes(oldName) && !names(live).includes(newName));
                const attached = apply(live, planAttach(live, oldName).operations);
                const swapped = names(apply(attached, planSwap(attached, oldName, newName).operations));
                assert.deepEqual(swapped, [...names(live), newName]);
            }),
        );
    });

    it("every write is guarded: a patch planned on a stale read fails its test instead of overwriting", () => {
        fc.assert(
            fc.property(account, secretName, (live, name) => {
                const plan = planAttach(live, name);
                fc.pre(plan.operations.length > 0);
                const changed = { ...live, metadata: { resourceVersion: `${live.metadata.resourceVersion}1` } };
                assert.throws(() => apply(changed, plan.operations), { name: "TEST_OPERATION_FAILED" });
            }),
        );
    });
});
