/**
 * Pure rules for the Secret name the component is about to create in a namespace: is it free, is it a
 * Secret the kubectl recipe made (which `takeOver` takes over in place), or is it somebody else's?
 * Nothing here reads the cluster or knows Pulumi; components/claim/secret-claim-provider.ts reads the live
 * Secret and applies these rules.
 *
 * Who wrote a Secret is recorded by the API server itself, in `metadata.managedFields`: one entry per
 * field manager, with the fields it set (server-side apply, kubernetes `apimachinery/pkg/util/managedfields`).
 * `kubectl create secret docker-registry` writes as manager `kubectl-create` (kubectl sets the manager
 * per command: `kubectl-create`, `kubectl-edit`, `kubectl-replace`, `kubectl-client-side-apply`, and
 * `kubectl` for `apply --server-side`). The Pulumi Kubernetes provider writes as `pulumi-kubernetes-<random>`
 * with server-side apply and `pulumi-kubernetes` without (pulumi-kubernetes provider/pkg/provider/provider.go
 * `fieldManagerName`).
 */
import { ownerOfSecret, ownersOfEntry, type OwnedMetadata } from "../rules/ownership";

/** The `type` of every pull Secret, the recipe's and the component's. */
export const pullSecretType = "kubernetes.io/dockerconfigjson";

/** The parts of a live Secret the rules read: its type, metadata and registry hosts, never its credentials. */
export interface LiveSecretMetadata extends OwnedMetadata {
    type?: string;
    /** The hosts its docker config has credentials for (`auths` keys); `undefined`: none readable. */
    registryHosts?: string[];
    metadata?: OwnedMetadata["metadata"] & {
        managedFields?: { manager?: string; fieldsV1?: Record<string, unknown> }[];
        ownerReferences?: { kind?: string; name?: string }[];
    };
}

/** What the component finds under its Secret's name in one namespace. */
export interface SecretClaimTarget {
    namespace: string;
    secretName: string;
    /** The component's owner id (components/rules/ownership.ts). */
    owner: string;
    /** Whether the user opted in to taking over a Secret the kubectl recipe made. */
    takeOver: boolean;
    /** The component's registry hosts: only a recipe Secret for these is taken over. */
    registries: string[];
    /**
     * How the user sets `takeOver` in the program they have: the argument, or in this repository's
     * sample program its stack config key (components/stack-config.ts).
     */
    takeOverFix: string;
}

/** How to set takeOver in a program that passes the component its arguments. */
export const takeOverArgument = "set the component's argument takeOver to true";
/** How to set it in this repository's sample program, whose arguments come from stack config. */
export const takeOverStackConfig = "set takeOver to true (pulumi config set takeOver true)";

/**
 * The verdict: the Secret may be written, and the field managers whose fields the component takes
 * over (empty: nothing of anybody else's is taken over, so nothing is forced); or the reason it may not,
 * naming the argument the reason is about.
 */
export type SecretClaim =
    { ok: true; takesOverFrom: string[] } | { ok: false; property: "takeOver" | "secretName"; reason: string };

const isKubectl = (manager: string) => manager === "kubectl" || manager.startsWith("kubectl-");
const isPulumi = (manager: string) =>
    manager.startsWith("pulumi-kubernetes") || manager === "pulumi-resource-kubernetes";

/** The field managers that wrote any of the Secret's `data` (sorted, each once). */
export function dataManagers(secret: LiveSecretMetadata): string[] {
    const managers = (secret.metadata?.managedFields ?? [])
        .filter((entry) => entry.fieldsV1 !== undefined && "f:data" in entry.fieldsV1)
        .map((entry) => entry.manager ?? "(unnamed manager)");
    return [...new Set(managers)].sort();
}

/** The field managers that wrote any field of the Secret (sorted, each once). */
export function fieldManagers(secret: LiveSecretMetadata): string[] {
    const managers = (secret.metadata?.managedFields ?? []).map((entry) => entry.manager ?? "(unnamed manager)");
    return [...new Set(managers)].sort();
}

const quoted = (names: string[]) => names.map((name) => `"${name}"`).join(", ");

/**
 * Whether the component may write `target.secretName` in `target.namespace`, given what is there
 * (`undefined`: nothing). Refused always: a Secret of another type, one that another object owns
 * (`ownerReferences`), one another component instance made (its owner label). Without `takeOver`, a
 * Secret only kubectl wrote is refused with what to do; one Pulumi wrote passes as before (it may be
 * this stack's own, declared before this check existed). With `takeOver`, a Secret only kubectl wrote
 * is taken over, and anything another tool or a Pulumi program wrote is refused: the component never
 * forces another stack's fields.
 */
