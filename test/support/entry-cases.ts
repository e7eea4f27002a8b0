/**
 * The `PullSecretEntry` provider's cases (create, read, update, delete, diff through
 * @kubernetes/client-node), written once and run against any cluster that offers this interface:
 * the API-server DOUBLE (test/attachment/attachment-keeps-other-entries.test.ts) and a REAL kube-apiserver
 * behind a fault-injecting proxy (test/engine/real-api-server.test.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
    entryProvider,
    type EntryInputs,
    type EntryState,
} from "../../components/attachment/pull-secret-entry-provider";
import type { EntryTiming } from "../../components/attachment/pull-secret-entry-client";
import { entriesOwnedBy, ownerIdOf, ownersOfEntry, ownershipKeys } from "../../components/rules/ownership";
import type { LostAnswer } from "./fault-injection";

/** What the cases need from a cluster: seed and read ServiceAccounts, inject faults, see requests. */
export interface EntryCluster {
    /** A kubeconfig document for the provider (requests go through the fault injection and the log). */
    kubeconfig: string;
    /** Creates or replaces a ServiceAccount (as another writer would), bumping its resourceVersion. */
    put(namespace: string, name: string, pullSecrets?: string[]): void | Promise<void>;
    /** Replaces the list of an existing ServiceAccount and keeps its annotations (the recipe's `kubectl patch`). */
    setPullSecrets(namespace: string, name: string, pullSecrets: string[]): void | Promise<void>;
    /** Creates a pull Secret with these labels (the component's Secret carries its owner's). */
    putSecret(namespace: string, name: string, labels: Record<string, string>): void | Promise<void>;
    /** The names listed now, `undefined` when the account does not exist. */
    pullSecrets(namespace: string, name: string): (string[] | undefined) | Promise<string[] | undefined>;
    /** Removes a namespace and everything in it (returns once it is gone). */
    deleteNamespace(namespace: string): void | Promise<void>;
    /** The next answers to any request are these statuses, one each, before real handling resumes. */
    failNext(...statuses: number[]): void;
    /** Runs once, after the next PATCH arrives and before it is applied: a concurrent writer. */
    beforeNextPatch(write: () => void | Promise<void>): void;
    /** The next PATCH is applied and its answer lost (a proxy's 504, or a reset connection). */
    loseNextPatchAnswer(how: LostAnswer): void;
    /** Drops every fault armed and not yet fired. */
    disarm(): void;
    /** The ServiceAccount's annotations now (`{}` when none, `undefined` when the account does not exist). */
    annotations(
        namespace: string,
        name: string,
    ): (Record<string, string> | undefined) | Promise<Record<string, string> | undefined>;
    /** Sets one annotation of a ServiceAccount, as a tenant with patch rights would. */
    forgeAnnotation(namespace: string, name: string, key: string, value: string): void | Promise<void>;
    /** Requests seen, as `METHOD path status`. */
    log: string[];
    close(): Promise<void>;
}

/** Owner ids of two components (components/rules/ownership.ts), as the component computes them from its URN. */
const owners = {
    ours: ownerIdOf("urn:pulumi:dev::app::registry-pull-secret:index:RegistryPullSecret::regcred"),
    other: ownerIdOf("urn:pulumi:prod::other-app::registry-pull-secret:index:RegistryPullSecret::regcred"),
};

