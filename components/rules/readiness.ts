/**
 * The readiness gate's rules, pure: which registry hosts and repositories a new credential must prove
 * it can pull from before the Secrets take it (components/credential/pull-readiness.ts), how long to
 * wait between tries, and how progress and refusals read. Nothing here touches the network.
 *
 * Why a gate at all: Google applies a new grant "typically in 2 minutes, but could potentially take 7
 * minutes or longer" (cloud.google.com/iam/docs/access-change-propagation), and a new service-account
 * key may need a minute or more before it signs in; the bridged provider's key Create only waits until
 * `keys.get` stops answering 404 and then sleeps 10 s (hashicorp/terraform-provider-google-beta v7.45.0,
 * google-beta/services/resourcemanager/resource_google_service_account_key.go): existence, not
 * usability. A Secret written before then holds a credential no kubelet can pull with yet.
 */

/** An Artifact Registry repository as `gcp.repositories` lists it. */
interface ArtifactRegistryRepository {
    location: string;
    repository: string;
}

/** How long the gate waits by default before it fails the `up`: past Google's "7 minutes or longer". */
export const defaultReadinessTimeoutSeconds = 600;
/** The longest wait accepted: an hour, which catches a value meant in milliseconds. */
export const maxReadinessTimeoutSeconds = 3600;

/** The hosts Artifact Registry serves `gcr.io` repositories on, and the location each stands in. */
const gcrHosts: Record<string, string> = {
    "gcr.io": "us",
    "asia.gcr.io": "asia",
    "eu.gcr.io": "europe",
    "us.gcr.io": "us",
};

/** Whether `host` is a name Artifact Registry serves Docker repositories on (`gcr.io` hosts, `LOCATION-docker.pkg.dev`). */
export function isGoogleRegistryHost(host: string): boolean {
    return host in gcrHosts || /^[a-z]+(-[a-z]+[0-9]+)?-docker\.pkg\.dev$/.test(host);
}

/**
 * The host a repository is pulled through and its path there: a `gcr.io`-style repository (named after
 * its host, in that host's location) holds `PROJECT/IMAGE` on the host; any other holds
 * `PROJECT/REPOSITORY/IMAGE` on `LOCATION-docker.pkg.dev` (cloud.google.com/artifact-registry/docs/docker/names).
 */
export function repositoryHome(project: string, r: ArtifactRegistryRepository): { host: string; path: string } {
    return gcrHosts[r.repository] === r.location
        ? { host: r.repository, path: project }
        : { host: `${r.location}-docker.pkg.dev`, path: `${project}/${r.repository}` };
}

/** A kubelet-style host glob (`*.gcr.io`), matched label by label as the kubelet's keyring does. */
function globMatches(pattern: string, host: string): boolean {
    const patterns = pattern.split(".");
    const labels = host.split(".");
    return (
        patterns.length === labels.length &&
        patterns.every((p, i) => new RegExp(`^${p.replace(/\*/g, "[^.]*").replace(/\?/g, "[^.]")}$`).test(labels[i]))
    );
}

/** One listed repository a host must grant pull on. */
export interface ProbedRepository {
    /** `LOCATION/REPOSITORY`, as `gcp.repositories` names it. */
    name: string;
    /** Its path on the host (`PROJECT` or `PROJECT/REPOSITORY`). */
    path: string;
}

/** A host the credential must sign in to, and the repositories it must grant pull on there. */
export interface ReadinessProbe {
    host: string;
    repositories: ProbedRepository[];
}

/**
 * What the gate proves: each listed host that is not a glob signs in with the credential, and grants
 * pull on each listed repository it serves (a Google host by its name, or the Google host it mirrors by
 * `readiness.mirrorOf`); a glob is proved through the Google hosts it covers that serve a repository.
 * A host that is not Google's and mirrors none (`credentials`, a proxy of unknown repositories) is
 * proved for sign-in only: which repositories it serves only its owner knows.
 */
export function readinessProbes(
    registries: string[],
    project: string,
    repositories: ArtifactRegistryRepository[],
    mirrorOf: Record<string, string>,
): ReadinessProbe[] {
    const homes = repositories.map((r) => ({ name: `${r.location}/${r.repository}`, ...repositoryHome(project, r) }));
    const served = (googleHost: string) =>
        homes.filter((h) => h.host === googleHost).map(({ name, path }) => ({ name, path }));
    const listed = registries.filter((host) => !/[*?]/.test(host));
    const probes = listed.map((host) => ({ host, repositories: served(mirrorOf[host] ?? host) }));
    const viaGlobs = [...new Set(homes.map((h) => h.host))]
        .filter((host) => !listed.includes(host) && registries.some((r) => /[*?]/.test(r) && globMatches(r, host)))
        .map((host) => ({ host, repositories: served(host) }));
    return [...probes, ...viaGlobs];
}

