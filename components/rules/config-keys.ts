/**
 * Config keys a stack sets that nothing will read: a typo in a key of the project's own namespace
 * (`keyRotationDay`), in the namespace itself (`registry-pul-secret:namespaces`) or in a Kubernetes
 * provider key (`kubernetes:enableSecretMutabel`). Each is silent otherwise: the program reads the key
 * it meant, finds nothing, and falls back to the default (rotation off, Secrets replaced). Pure: the
 * sample program (index.ts) and the offline plan (tools/plan.ts) both check with these rules.
 */

/** The Kubernetes provider's config keys (@pulumi/kubernetes 4.34 `ProviderArgs`). */
export const kubernetesConfigKeys = [
    "alwaysRender",
    "cluster",
    "clusterIdentifier",
    "context",
    "deleteUnreachable",
    "enableConfigMapMutable",
    "enablePatchForce",
    "enableSecretMutable",
    "enableServerSideApply",
    "helmReleaseSettings",
    "kubeClientSettings",
    "kubeconfig",
    "namespace",
    "renderYamlToDirectory",
    "skipUpdateUnreachable",
    "suppressDeprecationWarnings",
    "suppressHelmHookWarnings",
    "upsertExistingObjects",
];

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
            );
        }
        previous = current;
    }
    return previous[b.length];
}

/** The candidate with the fewest single-character edits from `key`, if one is closer than a rewrite. */
export function nearestKey(key: string, candidates: string[]): string | undefined {
    let best: { key: string; distance: number } | undefined;
    for (const candidate of candidates) {
        const distance = editDistance(key, candidate);
        if (best === undefined || distance < best.distance) best = { key: candidate, distance };
    }
    const bare = key.slice(key.indexOf(":") + 1);
    return best !== undefined && best.distance < bare.length ? best.key : undefined;
}

/** A namespace this close to a known one is taken for a typo of it. */
const namespaceTypoDistance = 2;

/** A key nothing reads, why, and the likely fix. */
export interface UnreadKey {
    key: string;
    /** Why nothing reads it. */
    why: "undeclared" | "notKubernetes" | "namespace";
    /** The declared or known key it was probably meant to be. */
    nearest: string | undefined;
}

/**
 * The keys among `keys` (`namespace:name`) that nothing reads: in the project's namespace and not
 * `declared` (Pulumi.yaml, qualified); in a namespace a character or two from the project's or from
 * `kubernetes`; in `kubernetes` and not a key of its provider. Other namespaces (another provider's,
 * `gcp:project`) are left alone.
 */
export function unreadKeys(keys: string[], project: string, declared: string[]): UnreadKey[] {
    const kubernetes = kubernetesConfigKeys.map((key) => `kubernetes:${key}`);
    return keys.flatMap((key): UnreadKey[] => {
        const namespace = key.slice(0, key.indexOf(":"));
        const bare = key.slice(key.indexOf(":") + 1);
        if (namespace === project) {
            return declared.includes(key) ? [] : [{ key, why: "undeclared", nearest: nearestKey(key, declared) }];
        }
        if (namespace === "kubernetes") {
            return kubernetes.includes(key)
                ? []
                : [{ key, why: "notKubernetes", nearest: nearestKey(key, kubernetes) }];
        }
        for (const [known, candidates] of [
            [project, declared],
            ["kubernetes", kubernetes],
        ] as const) {
            if (editDistance(namespace, known) <= namespaceTypoDistance) {
                const nearest = nearestKey(`${known}:${bare}`, [...candidates]) ?? `${known}:${bare}`;
                return [{ key, why: "namespace", nearest }];
            }
        }
        return [];
    });
}

const reasons: Record<UnreadKey["why"], string> = {
    undeclared: "is not declared in Pulumi.yaml, so the program never reads it",
    notKubernetes: "is not a config key of the Kubernetes provider, so nothing reads it",
    namespace: "is in a config namespace nothing reads",
};

/** The message for a key nothing reads, naming where it was set. */
export function unreadKeyProblem(where: string, { key, why, nearest }: UnreadKey): string {
    const hint = nearest === undefined ? "" : `; did you mean ${nearest}?`;
    return `${where}: ${key} ${reasons[why]}${hint}`;
}
