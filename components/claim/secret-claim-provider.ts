/**
 * The provider of `SecretClaim` (components/claim/secret-claim.ts), loaded by package name in Pulumi's
 * dynamic-provider process (components/cluster/provider-by-name.ts): before the component's Secret is created
 * in a namespace, it reads what is there under the Secret's name and decides, by the rules of
 * components/claim/secret-claim-plan.ts, whether the Secret may be written and whose fields it takes over.
 *
 * It decides when the claim is created: in `check`, so `pulumi preview` already fails with the clear
 * error (or says what `takeOver` will take over), and again in `create`, which is what `pulumi up`
 * records. A claim that exists keeps its verdict: the Secret is the stack's own from then on. It owns
 * nothing in the cluster; delete does nothing. Only a Secret's type and metadata are read into the
 * rules, never its data, and no error quotes what the API server sent (components/cluster/cluster-connection.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
    ClusterError,
    connect,
    connectionChanged,
    guarded,
    refuseImport,
    requireOwner,
    stackCluster,
    statusOf,
    type ClusterConnection,
} from "../cluster/cluster-connection";
import { registryHostProblem } from "../rules/rules";
import { claimSecret, entriesToTakeOver, type LiveAccountEntries, type LiveSecretMetadata } from "./secret-claim-plan";

export interface SecretClaimInputs extends ClusterConnection {
    namespace: string;
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

/** The verdict, decided when the claim was created. */
export interface SecretClaimVerdict {
    /** The field managers whose Secret is taken over in place (`["kubectl-create"]`); `[]`: nothing is. */
    takesOverFrom: string[];
    /** The ServiceAccounts whose existing entry of the Secret's name becomes ours; `[]`: none. */
    entriesTakenOver: string[];
}

/**
 * What `check` adds only when it decides for a claim about to be created: a sentence saying what will
 * be taken over, so a preview can say it (the component logs it) while later runs, whose outputs come
 * from the state, do not.
 */
export interface PlannedTakeover {
    plannedTakeover?: string;
}

export type SecretClaimState = SecretClaimInputs & SecretClaimVerdict;

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

async function readSecret(api: CoreV1Api, c: SecretClaimInputs): Promise<LiveSecretMetadata | undefined> {
    try {
        // Only the type, metadata and registry hosts go on: the credentials stay in this function.
        const { type, metadata, data } = await api.readNamespacedSecret({ name: c.secretName, namespace: c.namespace });
        return { type, metadata, registryHosts: registryHostsOf(data) };
    } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
    }
}

async function readAccounts(api: CoreV1Api, c: SecretClaimInputs): Promise<LiveAccountEntries[]> {
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

type Decision = { ok: true; verdict: SecretClaimVerdict } | { ok: false; property: string; reason: string };

async function decide(api: CoreV1Api, c: SecretClaimInputs): Promise<Decision> {
    const claim = claimSecret(await readSecret(api, c), { ...c, owner: requireOwner(c.owner) });
    if (!claim.ok) return claim;
    const entries = c.takeOver ? entriesToTakeOver(await readAccounts(api, c), c.secretName) : [];
    return { ok: true, verdict: { takesOverFrom: claim.takesOverFrom, entriesTakenOver: entries } };
}

/** The sentence a preview shows for a claim that takes something over; `undefined` when it takes nothing. */
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

const sameTarget = (olds: Partial<SecretClaimInputs>, news: SecretClaimInputs) =>
    olds.namespace === news.namespace && olds.secretName === news.secretName;

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
            // A claim that exists keeps its verdict (olds are its last checked inputs).
            if (olds.takesOverFrom !== undefined && sameTarget(olds, news)) {
                const kept = { takesOverFrom: olds.takesOverFrom, entriesTakenOver: olds.entriesTakenOver ?? [] };
                return { inputs: { ...news, ...kept } };
            }
            if (isUnknownIn(news)) return { inputs: news };
            let decision: Decision;
            try {
                decision = await decide(await client(news), news);
            } catch {
                // Best effort: the cluster may be unreachable in a preview; `create` decides for good.
                return { inputs: news };
            }
            if (!decision.ok)
                return { inputs: news, failures: [{ property: decision.property, reason: decision.reason }] };
            const planned: PlannedTakeover = { plannedTakeover: plannedTakeover(news, decision.verdict) };
            return { inputs: { ...news, ...decision.verdict, ...(planned.plannedTakeover ? planned : {}) } };
        },
        diff(_id, olds: SecretClaimState, news: SecretClaimInputs) {
            const replaces = (["namespace", "secretName"] as const).filter((key) => olds[key] !== news[key]);
            return Promise.resolve({
                changes: replaces.length > 0 || connectionChanged(olds, news),
                replaces,
                deleteBeforeReplace: false,
            });
        },
        create: (inputs: SecretClaimInputs) =>
            guarded(describe(inputs), async () => {
                const decision = await decide(await client(inputs), inputs);
                if (!decision.ok) throw new ClusterError(decision.reason);
                // The preview's sentence stays out of the state: later previews must not repeat it.
                const state: SecretClaimState & PlannedTakeover = { ...inputs, ...decision.verdict };
                delete state.plannedTakeover;
                return { id: `${inputs.namespace}/${inputs.secretName}`, outs: state };
            }),
        read: (id, props: SecretClaimState) =>
            guarded("SecretClaim", () => {
                refuseImport("SecretClaim", props);
                return Promise.resolve({ id, props });
            }),
        update: (_id, olds: SecretClaimState, news: SecretClaimInputs) =>
            Promise.resolve({
                outs: { ...news, takesOverFrom: olds.takesOverFrom, entriesTakenOver: olds.entriesTakenOver },
            }),
        delete: () => Promise.resolve(),
    };
}

/** The one provider the dynamic-provider process uses: `configure` and the calls share its state. */
export const provider = secretClaimProvider();
