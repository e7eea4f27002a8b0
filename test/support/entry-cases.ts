/**
 * The `PullSecretEntry` provider's cases (create, read, update, delete, diff through
 * @kubernetes/client-node), written once and run against any cluster that offers this interface:
 * the API-server DOUBLE (test/attachment-keeps-other-entries.test.ts) and a REAL kube-apiserver
 * behind a fault-injecting proxy (test/engine/real-api-server.test.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { entryProvider, type EntryInputs, type EntryState } from "../../components/pull-secret-entry-provider";
import type { EntryTiming } from "../../components/pull-secret-entry-client";

/** What the cases need from a cluster: seed and read ServiceAccounts, inject faults, see requests. */
export interface EntryCluster {
    /** A kubeconfig document for the provider (requests go through the fault injection and the log). */
    kubeconfig: string;
    /** Creates or replaces a ServiceAccount (as another writer would), bumping its resourceVersion. */
    put(namespace: string, name: string, pullSecrets?: string[]): void | Promise<void>;
    /** The names listed now, `undefined` when the account does not exist. */
    pullSecrets(namespace: string, name: string): (string[] | undefined) | Promise<string[] | undefined>;
    /** Removes a namespace and everything in it (returns once it is gone). */
    deleteNamespace(namespace: string): void | Promise<void>;
    /** The next answers to any request are these statuses, one each, before real handling resumes. */
    failNext(...statuses: number[]): void;
    /** Runs once, after the next PATCH arrives and before it is applied: a concurrent writer. */
    beforeNextPatch(write: () => void | Promise<void>): void;
    /** Requests seen, as `METHOD path status`. */
    log: string[];
    close(): Promise<void>;
}

export function describeEntryCases(title: string, startCluster: () => Promise<EntryCluster>, timing: EntryTiming) {
    describe(title, () => {
        let cluster: EntryCluster;
        const provider = entryProvider(undefined, timing);
        const inputs = (namespace: string, secretName = "regcred", serviceAccount = "default"): EntryInputs => ({
            namespace,
            serviceAccount,
            secretName,
            entry: `${namespace}/${serviceAccount}: ${secretName}`,
            kubeconfig: cluster.kubeconfig,
        });
        const create = async (i: EntryInputs) => (await provider.create(i)).outs as EntryState;

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
                    `ServiceAccount "default" in namespace "down": the API server answered 503 after ${timing.maxAttempts} attempt(s)`,
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
            const states = await Promise.all(ours.map((name) => create(inputs("crowd", name))));
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
    });
}