/** `readiness.timeoutSeconds`: a whole number of seconds from 1 to {@link maxReadinessTimeoutSeconds}. */
export function readinessTimeoutProblem(value: unknown): string | undefined {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > maxReadinessTimeoutSeconds) {
        return `must be a whole number of seconds from 1 to ${maxReadinessTimeoutSeconds}, as a plain number known when the program runs`;
    }
    return undefined;
}

/** A `readiness.mirrorOf` value: the Google host a listed mirror stands for. */
export function mirroredHostProblem(value: string): string | undefined {
    return isGoogleRegistryHost(value)
        ? undefined
        : "must be an Artifact Registry host (gcr.io, asia.gcr.io, eu.gcr.io, us.gcr.io or LOCATION-docker.pkg.dev) that the listed mirror stands for";
}

/** The first try again after 1 s, doubling up to 10 s: bounded, so a grant seen late costs at most 10 s more. */
export function retryDelayMs(attempt: number): number {
    return Math.min(1000 * 2 ** attempt, 10_000);
}

/** How often the gate says it is still waiting. */
export const progressEveryMs = 20_000;

/** Why a host did not yet let the credential pull: an HTTP status (0: unreachable) and the registry's words. */
export interface Refusal {
    host: string;
    /** The repository refused (`LOCATION/REPOSITORY`); absent when sign-in itself was refused. */
    repository?: string;
    status: number;
    reason: string;
}

/** The refusal as a clause: `asia-northeast1-docker.pkg.dev refused pull on asia-northeast1/images (403 ...)`. */
export function describeRefusal(refusal: Refusal): string {
    const what = refusal.repository === undefined ? "refused sign-in" : `refused pull on ${refusal.repository}`;
    const status = refusal.status === 0 ? "unreachable" : String(refusal.status);
    return `${refusal.host} ${what} (${status}: ${refusal.reason})`;
}

/** What the user reads while the gate waits, e.g. "waiting for the grant on asia/images to take effect, 40 s so far". */
export function waitingMessage(refusal: Refusal, elapsedMs: number): string {
    const seconds = Math.round(elapsedMs / 1000);
    const what =
        refusal.repository !== undefined && refusal.status === 403
            ? `the grant on ${refusal.repository} to take effect`
            : refusal.status === 401
              ? "the new credential to be accepted"
              : "the registry to let the credential pull";
    return `waiting for ${what}, ${seconds} s so far: ${describeRefusal(refusal)}`;
}

/** The failed `up`'s error after the deadline: every host and repository still refusing, and the ways out. */
export function timeoutMessage(refusals: Refusal[], timeoutSeconds: number): string {
    return `the credential could not pull within ${timeoutSeconds} s (readiness.timeoutSeconds): ${refusals.map(describeRefusal).join("; ")}. The Secrets keep what they held. A grant or a new key can take Google 7 minutes or longer: run pulumi up again, or raise readiness.timeoutSeconds; for a registry this machine cannot reach, set readiness.wait to false`;
}

/**
 * A registry's answer as the gate may print it: its `errors[].message` (or the status text), with
 * anything that is the credential cut out, on one line and short. Registries do not echo credentials,
 * but nothing secret may reach a log on their word.
 */
export function registryReason(body: string, fallback: string, secrets: string[]): string {
    let reason = fallback;
    try {
        const errors = (JSON.parse(body) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
        if (errors.length > 0)
            reason = errors.map((e) => `${(e.code ?? "").toLowerCase()}: ${e.message ?? ""}`).join("; ");
    } catch {
        // Not the registry's JSON: the status text says enough.
    }
    for (const secret of secrets.filter((s) => s.length >= 4)) reason = reason.split(secret).join("[secret]");
    reason = reason.replace(/\s+/g, " ").trim();
    return reason.length > 300 ? `${reason.slice(0, 297)}...` : reason;
}

/** The image name the gate asks for in each repository: none such exists, and a 404 for it means the registry looked. */
export const probeImage = "registry-pull-secret-readiness-probe";

/**
 * The `readinessMirrors` stack config entry `MIRROR=GOOGLE_HOST` as `[mirror, googleHost]`, or the
 * problem with it.
 */
export function mirrorEntry(text: string): [string, string] | { problem: string } {
    const parts = typeof text === "string" ? text.split("=") : [];
    if (parts.length !== 2 || parts.some((part) => part === "")) {
        return { problem: "must be MIRROR=GOOGLE_HOST, e.g. mirror.example.com:5000=asia-northeast1-docker.pkg.dev" };
    }
    return [parts[0], parts[1]];
}
