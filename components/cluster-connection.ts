/** How a dynamic provider in this package reaches the cluster (shared by every one of them). */
import type * as pulumi from "@pulumi/pulumi";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };

/** Where the cluster is: a kubeconfig (contents or a path) and a context, each optional. */
export interface ClusterConnection {
    kubeconfig?: string;
    context?: string;
}

/** Whether a resource now reaches the cluster another way (a diff of either half is a change to apply). */
export const connectionChanged = (olds: ClusterConnection, news: ClusterConnection): boolean =>
    olds.kubeconfig !== news.kubeconfig || olds.context !== news.context;

/**
 * A client for the cluster, found the way the default Kubernetes provider finds it: the given
 * kubeconfig (the component arg, else `kubernetes:kubeconfig` stack config), else `KUBECONFIG`, else
 * `~/.kube/config`, else in-cluster (client-node `loadFromDefault`); `kubernetes:context` picks the context.
 */
export async function connect(connection: ClusterConnection): Promise<CoreV1Api> {
    // Loaded when used: client-node is an ES module, and only the dynamic-provider process needs it.
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    const { kubeconfig, context } = connection;
    // Like pulumi-kubernetes, `kubernetes:kubeconfig` may hold the document itself or a path to it.
    if (kubeconfig === undefined || kubeconfig === "") config.loadFromDefault();
    else if (/[\n{]/.test(kubeconfig)) config.loadFromString(kubeconfig);
    else config.loadFromFile(kubeconfig);
    if (context) config.setCurrentContext(context);
    return config.makeApiClient(k8s.CoreV1Api);
}

/**
 * What every provider here does with the cluster: `configure` keeps the stack's
 * `kubernetes:kubeconfig` and `kubernetes:context` (Pulumi's dynamic-provider host passes the stack
 * config), and `client` connects with a resource's own kubeconfig and context, else that stack config
 * (then the defaults `connect` falls back to). A resource the plugin serves carries both itself
 * (components/provider-by-name.ts): a plugin's `configure` receives only its own package's config.
 */
export function stackCluster(connectTo: (connection: ClusterConnection) => Promise<CoreV1Api> = connect) {
    const stack: ClusterConnection = {};
    return {
        configure: (req: pulumi.dynamic.ConfigureRequest): Promise<void> => {
            stack.kubeconfig = req.config.get("kubernetes:kubeconfig");
            stack.context = req.config.get("kubernetes:context");
            return Promise.resolve();
        },
        client: (resource: ClusterConnection) =>
            connectTo({
                kubeconfig: resource.kubeconfig ?? stack.kubeconfig,
                context: resource.context ?? stack.context,
            }),
    };
}
