/**
 * `PullSecretEntry`: a Pulumi dynamic resource that owns exactly one `imagePullSecrets` entry
 * (namespace, ServiceAccount, Secret name) and nothing else of the atomic list (FACTS.md section 1).
 */
import * as pulumi from "@pulumi/pulumi";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
    attachEntry,
    defaultTiming,
    detachEntry,
    readEntry,
    swapEntry,
    type EntryTarget,
    type EntryTiming,
} from "./pull-secret-entry-client";

/** Where the cluster is: a kubeconfig (contents or a path) and a context, each optional. */
export interface ClusterConnection {
    kubeconfig?: string;
    context?: string;
}

/**
 * A client for the cluster, found the way the default Kubernetes provider finds it: the given
 * kubeconfig (the component arg, else `kubernetes:kubeconfig` stack config), else `KUBECONFIG`, else
 * `~/.kube/config`, else in-cluster (client-node `loadFromDefault`); `kubernetes:context` picks the context.
 */
export async function connect(connection: ClusterConnection): Promise<CoreV1Api> {
    // Loaded when used: the provider is serialized with its closure, and client-node is an ES module.
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

/** What the engine stores. `kubeconfig` is kept only so `destroy` can reach the cluster; it is a secret. */
export interface EntryState extends EntryTarget {
    /** `namespace/serviceAccount: secretName`, so previews say which entry is added or removed. */
    entry: string;
    /** Somebody listed the name before us: we changed nothing and will remove nothing. */
    listedBefore: boolean;
    /** Whether the name is listed, as last seen (false after a refresh that found it removed). */
    present: boolean;
    kubeconfig?: string;
}

export type EntryInputs = EntryTarget & { entry: string; kubeconfig?: string };

const entryLabel = (t: EntryTarget) => `${t.namespace}/${t.serviceAccount}: ${t.secretName}`;
const targetOf = (p: EntryTarget): EntryTarget => ({
    namespace: p.namespace,
    serviceAccount: p.serviceAccount,
    secretName: p.secretName,
});

/**
 * The provider, built from a way to connect and the timing; exported so tests drive create, read,
 * update, delete and diff against the API-server double (under mocks dynamic providers do not run).
 * Everything it captures is plain data or a function Pulumi can serialize.
 */
export function entryProvider(
    connectTo: (connection: ClusterConnection) => Promise<CoreV1Api> = connect,
    timing: EntryTiming = defaultTiming,
): pulumi.dynamic.ResourceProvider {
    const stack: ClusterConnection = {};
    const client = (kubeconfig: string | undefined) =>
        connectTo({ kubeconfig: kubeconfig ?? stack.kubeconfig, context: stack.context });
    const state = (inputs: EntryInputs, listedBefore: boolean, present: boolean): EntryState => ({
        ...targetOf(inputs),
        entry: entryLabel(inputs),
        listedBefore,
        present,
        ...(inputs.kubeconfig === undefined ? {} : { kubeconfig: inputs.kubeconfig }),
    });
    return {
        configure(req) {
            stack.kubeconfig = req.config.get("kubernetes:kubeconfig");
            stack.context = req.config.get("kubernetes:context");
            return Promise.resolve();
        },
        diff(_id, olds: EntryState, news: EntryInputs) {
            const replaces = (["namespace", "serviceAccount"] as const).filter((key) => olds[key] !== news[key]);
            const changes =
                replaces.length > 0 ||
                olds.secretName !== news.secretName ||
                olds.kubeconfig !== news.kubeconfig ||
                !olds.present;
            return Promise.resolve({ changes, replaces, deleteBeforeReplace: false });
        },
        async create(inputs: EntryInputs) {
            const listedBefore = await attachEntry(await client(inputs.kubeconfig), targetOf(inputs), timing);
            return {
                id: `${inputs.namespace}/${inputs.serviceAccount}/${inputs.secretName}`,
                outs: state(inputs, listedBefore, true),
            };
        },
        async read(id, props: EntryState) {
            const present = await readEntry(await client(props.kubeconfig), targetOf(props), timing);
            return { id, props: { ...props, present: present === true } };
        },
        async update(_id, olds: EntryState, news: EntryInputs) {
            const api = await client(news.kubeconfig);
            const target = targetOf(news);
            if (olds.secretName !== news.secretName && !olds.listedBefore) {
                return { outs: state(news, await swapEntry(api, target, olds.secretName, timing), true) };
            }
            if (olds.secretName !== news.secretName || !olds.present) {
                return { outs: state(news, await attachEntry(api, target, timing), true) };
            }
            return { outs: state(news, olds.listedBefore, true) };
        },
        async delete(_id, props: EntryState) {
            if (props.listedBefore) return;
            await detachEntry(await client(props.kubeconfig), targetOf(props), timing);
        },
    };
}

/** The arguments of a {@link PullSecretEntry}. */
export interface PullSecretEntryArgs {
    namespace: pulumi.Input<string>;
    serviceAccount: pulumi.Input<string>;
    secretName: pulumi.Input<string>;
    /** A kubeconfig document or path; default: the stack's Kubernetes connection. A secret. */
    kubeconfig?: pulumi.Input<string>;
}

const provider = entryProvider();

/** One Secret name in one ServiceAccount's `imagePullSecrets`, owned alone. */
export class PullSecretEntry extends pulumi.dynamic.Resource {
    public readonly namespace!: pulumi.Output<string>;
    public readonly serviceAccount!: pulumi.Output<string>;
    public readonly secretName!: pulumi.Output<string>;
    public readonly entry!: pulumi.Output<string>;
    public readonly listedBefore!: pulumi.Output<boolean>;
    public readonly present!: pulumi.Output<boolean>;

    constructor(name: string, args: PullSecretEntryArgs, opts?: pulumi.CustomResourceOptions) {
        const props = {
            namespace: args.namespace,
            serviceAccount: args.serviceAccount,
            secretName: args.secretName,
            entry: pulumi.interpolate`${args.namespace}/${args.serviceAccount}: ${args.secretName}`,
            kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
            listedBefore: undefined,
            present: undefined,
        };
        super(
            provider,
            name,
            props,
            { ...opts, additionalSecretOutputs: ["kubeconfig"] },
            "registry-pull-secret",
            "PullSecretEntry",
        );
    }
}