export function claimSecret(live: LiveSecretMetadata | undefined, target: SecretClaimTarget): SecretClaim {
    if (live === undefined) return { ok: true, takesOverFrom: [] };
    const what = `Secret "${target.secretName}" in namespace "${target.namespace}"`;
    const refuse = (property: "takeOver" | "secretName", reason: string): SecretClaim => ({
        ok: false,
        property,
        reason: `${what} ${reason}`,
    });
    const elsewhere = "; choose another secretName, or move that Secret out of the way yourself";
    if (live.type !== pullSecretType) {
        return refuse(
            "secretName",
            `exists with type "${live.type ?? ""}", not ${pullSecretType}: it is not a pull Secret and is never taken over${elsewhere}`,
        );
    }
    const ownerObjects = live.metadata?.ownerReferences ?? [];
    if (ownerObjects.length > 0) {
        const owners = ownerObjects.map((o) => `${o.kind ?? "object"} "${o.name ?? ""}"`).join(", ");
        return refuse("secretName", `exists and is owned by ${owners}: it is never taken over${elsewhere}`);
    }
    const recordedOwner = ownerOfSecret(live);
    if (recordedOwner === target.owner) return { ok: true, takesOverFrom: [] };
    if (recordedOwner !== undefined) {
        return refuse(
            "secretName",
            `belongs to another RegistryPullSecret component (owner ${recordedOwner === "" ? "not recorded" : recordedOwner}: another stack, project or component name): it is never taken over${elsewhere}`,
        );
    }
    const managers = dataManagers(live);
    const pulumi = managers.filter(isPulumi);
    const kubectl = managers.filter(isKubectl);
    const others = managers.filter((m) => !isPulumi(m) && !isKubectl(m));
    if (!target.takeOver) {
        // Pulumi wrote it: this stack's own Secret (nothing new is created then), or another stack's, whose
        // conflict the Kubernetes provider reports as before.
        if (pulumi.length > 0 || managers.length === 0) return { ok: true, takesOverFrom: [] };
        if (others.length === 0) {
            return refuse(
                "takeOver",
                `exists already, written by ${quoted(kubectl)} (the kubectl recipe), not by this stack: ${target.takeOverFix} to take it over in place (the same object, holding the component's credential from then on; destroy deletes it), or delete it, or choose another secretName`,
            );
        }
        return refuse(
            "takeOver",
            `exists already, written by ${quoted(managers)}, not by this stack, and takeOver takes over only what kubectl wrote${elsewhere}`,
        );
    }
    if (managers.length === 0) {
        return refuse("takeOver", `exists but records no field manager, so nobody can tell who wrote it${elsewhere}`);
    }
    if (pulumi.length > 0) {
        return refuse(
            "takeOver",
            `is managed by a Pulumi program (field manager ${quoted(pulumi)}): another stack's, which is never taken over; or, if this stack already declares it (it did before takeOver existed), run pulumi up once without takeOver first`,
        );
    }
    if (others.length > 0) {
        return refuse(
            "takeOver",
            `was written by ${quoted(others)}, not only by kubectl: takeOver takes over only what the kubectl recipe made${elsewhere}`,
        );
    }
    // Any field, not only the data: a label or annotation another tool (or a Pulumi stack) set is theirs.
    const notKubectl = fieldManagers(live).filter((m) => !isKubectl(m));
    if (notKubectl.length > 0) {
        return refuse(
            "takeOver",
            `has fields written by ${quoted(notKubectl)}, not only by kubectl: takeOver takes over only what the kubectl recipe made${elsewhere}`,
        );
    }
    // A kubectl-made pull Secret for another registry (a tenant's Docker Hub credential) is theirs too.
    const hosts = live.registryHosts ?? [];
    const foreign = hosts.filter((host) => !target.registries.includes(host));
    if (hosts.length === 0 || foreign.length > 0) {
        return refuse(
            "takeOver",
            `holds credentials for ${hosts.length === 0 ? "no registry it can be read for" : quoted(foreign)}, not only for the component's registries (${quoted(target.registries)}): takeOver takes over only the recipe's Secret for the same registries${elsewhere}`,
        );
    }
    return { ok: true, takesOverFrom: kubectl };
}

/** A ServiceAccount as the entry rules read it: its name, its list, its owners' markers. */
export interface LiveAccountEntries extends OwnedMetadata {
    metadata?: OwnedMetadata["metadata"] & { name?: string };
    imagePullSecrets?: { name?: string }[];
}

/**
 * The ServiceAccounts whose `imagePullSecrets` list `secretName` already while no owner's marker
 * claims it (components/rules/ownership.ts): the recipe's `kubectl patch` entries, which `takeOver` makes
 * ours (components/attachment/pull-secret-entry-plan.ts `planAttach`). Sorted.
 */
export function entriesToTakeOver(accounts: LiveAccountEntries[], secretName: string): string[] {
    return accounts
        .filter((account) => (account.imagePullSecrets ?? []).some((entry) => entry.name === secretName))
        .filter((account) => ownersOfEntry(account, secretName).length === 0)
        .map((account) => account.metadata?.name ?? "")
        .sort();
}
