/**
 * The attachment's provider (create, read, update, delete, diff) driven through @kubernetes/client-node
 * against the API-server DOUBLE on 127.0.0.1 (test/support/api-server-double.ts), not a real cluster.
 * The same cases run against a real kube-apiserver in test/engine/real-api-server.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString = require("require-from-string") as (code: string) => { handler(): unknown };
import { startApiServerDouble } from "./support/api-server-double";
import { describeEntryCases } from "./support/entry-cases";
import { entryProvider } from "../components/pull-secret-entry";
import type { EntryTiming } from "../components/pull-secret-entry-client";

const fast: EntryTiming = { appearTimeoutMs: 300, initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 6 };

describeEntryCases("PullSecretEntry against the API-server double", startApiServerDouble, fast);

describe("the provider as Pulumi runs it", () => {
    it("still attaches after closure serialization, loaded from text like the dynamic-provider host does", async () => {
        const double = await startApiServerDouble();
        try {
            const provider = entryProvider(undefined, fast);
            const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false });
            // The same loader @pulumi/pulumi/cmd/dynamic-provider uses.
            const loaded = requireFromString(serialized.text).handler() as pulumi.dynamic.ResourceProvider;
            double.put("serialized", "default", ["theirs"]);
            const target = { namespace: "serialized", serviceAccount: "default", secretName: "regcred" };
            await loaded.create({ ...target, entry: "serialized/default: regcred", kubeconfig: double.kubeconfig });
            assert.deepEqual(double.pullSecrets("serialized", "default"), ["theirs", "regcred"]);
            assert.equal(serialized.containsSecrets, false);
        } finally {
            await double.close();
        }
    });
});
