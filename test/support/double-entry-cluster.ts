/** The API-server double behind the fault-injecting proxy, as an `EntryCluster` (test/support/entry-cases.ts). */
import { startApiServerDouble } from "./api-server-double";
import type { EntryCluster } from "./entry-cases";
import { forwardTo, serveWithFaults } from "./fault-injection";

export async function doubleBehindProxy(): Promise<EntryCluster> {
    const double = await startApiServerDouble();
    const proxy = await serveWithFaults(forwardTo(double.url));
    return {
        kubeconfig: double.kubeconfig.replace(double.url, proxy.url),
        put: (namespace, name, pullSecrets) => double.put(namespace, name, pullSecrets),
        setPullSecrets: (namespace, name, pullSecrets) => double.setPullSecrets(namespace, name, pullSecrets),
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
        disarm: () => proxy.disarm(),
        log: proxy.log,
        close: async () => {
            await proxy.close();
            await double.close();
        },
    };
}
