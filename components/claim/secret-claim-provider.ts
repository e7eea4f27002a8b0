/**
 * The provider of `SecretClaim` (components/claim/secret-claim.ts), loaded by package name in Pulumi's
 * dynamic-provider process (components/cluster/provider-by-name.ts): before the component's Secret is
 * created in a namespace, it reads what is there under the Secret's name and decides, by the rules of
 * components/claim/secret-claim-plan.ts, whether the Secret may be written and whose fields it takes over.
 *
 * One claim per component decides every namespace, reading at most {@link readsAtOnce} namespaces at a
 * time: one engine resource instead of one per namespace (each of which the engine checks one at a
 * time, and saves the state twice for). It decides a namespace when it first appears: in `check`, so
 * `pulumi preview` already fails with the clear error (or says what `takeOver` will take over), and
 * again in `create` or `update`, which is what `pulumi up` records. A namespace it decided keeps its
 * verdict: the Secret is the stack's own from then on. It owns nothing in the cluster; delete does
 * nothing. Only a Secret's type and metadata are read into the rules, never its data, and no error
 * quotes what the API server sent (components/cluster/cluster-connection.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
    ClusterError,
    connect,
    connectionChanged,
    describeFailure,
    guarded,
    refuseImport,
    requireOwner,
    stackCluster,
    statusOf,
    type ClusterConnection,
} from "../cluster/cluster-connection";
import { inTurns } from "../refresher/token-refresher";
import { registryHostProblem } from "../rules/rules";
import { claimSecret, entriesToTakeOver, type LiveAccountEntries, type LiveSecretMetadata } from "./secret-claim-plan";

export interface SecretClaimInputs extends ClusterConnection {
    namespaces: string[];
    secretName: string;
    owner: string;
    takeOver: boolean;
    /** The component's registry hosts: only the recipe's Secret for these is taken over. */
    registries: string[];
    /** How the user sets `takeOver` in their program (components/claim/secret-claim-plan.ts). */
    takeOverFix: string;
    /** The ServiceAccounts whose `imagePullSecrets` get the Secret: their entries of its name are reported. */
    serviceAccounts: string[];
}

/** The verdict in one namespace, decided when the namespace was first claimed. */
export interface SecretClaimVerdict {
    /** The field managers whose Secret is taken over in place (`["kubectl-create"]`); `[]`: nothing is. */
    takesOverFrom: string[];
    /** The ServiceAccounts whose existing entry of the Secret's name becomes ours; `[]`: none. */
    entriesTakenOver: string[];
}

/** The verdicts by namespace. */
export interface SecretClaimVerdicts {
    verdicts: Record<string, SecretClaimVerdict>;
}

/**
 * What `check` adds only for the namespaces it decides: a sentence per namespace saying what will be
 * taken over, so a preview can say it (the component logs them) while later runs, whose outputs come
 * from the state, do not.
 */
export interface PlannedTakeovers {
    plannedTakeovers?: string[];
}

export type SecretClaimState = SecretClaimInputs & SecretClaimVerdicts;

/** How many namespaces are read at once: a bounded burst, well under an API server's default limits. */
export const readsAtOnce = 8;

/** What the engine sends for a value not known yet (a preview of a program that computes it). */
const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const isUnknownIn = (inputs: object) => JSON.stringify(inputs).includes(unknown);

const describe = (c: { namespace: string; secretName: string }) =>
    `Secret "${c.secretName}" in namespace "${c.namespace}"`;

/**
 * The hosts a `.dockerconfigjson` (base64, as the API returns it) has credentials for: its `auths` keys,
 * each kept only when it reads as a registry host (anything else becomes a placeholder, so no odd text of
 * the Secret's reaches a message); `undefined` when there is no readable docker config.
 */
export function registryHostsOf(data: Record<string, string> | undefined): string[] | undefined {
    const encoded = data?.[".dockerconfigjson"];
    if (encoded === undefined) return undefined;
    try {
        const auths = (JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as { auths?: unknown }).auths;
        if (auths === null || typeof auths !== "object" || Array.isArray(auths)) return undefined;
        return Object.keys(auths).map((host) => (registryHostProblem(host) === undefined ? host : "(not a host name)"));
    } catch {
        return undefined;
    }
}