/** The labels a component's pull Secret carries (components/rules/ownership.ts). */
const ownerLabels = (owner: string) => ({
    [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value,
    [ownershipKeys.secretOwner]: owner,
});

export function describeEntryCases(title: string, startCluster: () => Promise<EntryCluster>, timing: EntryTiming) {
    describe(title, () => {
        let cluster: EntryCluster;
        const provider = entryProvider(undefined, timing);
        const inputs = (
            namespace: string,
            secretName = "regcred",
            serviceAccount = "default",
            owner = owners.ours,
        ): EntryInputs => ({
            namespace,
            serviceAccount,
            secretName,
            entry: `${namespace}/${serviceAccount}: ${secretName}`,
            owner,
            kubeconfig: cluster.kubeconfig,
        });
        const create = async (i: EntryInputs) => (await provider.create(i)).outs as EntryState;
        const marker = async (namespace: string, owner = owners.ours) =>
            entriesOwnedBy({ metadata: { annotations: await cluster.annotations(namespace, "default") } }, owner);

        before(async () => (cluster = await startCluster()));
        after(async () => cluster.close());

        it("appends our name after the others and removes only it on delete, others kept in order", async () => {
            await cluster.put("keep", "default", ["theirs-1", "theirs-2"]);
            const state = await create(inputs("keep"));
            assert.deepEqual(await cluster.pullSecrets("keep", "default"), ["theirs-1", "theirs-2", "regcred"]);
            assert.equal(state.listedBefore, false);
            assert.equal(state.entry, "keep/default: regcred");
            await provider.delete!("id", state);
            assert.deepEqual(await cluster.pullSecrets("keep", "default"), ["theirs-1", "theirs-2"]);
        });

        // Found by the fault campaign (test/support/fault-campaign.ts; shrunk schedule: an interrupted
        // up whose create applied, a tenant writing our marker as [], the next up): the entry was taken
        // for somebody else's and left behind by destroy.
        it("an entry of ours whose marker a tenant erased after an interrupted create is still ours by its Secret's owner label: destroy removes it", async () => {
            await cluster.put("erased", "default", ["theirs"]);
            await cluster.putSecret("erased", "regcred", ownerLabels(owners.ours));
            await create(inputs("erased")); // applied; the engine was killed before it recorded the state
            await cluster.forgeAnnotation("erased", "default", ownershipKeys.entries(owners.ours), "[]");
            const state = await create(inputs("erased"));
            assert.equal(state.listedBefore, false, "ours, not somebody else's");
            assert.deepEqual(await marker("erased"), ["regcred"]);
            await provider.delete!("id", state);
            assert.deepEqual(await cluster.pullSecrets("erased", "default"), ["theirs"]);
        });

        it("keeps an entry a second writer appends between our read and our patch, then retries", async () => {
            await cluster.put("race", "default", ["theirs"]);
            cluster.beforeNextPatch(() => cluster.put("race", "default", ["theirs", "late-writer"]));
            await create(inputs("race"));
            assert.deepEqual(await cluster.pullSecrets("race", "default"), ["theirs", "late-writer", "regcred"]);
            assert.ok(
                cluster.log.some((line) => line.startsWith("PATCH /api/v1/namespaces/race/") && line.endsWith(" 422")),
                `a failed test answers 422; seen: ${cluster.log.filter((l) => l.includes("/race/")).join(", ")}`,
            );

            const state = {
                ...(await provider.read!("id", { ...inputs("race"), listedBefore: false, present: true })).props,
            } as EntryState;
            cluster.beforeNextPatch(() =>
                cluster.put("race", "default", ["first", "theirs", "late-writer", "regcred"]),
            );
            await provider.delete!("id", state);
            assert.deepEqual(await cluster.pullSecrets("race", "default"), ["first", "theirs", "late-writer"]);
        });

        it("waits for a ServiceAccount that appears after a delay, and never creates it", async () => {
            setTimeout(() => void cluster.put("late", "default"), 60);
            await create(inputs("late"));
            assert.deepEqual(await cluster.pullSecrets("late", "default"), ["regcred"]);
        });

        it("fails with a timeout naming the namespace and account when the ServiceAccount never appears", async () => {
            await assert.rejects(create(inputs("nowhere", "regcred", "builder")), (error: Error) => {
                assert.equal(
                    error.message,
                    `ServiceAccount "builder" in namespace "nowhere" did not appear within ${timing.appearTimeoutMs} ms; it is never created here`,
                );
                return true;
            });
            assert.equal(await cluster.pullSecrets("nowhere", "builder"), undefined);
        });

        it("retries transient 503, 500 and 429 answers", async () => {
            await cluster.put("flaky", "default", ["theirs"]);
            cluster.failNext(503, 429, 500);
            await create(inputs("flaky"));
            assert.deepEqual(await cluster.pullSecrets("flaky", "default"), ["theirs", "regcred"]);
            assert.equal(cluster.log.filter((l) => l.includes("/flaky/") && / (503|429|500)$/.test(l)).length, 3);
        });

        it("gives up on answers that keep failing, with the status and no secret in the message", async () => {
            await cluster.put("down", "default");
            cluster.failNext(...Array<number>(timing.maxAttempts).fill(503));
            await assert.rejects(create(inputs("down")), (error: Error) => {
                assert.equal(
                    error.message,
                    `ServiceAccount "default" in namespace "down": the API server answered 503 (Injected) after ${timing.maxAttempts} attempt(s)`,
                );
                return true;
            });
        });

        it("treats a namespace deleted before destroy as done", async () => {
            await cluster.put("gone", "default");
            const state = await create(inputs("gone"));
            await cluster.deleteNamespace("gone");
            await provider.delete!("id", state);
            assert.equal(await cluster.pullSecrets("gone", "default"), undefined);
        });

        it("changes nothing and removes nothing when others already list the name (even twice)", async () => {
            await cluster.put("twice", "default", ["regcred", "theirs", "regcred"]);
            const state = await create(inputs("twice"));
            assert.equal(state.listedBefore, true);
            assert.deepEqual(await cluster.pullSecrets("twice", "default"), ["regcred", "theirs", "regcred"]);
            await provider.delete!("id", state);
            assert.deepEqual(await cluster.pullSecrets("twice", "default"), ["regcred", "theirs", "regcred"]);
        });

        it("reports a removed entry as drift on refresh, and the next update puts it back", async () => {
            await cluster.put("drift", "default", ["theirs"]);
            const state = await create(inputs("drift"));
            await cluster.put("drift", "default", ["theirs"]);
            const refreshed = (await provider.read!("id", state)).props as EntryState;
            assert.equal(refreshed.present, false);
            const diff = await provider.diff!("id", refreshed, inputs("drift"));
            assert.deepEqual(diff, { changes: true, replaces: [], deleteBeforeReplace: false });
            await provider.update!("id", refreshed, inputs("drift"));
            assert.deepEqual(await cluster.pullSecrets("drift", "default"), ["theirs", "regcred"]);
        });

        it("swaps a new Secret name into our entry's place; a new namespace or account replaces", async () => {
            await cluster.put("swap", "default", ["a", "b"]);
            const state = await create(inputs("swap", "old"));
            await cluster.put("swap", "default", ["a", "old", "b"]);
            const diff = await provider.diff!("id", state, inputs("swap", "new"));
            assert.deepEqual(diff, { changes: true, replaces: [], deleteBeforeReplace: false });
            await provider.update!("id", state, inputs("swap", "new"));
            assert.deepEqual(await cluster.pullSecrets("swap", "default"), ["a", "new", "b"]);
            const moved = await provider.diff!("id", state, inputs("elsewhere", "old", "builder"));
            assert.deepEqual(moved, {
                changes: true,
                replaces: ["namespace", "serviceAccount"],
                deleteBeforeReplace: false,
            });
            assert.deepEqual(await provider.diff!("id", state, inputs("swap", "old")), {
                changes: false,
                replaces: [],
                deleteBeforeReplace: false,
            });
        });

        it("takes the cluster from kubernetes:kubeconfig stack config when no kubeconfig is given", async () => {
            const configured = entryProvider(undefined, timing);
            await configured.configure!({
                config: {
                    get: (k: string) => (k === "kubernetes:kubeconfig" ? cluster.kubeconfig : undefined),
                    require: () => "",
                },
            });
            await cluster.put("config", "default");
            const withoutKubeconfig: EntryInputs = { ...inputs("config"), kubeconfig: undefined };
            const state = (await configured.create(withoutKubeconfig)).outs as EntryState;
            assert.equal("kubeconfig" in state, false);
            assert.deepEqual(await cluster.pullSecrets("config", "default"), ["regcred"]);
        });

        it("keeps every entry when several of ours and another writer change one account at once", async () => {
            await cluster.put("crowd", "default", ["theirs"]);
            const ours = ["one", "two", "three", "four", "five"];
            cluster.beforeNextPatch(() => cluster.put("crowd", "default", ["theirs", "late-writer"]));
            // Five components (one owner each), as five stacks listing their Secrets on one account.
            const states = await Promise.all(
                ours.map((name) => create(inputs("crowd", name, "default", ownerIdOf(name)))),
            );
            const listed = (await cluster.pullSecrets("crowd", "default"))!;
            assert.deepEqual(listed.slice(0, 2), ["theirs", "late-writer"]);
            assert.deepEqual([...listed.slice(2)].sort(), [...ours].sort());
            await Promise.all(states.map((state) => provider.delete!("id", state)));
            assert.deepEqual(await cluster.pullSecrets("crowd", "default"), ["theirs", "late-writer"]);
        });

        it("adds and removes our entry in a list of 500 others, leaving them in order", async () => {
            const others = Array.from({ length: 500 }, (_, i) => `theirs-${i}`);
            await cluster.put("long", "default", others);
            const state = await create(inputs("long"));
            assert.deepEqual(await cluster.pullSecrets("long", "default"), [...others, "regcred"]);
            await provider.delete!("id", state);
            assert.deepEqual(await cluster.pullSecrets("long", "default"), others);
        });

        for (const how of ["504", "reset"] as const) {
            it(`keeps its own entry when the PATCH applied but its answer was lost (${how === "504" ? "a proxy's 504" : "a reset connection"}): after create and delete only the others' entries remain`, async () => {
                const namespace = `lost-${how}`;
                await cluster.put(namespace, "default", ["theirs"]);
                cluster.loseNextPatchAnswer(how);
                const state = await create(inputs(namespace));
                assert.ok(
                    cluster.log.some(
                        (line) => line.includes(`/namespaces/${namespace}/`) && line.endsWith(`answer lost: ${how}`),
                    ),
                    "the first PATCH was applied and its answer lost",
                );
                assert.equal(state.listedBefore, false, "our own write, read back after the lost answer, is ours");
                assert.deepEqual(await cluster.pullSecrets(namespace, "default"), ["theirs", "regcred"]);
                assert.deepEqual(await marker(namespace), ["regcred"]);
                await provider.delete!("id", state);
                assert.deepEqual(await cluster.pullSecrets(namespace, "default"), ["theirs"]);
                assert.deepEqual(await cluster.annotations(namespace, "default"), {}, "the marker went with the entry");
            });
        }

        it("keeps ownership through a Secret name swap whose answer was lost, then removes the new name on delete", async () => {
            await cluster.put("lost-swap", "default", ["theirs"]);
            const state = await create(inputs("lost-swap", "old"));
            cluster.loseNextPatchAnswer("504");
            const updated = (await provider.update!("id", state, inputs("lost-swap", "new"))).outs as EntryState;
            assert.equal(updated.listedBefore, false);
            assert.deepEqual(await cluster.pullSecrets("lost-swap", "default"), ["theirs", "new"]);
            assert.deepEqual(await marker("lost-swap"), ["new"]);
            await provider.delete!("id", updated);
            assert.deepEqual(await cluster.pullSecrets("lost-swap", "default"), ["theirs"]);
        });

        it("an interrupted pulumi up (no state for the entry) finds its own earlier write by the marker, and destroy removes it", async () => {
            await cluster.put("interrupted", "default", ["theirs"]);
            await create(inputs("interrupted"));
            // The engine never recorded that create: the next `pulumi up` creates again from nothing.
            const again = await create(inputs("interrupted"));
            assert.equal(again.listedBefore, false);
            assert.deepEqual(await cluster.pullSecrets("interrupted", "default"), ["theirs", "regcred"]);
            await provider.delete!("id", again);
            assert.deepEqual(await cluster.pullSecrets("interrupted", "default"), ["theirs"]);
        });

        it("an interrupted swap (the state still names the old Secret) leaks nothing: destroy removes the new name the marker lists, whose Secret carries our owner label", async () => {
            await cluster.put("half-swap", "default", ["theirs"]);
            const state = await create(inputs("half-swap", "old"));
            // The component's new Secret, created before the entry swaps to it.
            await cluster.putSecret("half-swap", "new", ownerLabels(owners.ours));
            await provider.update!("id", state, inputs("half-swap", "new"));
            // The engine never recorded that update: destroy runs with the old state.
            await provider.delete!("id", state);
            assert.deepEqual(await cluster.pullSecrets("half-swap", "default"), ["theirs"]);
        });

        it("a marker forged under our owner id, naming another team's entries, makes destroy remove ours alone", async () => {
            await cluster.put("forged", "default", ["team-b-dockerhub"]);
            // Team B's Secret, as labelled as a tenant likes, but not with our owner id.
            await cluster.putSecret("forged", "team-b-dockerhub", ownerLabels(owners.other));
            const state = await create(inputs("forged"));
            const forged = JSON.stringify(["regcred", "team-b-dockerhub"]);
            await cluster.forgeAnnotation("forged", "default", ownershipKeys.entries(owners.ours), forged);
            await provider.delete!("id", state);
            assert.deepEqual(await cluster.pullSecrets("forged", "default"), ["team-b-dockerhub"]);
            assert.deepEqual(await cluster.annotations("forged", "default"), {});
        });

        it("two components listing the same Secret name on one account never take each other's entry", async () => {
            await cluster.put("shared", "default", ["theirs"]);
            const first = await create(inputs("shared", "regcred", "default", owners.other));
            const second = await create(inputs("shared"));
            assert.deepEqual([first.listedBefore, second.listedBefore], [false, true]);
            assert.deepEqual(
                ownersOfEntry({ metadata: { annotations: await cluster.annotations("shared", "default") } }, "regcred"),
                [owners.other],
            );
            await provider.delete!("id", second);
            assert.deepEqual(
                await cluster.pullSecrets("shared", "default"),
                ["theirs", "regcred"],
                "not the second's to remove",
            );
            // An interrupted `up` of the second component creates again: still not its own.
            assert.equal((await create(inputs("shared"))).listedBefore, true);
            await provider.delete!("id", first);
            assert.deepEqual(await cluster.pullSecrets("shared", "default"), ["theirs"]);
            assert.deepEqual(await cluster.annotations("shared", "default"), {});
        });

        it("claims an entry created before owners were recorded: the next update writes the marker, destroy removes it", async () => {
            await cluster.put("legacy", "default", ["theirs", "regcred"]);
            const legacy: EntryState = { ...inputs("legacy"), owner: undefined, listedBefore: false, present: true };
            const diff = await provider.diff!("id", legacy, inputs("legacy"));
            assert.deepEqual(
                diff,
                { changes: true, replaces: [], deleteBeforeReplace: false },
                "a new owner is a change",
            );
            const updated = (await provider.update!("id", legacy, inputs("legacy"))).outs as EntryState;
            assert.equal(updated.listedBefore, false);
            assert.deepEqual(await marker("legacy"), ["regcred"]);
            assert.deepEqual(await cluster.pullSecrets("legacy", "default"), ["theirs", "regcred"]);
            await provider.delete!("id", updated);
            assert.deepEqual(await cluster.pullSecrets("legacy", "default"), ["theirs"]);
        });

        it("a new owner id (a renamed stack) takes over the old marker, so its entry stays its own", async () => {
            await cluster.put("renamed", "default", ["theirs"]);
            const state = await create(inputs("renamed", "regcred", "default", owners.other));
            const updated = (await provider.update!("id", state, inputs("renamed"))).outs as EntryState;
            assert.equal(updated.listedBefore, false);
            assert.deepEqual(await marker("renamed"), ["regcred"]);
            assert.equal(await marker("renamed", owners.other), undefined);
            await provider.delete!("id", updated);
            assert.deepEqual(await cluster.pullSecrets("renamed", "default"), ["theirs"]);
        });

        it("refuses to write an entry without a valid owner id, changing nothing", async () => {
            await cluster.put("ownerless", "default", ["theirs"]);
            await assert.rejects(create({ ...inputs("ownerless"), owner: "" }), {
                message: "owner must be the component's owner id (16 hex digits)",
            });
            assert.deepEqual(await cluster.pullSecrets("ownerless", "default"), ["theirs"]);
        });

        it(`writes its marker under ${ownershipKeys.entries("<owner id>")} with the entry, and removes it with the entry`, async () => {
            await cluster.put("annotated", "default", ["theirs"]);
            const state = await create(inputs("annotated"));
            assert.deepEqual(await cluster.annotations("annotated", "default"), {
                [ownershipKeys.entries(owners.ours)]: '["regcred"]',
            });
            await provider.delete!("id", state);
            assert.deepEqual(await cluster.annotations("annotated", "default"), {});
        });
    });
}
