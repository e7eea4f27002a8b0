/**
 * The attachment's provider (create, read, update, delete, diff) driven through @kubernetes/client-node
 * against the API-server DOUBLE on 127.0.0.1 (test/support/api-server-double.ts), not a real cluster.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startApiServerDouble, type ApiServerDouble } from "./support/api-server-double";
import { entryProvider, type EntryInputs, type EntryState } from "../components/pull-secret-entry-provider";
import type { EntryTiming } from "../components/pull-secret-entry-client";

const fast: EntryTiming = { appearTimeoutMs: 300, initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 6 };

describe("PullSecretEntry against the API-server double", () => {
    let double: ApiServerDouble;
    const provider = entryProvider(undefined, fast);
    const inputs = (namespace: string, secretName = "regcred", serviceAccount = "default"): EntryInputs => ({
        namespace,
        serviceAccount,
        secretName,
        entry: `${namespace}/${serviceAccount}: ${secretName}`,
        kubeconfig: double.kubeconfig,
    });
    const create = async (i: EntryInputs) => (await provider.create(i)).outs as EntryState;

    before(async () => (double = await startApiServerDouble()));
    after(async () => double.close());

    it("appends our name after the others and removes only it on delete, others kept in order", async () => {
        double.put("keep", "default", ["theirs-1", "theirs-2"]);
        const state = await create(inputs("keep"));
        assert.deepEqual(double.pullSecrets("keep", "default"), ["theirs-1", "theirs-2", "regcred"]);
        assert.equal(state.listedBefore, false);
        assert.equal(state.entry, "keep/default: regcred");
        await provider.delete!("id", state);
        assert.deepEqual(double.pullSecrets("keep", "default"), ["theirs-1", "theirs-2"]);
    });

    it("keeps an entry a second writer appends between our read and our patch, then retries", async () => {
        double.put("race", "default", ["theirs"]);
        double.beforeNextPatch(() => double.put("race", "default", ["theirs", "late-writer"]));
        await create(inputs("race"));
        assert.deepEqual(double.pullSecrets("race", "default"), ["theirs", "late-writer", "regcred"]);
        assert.ok(
            double.log.some((line) => line.startsWith("PATCH /api/v1/namespaces/race/") && line.endsWith(" 422")),
        );

        const state = {
            ...(await provider.read!("id", { ...inputs("race"), listedBefore: false, present: true })).props,
        } as EntryState;
        double.beforeNextPatch(() => double.put("race", "default", ["first", "theirs", "late-writer", "regcred"]));
        await provider.delete!("id", state);
        assert.deepEqual(double.pullSecrets("race", "default"), ["first", "theirs", "late-writer"]);
    });

    it("waits for a ServiceAccount that appears after a delay, and never creates it", async () => {
        setTimeout(() => double.put("late", "default"), 60);
        await create(inputs("late"));
        assert.deepEqual(double.pullSecrets("late", "default"), ["regcred"]);
    });

    it("fails with a timeout naming the namespace and account when the ServiceAccount never appears", async () => {
        await assert.rejects(create(inputs("nowhere", "regcred", "builder")), (error: Error) => {
            assert.match(error.message, /ServiceAccount "builder" in namespace "nowhere" did not appear within 300 ms/);
            return true;
        });
        assert.equal(double.pullSecrets("nowhere", "builder"), undefined);
    });

    it("retries transient 503, 500 and 429 answers", async () => {
        double.put("flaky", "default", ["theirs"]);
        double.failNext(503, 429, 500);
        await create(inputs("flaky"));
        assert.deepEqual(double.pullSecrets("flaky", "default"), ["theirs", "regcred"]);
        assert.equal(double.log.filter((l) => l.includes("/flaky/") && / (503|429|500)$/.test(l)).length, 3);
    });

    it("gives up on answers that keep failing, with the status and no secret in the message", async () => {
        double.put("down", "default");
        double.failNext(503, 503, 503, 503, 503, 503);
        await assert.rejects(create(inputs("down")), (error: Error) => {
            assert.equal(
                error.message,
                'ServiceAccount "default" in namespace "down": the API server answered 503 after 6 attempt(s)',
            );
            return true;
        });
    });

    it("treats a namespace deleted before destroy as done", async () => {
        double.put("gone", "default");
        const state = await create(inputs("gone"));
        double.deleteNamespace("gone");
        await provider.delete!("id", state);
        assert.equal(double.pullSecrets("gone", "default"), undefined);
    });

    it("changes nothing and removes nothing when others already list the name (even twice)", async () => {
        double.put("twice", "default", ["regcred", "theirs", "regcred"]);
        const state = await create(inputs("twice"));
        assert.equal(state.listedBefore, true);
        assert.deepEqual(double.pullSecrets("twice", "default"), ["regcred", "theirs", "regcred"]);
        await provider.delete!("id", state);
        assert.deepEqual(double.pullSecrets("twice", "default"), ["regcred", "theirs", "regcred"]);
    });

    it("reports a removed entry as drift on refresh, and the next update puts it back", async () => {
        double.put("drift", "default", ["theirs"]);
        const state = await create(inputs("drift"));
        double.put("drift", "default", ["theirs"]);
        const refreshed = (await provider.read!("id", state)).props as EntryState;
        assert.equal(refreshed.present, false);
        const diff = await provider.diff!("id", refreshed, inputs("drift"));
        assert.deepEqual(diff, { changes: true, replaces: [], deleteBeforeReplace: false });
        await provider.update!("id", refreshed, inputs("drift"));
        assert.deepEqual(double.pullSecrets("drift", "default"), ["theirs", "regcred"]);
    });

    it("swaps a new Secret name into our entry's place; a new namespace or account replaces", async () => {
        double.put("swap", "default", ["a", "b"]);
        const state = await create(inputs("swap", "old"));
        double.put("swap", "default", ["a", "old", "b"]);
        const diff = await provider.diff!("id", state, inputs("swap", "new"));
        assert.deepEqual(diff, { changes: true, replaces: [], deleteBeforeReplace: false });
        await provider.update!("id", state, inputs("swap", "new"));
        assert.deepEqual(double.pullSecrets("swap", "default"), ["a", "new", "b"]);
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
        const configured = entryProvider(undefined, fast);
        await configured.configure!({
            config: {
                get: (k: string) => (k === "kubernetes:kubeconfig" ? double.kubeconfig : undefined),
                require: () => "",
            },
        });
        double.put("config", "default");
        const withoutKubeconfig: EntryInputs = { ...inputs("config"), kubeconfig: undefined };
        const state = (await configured.create(withoutKubeconfig)).outs as EntryState;
        assert.equal("kubeconfig" in state, false);
        assert.deepEqual(double.pullSecrets("config", "default"), ["regcred"]);
    });
});