/** One namespace's claim: the component's inputs with that namespace. */
type NamespaceClaim = Omit<SecretClaimInputs, "namespaces"> & { namespace: string };

async function readSecret(api: CoreV1Api, c: NamespaceClaim): Promise<LiveSecretMetadata | undefined> {
    try {
        // Only the type, metadata and registry hosts go on: the credentials stay in this function.
        const { type, metadata, data } = await api.readNamespacedSecret({ name: c.secretName, namespace: c.namespace });
        return { type, metadata, registryHosts: registryHostsOf(data) };
    } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
    }
}

async function readAccounts(api: CoreV1Api, c: NamespaceClaim): Promise<LiveAccountEntries[]> {
    const accounts: LiveAccountEntries[] = [];
    for (const name of c.serviceAccounts) {
        try {
            accounts.push(await api.readNamespacedServiceAccount({ name, namespace: c.namespace }));
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
        }
    }
    return accounts;
}

type Decision =
    | { ok: true; namespace: string; verdict: SecretClaimVerdict }
    | { ok: false; namespace: string; property: string; reason: string };

async function decide(api: CoreV1Api, c: NamespaceClaim): Promise<Decision> {
    const claim = claimSecret(await readSecret(api, c), { ...c, owner: requireOwner(c.owner) });
    if (!claim.ok) return { ...claim, namespace: c.namespace };
    const entries = c.takeOver ? entriesToTakeOver(await readAccounts(api, c), c.secretName) : [];
    return {
        ok: true,
        namespace: c.namespace,
        verdict: { takesOverFrom: claim.takesOverFrom, entriesTakenOver: entries },
    };
}

/**
 * Decides `namespaces`, {@link readsAtOnce} at a time. A read that fails becomes a refusal naming its
 * namespace and what went wrong (quoting nothing the API server sent); `throwOnRead: false` (a preview's
 * best effort) leaves such a namespace undecided instead.
 */
async function decideAll(
    api: CoreV1Api,
    c: SecretClaimInputs,
    namespaces: string[],
    throwOnRead: boolean,
): Promise<Decision[]> {
    const decisions = await inTurns(namespaces, readsAtOnce, async (namespace) => {
        const claim: NamespaceClaim = { ...c, namespace };
        try {
            return await decide(api, claim);
        } catch (error) {
            if (!throwOnRead) return undefined;
            if (error instanceof ClusterError) throw error;
            throw new ClusterError(`${describe(claim)}: ${describeFailure(error)}`);
        }
    });
    return decisions.filter((d): d is Decision => d !== undefined);
}

/** The sentence a preview shows for a namespace whose claim takes something over; `undefined` when it takes nothing. */
export function plannedTakeover(
    c: { namespace: string; secretName: string },
    v: SecretClaimVerdict,
): string | undefined {
    const parts = [
        ...(v.takesOverFrom.length > 0
            ? [`${describe(c)} (written by ${v.takesOverFrom.map((m) => `"${m}"`).join(", ")}), in place`]
            : []),
        ...v.entriesTakenOver.map(
            (account) =>
                `the imagePullSecrets entry "${c.secretName}" of ServiceAccount "${account}" in namespace "${c.namespace}"`,
        ),
    ];
    return parts.length === 0 ? undefined : `takeOver: this update takes over ${parts.join(" and ")}`;
}

/**
 * The verdicts already made that still hold: those of the namespaces still claimed, for the same Secret
 * name. Old state of the one-claim-per-namespace design has no `verdicts`: nothing is kept, every
 * namespace is decided again (its Secret carries our owner label, so it is ours).
 */
function keptVerdicts(olds: Partial<SecretClaimState>, news: SecretClaimInputs): Record<string, SecretClaimVerdict> {
    if (olds.secretName !== news.secretName || olds.verdicts === undefined) return {};
    const kept: Record<string, SecretClaimVerdict> = {};
    for (const namespace of news.namespaces) {
        const verdict = olds.verdicts[namespace];
        if (verdict !== undefined) kept[namespace] = verdict;
    }
    return kept;
}

