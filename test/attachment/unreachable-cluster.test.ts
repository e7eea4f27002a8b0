/**
 * A kubeconfig that leads nowhere (issue 28 item 6): with the provider's real timing, a refused
 * connection is asked once more, not a dozen times with backoff, and the error names where it went and
 * which kubeconfig to check. Transient answers (429, 5xx, a reset) keep their retries
 * (test/support/entry-cases.ts).
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { entryProvider } from "../../components/attachment/pull-secret-entry-provider";
import { freePort } from "../support/real-cluster";

it("an entry against a refused connection fails after 2 attempts, naming the address and the kubeconfig to check", async () => {
    const port = await freePort();
    const kubeconfig = JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
        users: [{ name: "u", user: { token: "t" } }],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
    });
    const inputs = {
        namespace: "team-a",
        serviceAccount: "default",
        secretName: "regcred",
        entry: "team-a/default: regcred",
        owner: "0123456789abcdef",
        kubeconfig,
    };
    await assert.rejects(entryProvider().create(inputs), (error: Error) => {
        assert.match(
            error.message,
            new RegExp(
                `could not be reached \\(ECONNREFUSED at 127\\.0\\.0\\.1:${port}\\); check the kubeconfig it was reached through: .* after 2 attempt\\(s\\)$`,
            ),
        );
        return true;
    });
});
