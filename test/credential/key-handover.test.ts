/**
 * The key handover's provider (components/credential/key-handover-provider.ts): a rotation's update
 * waits the grace before it returns, so the engine's deletion of the replaced key comes at least that
 * long after the Secrets switched; nothing else waits.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { keyHandoverProvider, type KeyHandoverInputs } from "../../components/credential/key-handover-provider";

const oldKey: KeyHandoverInputs = {
    keyName: "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/1",
    graceSeconds: 60,
};
const newKey: KeyHandoverInputs = { ...oldKey, keyName: oldKey.keyName.replace(/1$/, "2") };

function recorded() {
    const waits: number[] = [];
    return { waits, provider: keyHandoverProvider((ms) => Promise.resolve(waits.push(ms))) };
}

describe("the key handover", () => {
    it("a new key: the update waits the grace, in milliseconds, before the engine may delete the old key", async () => {
        const { waits, provider } = recorded();
        assert.deepEqual(await provider.diff!("key-handover", oldKey, newKey), {
            changes: true,
            replaces: [],
            deleteBeforeReplace: false,
        });
        assert.deepEqual(await provider.update!("key-handover", oldKey, newKey), { outs: newKey });
        assert.deepEqual(waits, [60_000]);
    });

    it("the first key replaces nothing: create returns at once", async () => {
        const { waits, provider } = recorded();
        assert.deepEqual(await provider.create(oldKey), { id: "key-handover", outs: oldKey });
        assert.deepEqual(waits, []);
    });

    it("the same key is no change; a changed grace alone is an update that waits for nothing", async () => {
        const { waits, provider } = recorded();
        assert.equal((await provider.diff!("key-handover", oldKey, { ...oldKey })).changes, false);
        const longer = { ...oldKey, graceSeconds: 120 };
        assert.equal((await provider.diff!("key-handover", oldKey, longer)).changes, true);
        await provider.update!("key-handover", oldKey, longer);
        assert.deepEqual(waits, []);
    });

    it("with the real clock, an update returns no sooner than the grace", async () => {
        const started = Date.now();
        await keyHandoverProvider().update!(
            "key-handover",
            { ...oldKey, graceSeconds: 0.2 },
            { ...newKey, graceSeconds: 0.2 },
        );
        assert.ok(Date.now() - started >= 195, `${Date.now() - started} ms`);
    });
});