/** The verdicts after deciding the namespaces not kept; a refusal fails the step, naming every refused namespace. */
async function claimAll(api: CoreV1Api, c: SecretClaimInputs, kept: Record<string, SecretClaimVerdict>) {
    const decisions = await decideAll(
        api,
        c,
        c.namespaces.filter((namespace) => !(namespace in kept)),
        true,
    );
    const refused = decisions.filter((d) => !d.ok);
    if (refused.length > 0) throw new ClusterError(refused.map((d) => d.reason).join("; "));
    const verdicts = { ...kept };
    for (const d of decisions) if (d.ok) verdicts[d.namespace] = d.verdict;
    return verdicts;
}

const sameNamespaces = (a: string[] | undefined, b: string[]) =>
    a !== undefined && a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

/**
 * The provider, built from a way to connect; exported so tests drive it against a cluster of their
 * choosing (under mocks dynamic providers do not run).
 */
export function secretClaimProvider(
    connectTo: (connection: ClusterConnection) => Promise<CoreV1Api> = connect,
): pulumi.dynamic.ResourceProvider {
    const { configure, client } = stackCluster(connectTo);
    return {
        configure,
        async check(olds: Partial<SecretClaimState>, news: SecretClaimInputs) {
            const kept = keptVerdicts(olds, news);
            const fresh = news.namespaces.filter((namespace) => !(namespace in kept));
            if (fresh.length === 0 || isUnknownIn(news)) return { inputs: { ...news, verdicts: kept } };
            let decisions: Decision[];
            try {
                decisions = await decideAll(await client(news), news, fresh, false);
            } catch {
                // Best effort: the cluster may be unreachable in a preview; create and update decide for good.
                return { inputs: { ...news, verdicts: kept } };
            }
            const failures = decisions.flatMap((d) => (d.ok ? [] : [{ property: d.property, reason: d.reason }]));
            if (failures.length > 0) return { inputs: news, failures };
            const planned = decisions.flatMap((d) => {
                const sentence = d.ok ? plannedTakeover({ ...d, secretName: news.secretName }, d.verdict) : undefined;
                return sentence === undefined ? [] : [sentence];
            });
            const verdicts = { ...kept };
            for (const d of decisions) if (d.ok) verdicts[d.namespace] = d.verdict;
            const extra: PlannedTakeovers = planned.length > 0 ? { plannedTakeovers: planned } : {};
            return { inputs: { ...news, verdicts, ...extra } };
        },
        diff(_id, olds: SecretClaimState, news: SecretClaimInputs) {
            const replaces = olds.secretName !== news.secretName ? ["secretName"] : [];
            return Promise.resolve({
                changes:
                    replaces.length > 0 ||
                    !sameNamespaces(olds.namespaces, news.namespaces) ||
                    connectionChanged(olds, news),
                replaces,
                deleteBeforeReplace: false,
            });
        },
        create: (inputs: SecretClaimInputs) =>
            guarded(`Secret "${inputs.secretName}"`, async () => {
                const verdicts = await claimAll(await client(inputs), inputs, {});
                return { id: inputs.secretName, outs: stateOf(inputs, verdicts) };
            }),
        read: (id, props: SecretClaimState) =>
            guarded("SecretClaim", () => {
                refuseImport("SecretClaim", props);
                return Promise.resolve({ id, props });
            }),
        update: (_id, olds: SecretClaimState, news: SecretClaimInputs) =>
            guarded(`Secret "${news.secretName}"`, async () => {
                const verdicts = await claimAll(await client(news), news, keptVerdicts(olds, news));
                return { outs: stateOf(news, verdicts) };
            }),
        delete: () => Promise.resolve(),
    };
}

/** The state: the inputs and the verdicts; the preview's sentences stay out (later previews must not repeat them). */
function stateOf(inputs: SecretClaimInputs, verdicts: Record<string, SecretClaimVerdict>): SecretClaimState {
    const state: SecretClaimState & PlannedTakeovers = { ...inputs, verdicts };
    delete state.plannedTakeovers;
    return state;
}

/** The one provider the dynamic-provider process uses: `configure` and the calls share its state. */
export const provider = secretClaimProvider();
