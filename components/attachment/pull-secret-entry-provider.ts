/**
 * The provider of `PullSecretEntry` (components/attachment/pull-secret-entry.ts): owns exactly one
 * `imagePullSecrets` entry (namespace, ServiceAccount, Secret name) and nothing else of the atomic
 * list (docs/facts.md#imagepullsecrets-is-an-atomic-list). This module is the package subpath
 * `registry-pull-secret/pull-secret-entry-provider`:
 * Pulumi's dynamic-provider process loads it by that name (components/cluster/provider-by-name.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
    connect,
    connectionChanged,
    guarded,
    refuseImport,
    requireOwner,
    stackCluster,
    type ClusterConnection,
} from "../cluster/cluster-connection";
import {
    attachEntry,
    changeOwner,
    defaultTiming,
    detachEntry,
    readEntry,
    swapEntry,
    type EntryTarget,
    type EntryTiming,
} from "./pull-secret-entry-client";

/**
 * What the engine stores. The cluster connection (`kubeconfig`, a secret, and `context`) is kept only
 * so `destroy` can reach the cluster. `owner` is absent from the state of an entry created before
 * owners were recorded.
 */
export interface EntryState extends EntryTarget, ClusterConnection {
    /** `namespace/serviceAccount: secretName`, so previews say which entry is added or removed. */
    entry: string;
    /** The owner id of the component (components/rules/ownership.ts): its marker on the ServiceAccount names our entry. */
    owner?: string;
    /** Somebody else listed the name before us: we changed nothing and will remove nothing. */
    listedBefore: boolean;
    /** Whether the name is listed, as last seen (false after a refresh that found it removed). */
    present: boolean;
}

/** `takeOver`: an entry of our name that is listed already and no owner claims becomes ours (absent: false). */
export type EntryInputs = EntryTarget & ClusterConnection & { entry: string; owner: string; takeOver?: boolean };

const entryLabel = (t: EntryTarget) => `${t.namespace}/${t.serviceAccount}: ${t.secretName}`;
const describe = (t: EntryTarget) => `imagePullSecrets entry "${entryLabel(t)}"`;
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
        owner: inputs.owner,
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
                olds.owner !== news.owner ||
                connectionChanged(olds, news) ||
                !olds.present ||
                // Taking over an entry recorded as somebody else's (found listed before takeOver was set).
                (news.takeOver === true && olds.listedBefore);
            return Promise.resolve({ changes, replaces, deleteBeforeReplace: false });
        },
        create: (inputs: EntryInputs) =>
            guarded(describe(inputs), async () => {
                const owner = requireOwner(inputs.owner);
                const listedBefore = await attachEntry(
                    await client(inputs),
                    targetOf(inputs),
                    owner,
                    timing,
                    false,
                    inputs.takeOver === true,
                );
                return {
                    id: `${inputs.namespace}/${inputs.serviceAccount}/${inputs.secretName}`,
                    outs: state(inputs, listedBefore, true),
                };
            }),
        read: async (id, props: EntryState) => {
            refuseImport("PullSecretEntry", props);
            return guarded(describe(props), async () => {
                const present = await readEntry(await client(props), targetOf(props), timing);
                return { id, props: { ...props, present: present === true } };
            });
        },
        update: (_id, olds: EntryState, news: EntryInputs) =>
            guarded(describe(news), async () => {
                requireOwner(news.owner);
                const api = await client(news);
                const target = targetOf(news);
                const ours = !olds.listedBefore;
                // A new owner id (a renamed stack or project) takes the old one's marker first.
                if (olds.owner !== undefined && olds.owner !== news.owner) {
                    await changeOwner(api, target, olds.owner, news.owner, timing);
                }
                const listedBefore =
                    olds.secretName !== news.secretName && ours
                        ? await swapEntry(api, target, olds.secretName, news.owner, timing)
                        : await attachEntry(
                              api,
                              target,
                              news.owner,
                              timing,
                              ours && olds.secretName === news.secretName,
                              news.takeOver === true,
                          );
                return { outs: state(news, listedBefore, true) };
            }),
        delete: (_id, props: EntryState) =>
            guarded(describe(props), async () => {
                await detachEntry(await client(props), targetOf(props), props.owner, !props.listedBefore, timing);
            }),
    };
}

/** The one provider the dynamic-provider process uses: `configure` and the CRUD calls share its state. */
export const provider = entryProvider();
