/**
 * The HTTP path for one `imagePullSecrets` entry, through the official `@kubernetes/client-node`:
 * read the ServiceAccount, send the planned JSON patch, and on a lost race (422 from a failed `test`,
 * 409), a transient answer (429, 5xx) or no answer at all (a reset connection) read again and retry
 * with backoff. A retry plans again from the fresh read: when the lost patch did apply, the read shows
 * our entry with our owner's marker beside it (components/attachment/pull-secret-entry-plan.ts), so ownership
 * carries across retries, and across an interrupted `pulumi up`, through the cluster itself.
 */
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { ClusterError, describeFailure, isRefusal, networkCodeOf, statusOf } from "../cluster/cluster-connection";
import { isSecretOwnedBy } from "../rules/ownership";
import {
    planAttach,
    planDetach,
    unconfirmedMarkerNames,
    planOwnerChange,
    planSwap,
    isListed,
    needsSecretCheck,
    shouldRelinquish,
    type AttachPlan,
    type LiveServiceAccount,
} from "./pull-secret-entry-plan";
import { ownershipKeys } from "../rules/ownership";

/** Which entry: the ServiceAccount and the Secret name it lists. */
export interface EntryTarget {
    namespace: string;
    serviceAccount: string;
    secretName: string;
}

/** How long to wait and retry; injectable so tests against the API-server double run in milliseconds. */
export interface EntryTiming {
    /** How long a missing ServiceAccount is waited for (a new namespace's `default` comes shortly after it). */
    appearTimeoutMs: number;
    /** First pause between attempts; doubled each time up to `maxDelayMs`. */
    initialDelayMs: number;
    maxDelayMs: number;
    /** Attempts for races and transient answers before giving up. */
    maxAttempts: number;
}

export const defaultTiming: EntryTiming = {
    appearTimeoutMs: 120_000,
    initialDelayMs: 250,
    maxDelayMs: 5_000,
    maxAttempts: 12,
};

/** 429 and 5xx answers, and no answer at all (refused, reset, timed out): worth asking again. */
const isTransient = (error: unknown) => {
    const status = statusOf(error);
    return status === 429 || (status !== undefined && status >= 500) || networkCodeOf(error) !== undefined;
};
const isLostRace = (status: number | undefined) => status === 409 || status === 422;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const describe = (t: EntryTarget) => `ServiceAccount "${t.serviceAccount}" in namespace "${t.namespace}"`;

/** Runs `attempt` until it returns, retrying lost races and transient answers with backoff. */
async function withRetries<T>(target: EntryTarget, timing: EntryTiming, attempt: () => Promise<T>): Promise<T> {
    let delay = timing.initialDelayMs;
    for (let n = 1; ; n++) {
        try {
            return await attempt();
        } catch (error) {
            if (error instanceof ClusterError) throw error;
            const attempts = isRefusal(error) ? Math.min(2, timing.maxAttempts) : timing.maxAttempts;
            if (!(isTransient(error) || isLostRace(statusOf(error))) || n >= attempts) {
                throw new ClusterError(`${describe(target)}: ${describeFailure(error)} after ${n} attempt(s)`);
            }
            await sleep(delay);
            delay = Math.min(delay * 2, timing.maxDelayMs);
        }
    }
}

/** The ServiceAccount, or `undefined` when it (or its namespace) does not exist. */
async function readAccount(api: CoreV1Api, target: EntryTarget): Promise<LiveServiceAccount | undefined> {
    try {
        return (await api.readNamespacedServiceAccount({
            name: target.serviceAccount,
            namespace: target.namespace,
        })) as LiveServiceAccount;
    } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
    }
}

/** Waits for a ServiceAccount that may appear shortly (never creating it: the controller manager does). */
async function awaitAccount(api: CoreV1Api, target: EntryTarget, timing: EntryTiming): Promise<LiveServiceAccount> {
    const deadline = Date.now() + timing.appearTimeoutMs;
    let delay = timing.initialDelayMs;
    for (;;) {
        const account = await withRetries(target, timing, () => readAccount(api, target));
        if (account) return account;
        if (Date.now() >= deadline) {
            throw new ClusterError(
                `${describe(target)} did not appear within ${timing.appearTimeoutMs} ms; it is never created here`,
            );
        }
        await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
        delay = Math.min(delay * 2, timing.maxDelayMs);
    }
}

async function patch(api: CoreV1Api, target: EntryTarget, body: object[]): Promise<void> {
    // client-node sends `application/json-patch+json`, the first media type the generated API prefers.
    await api.patchNamespacedServiceAccount({ name: target.serviceAccount, namespace: target.namespace, body });
}

/**
 * A server-side apply as `manager`, never forced: `list` co-owns the list exactly as it is (no conflict,
 * since the value is the same; the `resourceVersion` makes a concurrent change answer 409), `undefined`
 * relinquishes the manager's fields (what pulumi-kubernetes provider/pkg/ssa/actions.go `Relinquish` sends).
 */
