/**
 * The provider of `KeyHandover` (components/credential/key-handover.ts), loaded by package name in
 * Pulumi's dynamic-provider process (components/cluster/provider-by-name.ts): when the component's key
 * is replaced, its update runs after every Secret holds the new key and waits `graceSeconds` before it
 * returns. The engine deletes a replaced key only after every other step of the update has finished
 * (create-before-delete: pulumi/pulumi pkg/resource/deploy/step_generator.go schedules the
 * `delete-replaced` step in the deletion phase), so the old key outlives the switch by at least the
 * grace: a kubelet reads pull Secrets through its secret manager, a watch-based cache that sees the new
 * content a moment after the write (docs/facts.md#the-kubelet-reads-pull-secrets-through-a-cache), and meanwhile pulls with the old key. It
 * holds nothing secret and touches nothing outside the engine: create (the first key, which replaces
 * nothing) and delete return at once.
 */
import type * as pulumi from "@pulumi/pulumi";
import { refuseImport } from "../cluster/cluster-connection";

export interface KeyHandoverInputs {
    /** The key's resource name (`projects/P/serviceAccounts/E/keys/K`), never its material. */
    keyName: string;
    /** How long the replaced key stays after the Secrets switched, in seconds. */
    graceSeconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The provider, with the clock's sleep as a parameter so tests can watch what it waits for. */
export function keyHandoverProvider(wait: (ms: number) => Promise<unknown> = sleep): pulumi.dynamic.ResourceProvider {
    return {
        diff: (_id, olds: KeyHandoverInputs, news: KeyHandoverInputs) =>
            Promise.resolve({
                changes: olds.keyName !== news.keyName || olds.graceSeconds !== news.graceSeconds,
                replaces: [],
                deleteBeforeReplace: false,
            }),
        create: (inputs: KeyHandoverInputs) => Promise.resolve({ id: "key-handover", outs: inputs }),
        read: async (id, props: KeyHandoverInputs) => {
            refuseImport("KeyHandover", props);
            return Promise.resolve({ id, props });
        },
        update: async (_id, olds: KeyHandoverInputs, news: KeyHandoverInputs) => {
            // Only a new key is handed over: a changed grace alone switches nothing.
            if (olds.keyName !== news.keyName) await wait(news.graceSeconds * 1000);
            return { outs: news };
        },
        delete: () => Promise.resolve(),
    };
}

/** The one provider the dynamic-provider process uses. */
export const provider = keyHandoverProvider();
