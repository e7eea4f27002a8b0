/**
 * The attachment's provider (create, read, update, delete, diff) driven through @kubernetes/client-node
 * against the API-server DOUBLE on 127.0.0.1 (test/support/api-server-double.ts), not a real cluster,
 * behind a real HTTP proxy that forwards every request and injects the faults (forced statuses, a
 * concurrent writer, a PATCH applied whose answer is lost: test/support/fault-injection.ts). The same
 * cases run against a real kube-apiserver in test/engine/real-api-server.test.ts.
 */
import { startApiServerDouble } from "../support/api-server-double";
import { describeEntryCases, type EntryCluster } from "../support/entry-cases";
import { forwardTo, serveWithFaults } from "../support/fault-injection";
import type { EntryTiming } from "../../components/attachment/pull-secret-entry-client";

const fast: EntryTiming = { appearTimeoutMs: 300, initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 6 };

async function doubleBehindProxy(): Promise<EntryCluster> {
    const double = await startApiServerDouble();
    const proxy = await serveWithFaults(forwardTo(double.url));
    return {
        kubeconfig: double.kubeconfig.replace(double.url, proxy.url),
        put: (namespace, name, pullSecrets) => double.put(namespace, name, pullSecrets),
        putSecret: (namespace, name, labels) =>
            double.putSecret({
                metadata: { name, namespace, labels },
                type: "kubernetes.io/dockerconfigjson",
                data: { ".dockerconfigjson": Buffer.from('{"auths":{}}').toString("base64") },
            }),
        forgeAnnotation: (namespace, name, annotationKey, value) =>
            double.annotate(namespace, name, annotationKey, value),
        pullSecrets: (namespace, name) => double.pullSecrets(namespace, name),
        annotations: (namespace, name) => double.annotations(namespace, name),
        deleteNamespace: (namespace) => double.deleteNamespace(namespace),
        failNext: (...statuses) => proxy.failNext(...statuses),
        beforeNextPatch: (write) => proxy.beforeNextPatch(write),
        loseNextPatchAnswer: (how) => proxy.loseNextPatchAnswer(how),
        log: proxy.log,
        close: async () => {
            await proxy.close();
            await double.close();
        },
    };
}

describeEntryCases("PullSecretEntry against the API-server double behind a proxy", doubleBehindProxy, fast);