async function serverSideApply(
    api: CoreV1Api,
    target: EntryTarget,
    manager: string,
    account: LiveServiceAccount,
    list: LiveServiceAccount["imagePullSecrets"] | undefined,
): Promise<LiveServiceAccount> {
    const { setHeaderOptions, PatchStrategy } = await import("@kubernetes/client-node");
    const metadata = { name: target.serviceAccount, namespace: target.namespace };
    return (await api.patchNamespacedServiceAccount(
        {
            ...metadata,
            fieldManager: manager,
            force: false,
            body: {
                apiVersion: "v1",
                kind: "ServiceAccount",
                metadata: { ...metadata, resourceVersion: account.metadata.resourceVersion },
                ...(list === undefined ? {} : { imagePullSecrets: list }),
            },
        },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    )) as LiveServiceAccount;
}

/**
 * Lists our Secret name once, as `owner`'s; says whether somebody else listed it before us (then
 * nothing was changed). `ours`: the state says we added it (before markers existed). `takeOver`: an
 * entry of our name that no owner claims becomes ours (the kubectl recipe's).
 */
export async function attachEntry(
    api: CoreV1Api,
    target: EntryTarget,
    owner: string,
    timing: EntryTiming = defaultTiming,
    ours = false,
    takeOver = false,
): Promise<boolean> {
    return applyPlan(api, target, timing, async (account) => {
        const ownSecret =
            needsSecretCheck(account, target.secretName) &&
            (await ownSecrets(api, target.namespace, [target.secretName], owner)).length > 0;
        return planAttach(account, target.secretName, owner, { ours, takeOver, ownSecret });
    });
}

/** Hands `from`'s marker on this ServiceAccount to `to` (a component whose owner id changed). */
export async function changeOwner(
    api: CoreV1Api,
    target: EntryTarget,
    from: string,
    to: string,
    timing: EntryTiming = defaultTiming,
): Promise<void> {
    await applyPlan(api, target, timing, (account) => ({
        listedBefore: false,
        operations: planOwnerChange(account, from, to),
    }));
}

/** Swaps our entry's name in place; says whether the new name was listed by somebody else before us. */
export async function swapEntry(
    api: CoreV1Api,
    target: EntryTarget,
    oldName: string,
    owner: string,
    timing: EntryTiming = defaultTiming,
): Promise<boolean> {
    return applyPlan(api, target, timing, (account) => planSwap(account, oldName, target.secretName, owner));
}

async function applyPlan(
    api: CoreV1Api,
    target: EntryTarget,
    timing: EntryTiming,
    plan: (account: LiveServiceAccount) => AttachPlan | Promise<AttachPlan>,
): Promise<boolean> {
    let listedBefore = false;
    // A lost race throws from the patch; the whole read-plan-patch step runs again on fresh state.
    await withRetries(target, timing, async () => {
        const account = await awaitAccount(api, target, timing);
        let planned = await plan(account);
        if (planned.coOwn !== undefined) {
            // Co-owned now, the same entry plans again without a hand-over: the marker, guarded anew.
            planned = await plan(await serverSideApply(api, target, planned.coOwn, account, account.imagePullSecrets));
        }
        listedBefore = planned.listedBefore;
        if (planned.operations.length > 0) await patch(api, target, planned.operations);
    });
    return listedBefore;
}

/**
 * The names among `candidates` whose Secret in the namespace carries `owner`'s owner label: Secrets
 * this component made (components/rules/ownership.ts). A tenant who can patch the ServiceAccount
 * cannot make another team's Secret carry it.
 */
async function ownSecrets(api: CoreV1Api, namespace: string, candidates: string[], owner: string): Promise<string[]> {
    const confirmed: string[] = [];
    for (const name of candidates) {
        try {
            const { metadata } = await api.readNamespacedSecret({ name, namespace });
            if (isSecretOwnedBy({ metadata }, owner)) confirmed.push(name);
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
        }
    }
    return confirmed;
}

/**
 * Removes our entry (our Secret name when `addedByUs`, and a name our marker lists whose Secret carries
 * our owner label) and our marker; a namespace or account already gone is not an error.
 */
export async function detachEntry(
    api: CoreV1Api,
    target: EntryTarget,
    owner: string | undefined,
    addedByUs: boolean,
    timing: EntryTiming = defaultTiming,
): Promise<void> {
    await withRetries(target, timing, async () => {
        let account = await readAccount(api, target);
        if (account && owner && shouldRelinquish(account, owner)) {
            account = await serverSideApply(api, target, ownershipKeys.listManager(owner), account, undefined);
        }
        const candidates = account ? unconfirmedMarkerNames(account, target.secretName, owner) : [];
        const confirmed =
            owner && candidates.length > 0 ? await ownSecrets(api, target.namespace, candidates, owner) : [];
        const operations = account ? planDetach(account, target.secretName, owner, addedByUs, confirmed) : [];
        if (operations.length === 0) return;
        try {
            await patch(api, target, operations);
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
        }
    });
}

/** Whether our Secret name is listed; `undefined` when the ServiceAccount is gone. */
export async function readEntry(
    api: CoreV1Api,
    target: EntryTarget,
    timing: EntryTiming = defaultTiming,
): Promise<boolean | undefined> {
    const account = await withRetries(target, timing, () => readAccount(api, target));
    return account === undefined ? undefined : isListed(account, target.secretName);
}
