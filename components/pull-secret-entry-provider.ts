/**
 * The provider of `PullSecretEntry` (components/pull-secret-entry.ts): owns exactly one
 * `imagePullSecrets` entry (namespace, ServiceAccount, Secret name) and nothing else of the atomic
 * list (docs/facts.md#imagepullsecrets-is-an-atomic-list). This module is the package subpath
 * `registry-pull-secret/pull-secret-entry-provider`:
 * Pulumi's dynamic-provider process loads it by that name (components/provider-by-name.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { connect, connectionChanged, stackCluster, type ClusterConnection } from "./cluster-connection";
import {
    attachEntry,
    defaultTiming,
    detachEntry,
    readEntry,
    swapEntry,
    type EntryTarget,
    type EntryTiming,
} from "./pull-secret-entry-client";

/**
 * What the engine stores. The cluster connection (`kubeconfig`, a secret, and `context`) is kept only
 * so `destroy` can reach the cluster.
 */
export interface EntryState extends EntryTarget, ClusterConnection {
    /** `namespace/serviceAccount: secretName`, so previews say which entry is added or removed. */
    entry: string;
    /** Somebody listed the name before us: we changed nothing and will remove nothing. */
    listedBefore: boolean;
    /** Whether the name is listed, as last seen (false after a refresh that found it removed). */
    present: boolean;
}

export type EntryInputs = EntryTarget & ClusterConnection & { entry: string };

const entryLabel = (t: EntryTarget) => `${t.namespace}/${t.serviceAccount}: ${t.secretName}`;
const targetOf = (p: EntryTarget): EntryTarget => ({
    namespace: p.namespace,
    serviceAccount: p.serviceAccount,
    secretName: p.secretName,
});

/**
 * The provider, built from a way to connect and the timing; exported so tests drive create, read,
 * update, delete and diff against the API-server double (under mocks dynamic providers do not run).
 */
export function entryProvider(
    connectTo: (connection: ClusterConnection) => Promise<CoreV1Api> = connect,
    timing: EntryTiming = defaultTiming,
): pulumi.dynamic.ResourceProvider {
    const { configure, client } = stackCluster(connectTo);
    const state = (inputs: EntryInputs, listedBefore: boolean, present: boolean): EntryState => ({
        ...targetOf(inputs),
        entry: entryLabel(inputs),
        listedBefore,
        present,
        ...(inputs.kubeconfig === undefined ? {} : { kubeconfig: inputs.kubeconfig }),
        ...(inputs.context === undefined ? {} : { context: inputs.context }),
    });
    return {
        configure,
        diff(_id, olds: EntryState, news: EntryInputs) {
            const replaces = (["namespace", "serviceAccount"] as const).filter((key) => olds[key] !== news[key]);
            const changes =
                replaces.length > 0 ||
                olds.secretName !== news.secretName ||
                connectionChanged(olds, news) ||
                !olds.present;
            return Promise.resolve({ changes, replaces, deleteBeforeReplace: false });
        },
        async create(inputs: EntryInputs) {
            const listedBefore = await attachEntry(await client(inputs), targetOf(inputs), timing);
            return {
                id: `${inputs.namespace}/${inputs.serviceAccount}/${inputs.secretName}`,
                outs: state(inputs, listedBefore, true),
            };
        },
        async read(id, props: EntryState) {
            const present = await readEntry(await client(props), targetOf(props), timing);
            return { id, props: { ...props, present: present === true } };
        },
        async update(_id, olds: EntryState, news: EntryInputs) {
            const api = await client(news);
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
            await detachEntry(await client(props), targetOf(props), timing);
        },
    };
}

/** The one provider the dynamic-provider process uses: `configure` and the CRUD calls share its state. */
export const provider = entryProvider();
