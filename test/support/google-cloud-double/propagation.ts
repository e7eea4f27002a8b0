/**
 * Google's eventual consistency, as the Google Cloud double models it: what its APIs write (./state.ts)
 * takes effect for the data plane (the Artifact Registry front, ../artifact-registry-front.ts) only
 * after a delay, as on Google.
 *
 * - A grant or a revocation: "Policy changes typically propagate in 2 minutes, but could potentially
 *   take 7 minutes or longer" (cloud.google.com/iam/docs/access-change-propagation). Until its delay
 *   has passed, a change is not seen: a new member cannot pull, a removed one still can.
 * - A new service-account key: it signs in only after a delay. Google documents none for keys; the
 *   bridged provider's key Create waits only until `keys.get` stops answering 404, then sleeps 10 s
 *   (hashicorp/terraform-provider-google-beta v7.45.0,
 *   google-beta/services/resourcemanager/resource_google_service_account_key.go), and users report a
 *   minute or more before a new key works. Until then Google's OAuth endpoint answers a JWT the key
 *   signed with `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`, its answer for
 *   a key it does not know (google-github-actions/setup-gcloud#76: a rotated key).
 * - The organization policy `constraints/iam.serviceAccountKeyExpiryHours` (8 to 2160 hours,
 *   cloud.google.com/resource-manager/docs/organization-policy/restricting-service-accounts#limit_key_expiry)
 *   gives new keys a `validBefore` that many hours away; a key past its `validBefore` signs in no more.
 *
 * Each delay is drawn at random within the state's range (seconds, `[min, max]`), from the state's
 * `seed` and the number of draws so far, so no test can tune to one value and a failing run can be
 * replayed from the seed its log prints. Every draw is kept in `propagation.log`.
 */
import { createHash, randomInt } from "node:crypto";
import { normalizeIamMember } from "./rules";
import type { GoogleCloud, Policy, Propagation } from "./state";

/**
 * Everything at once. Only for a test that says why it needs Google instant (it proves something
 * else, and waits for nothing): a state with it stands for a Google that is not the real one.
 */
export function instantPropagation(): Propagation {
    return { grantSeconds: [0, 0], keySeconds: [0, 0], seed: 0, draws: 0, log: [] };
}

/** Delays drawn in these ranges (seconds), from `seed` (a random one unless given, to replay a run). */
export function slowPropagation(
    ranges: { grantSeconds: [number, number]; keySeconds: [number, number] },
    seed = randomInt(2 ** 31),
): Propagation {
    return { ...ranges, seed, draws: 0, log: [] };
}

/**
 * Google's documented order of magnitude: grants in 2 to 7 minutes, keys in a minute or so (see the
 * module's comment). For tests on a fake clock.
 */
export const documentedDelays = { grantSeconds: [120, 420], keySeconds: [30, 90] } satisfies {
    grantSeconds: [number, number];
    keySeconds: [number, number];
};

/**
 * Google's order of magnitude scaled down about tenfold for tests through the real engine: long
 * enough that a Secret written before the grant or key took effect fails pulls, short enough for a
 * suite of several `pulumi up`s.
 */
export const engineTestDelays = { grantSeconds: [10, 40], keySeconds: [5, 20] } satisfies {
    grantSeconds: [number, number];
    keySeconds: [number, number];
};

/** The `n`-th draw from `seed`, uniform in `[0, 1)`. */
function uniform(seed: number, n: number): number {
    return createHash("sha256").update(`${seed}:${n}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** Draws the next delay in `range` (seconds), in ms, and logs it with `what`. */
export function drawDelayMs(google: GoogleCloud, range: [number, number], what: string, atMs: number): number {
    const propagation = google.propagation;
    const [min, max] = range;
    const delayMs = Math.round((min + (max - min) * uniform(propagation.seed, propagation.draws)) * 1000);
    propagation.draws++;
    propagation.log.push({ atMs, what, delayMs });
    return delayMs;
}

/** Records that `member` was granted (or lost) `role` in `policy` at `atMs`: the data plane sees it after a drawn delay. */
export function propagateMemberChange(
    google: GoogleCloud,
    policy: Policy,
    change: { role: string; member: string; granted: boolean; on: string },
    atMs: number,
): void {
    const what = `${change.granted ? "grant" : "revoke"} ${change.role} ${change.member} on ${change.on}`;
    const delayMs = drawDelayMs(google, google.propagation.grantSeconds, what, atMs);
    const pending = (policy.propagating ?? []).filter((p) => p.effectiveAtMs > atMs);
    pending.push({
        role: change.role,
        member: normalizeIamMember(change.member),
        granted: change.granted,
        effectiveAtMs: atMs + delayMs,
    });
    policy.propagating = pending;
}

/**
 * Whether the data plane sees `member` holding `role` at `nowMs`: the policy as written once every
 * change of that member's role has taken effect (an edit "in the console", which the double's API did
 * not make, at once); while one has not, what the member held before the first change still pending.
 */
export function seenHolding(policy: Policy, role: string, member: string, written: boolean, nowMs: number): boolean {
    const pending = (policy.propagating ?? []).filter(
        (p) => p.role === role && p.member === normalizeIamMember(member) && p.effectiveAtMs > nowMs,
    );
    return pending.length === 0 ? written : !pending[0].granted;
}

/**
 * The variable that gives the double Google's clock when the user's is moved: a test that runs `pulumi`
 * under `faketime` (test/support/pulumi-cli.ts `onDay`) moves the wall clock of every process it starts,
 * this plugin's too, but not Google's, by which the Artifact Registry front (in the test's own process)
 * judges propagation. It holds the real wall clock (ms) and the monotonic clock (ns, which faketime
 * leaves alone with `FAKETIME_DONT_FAKE_MONOTONIC=1`, and which every process shares) at one moment.
 */
export const realClockVariable = "GOOGLE_CLOUD_DOUBLE_REAL_CLOCK";

/** The value of {@link realClockVariable} for now. */
export function realClockNow(): string {
    return `${Date.now()} ${process.hrtime.bigint()}`;
}

/** Google's clock in the plugin's process: the real wall clock, also under faketime. */
export function googleNowMs(): number {
    const given = process.env[realClockVariable];
    if (!given) return Date.now();
    const [wallMs, monotonicNs] = given.split(" ");
    return Number(wallMs) + Number((process.hrtime.bigint() - BigInt(monotonicNs)) / 1_000_000n);
}

/** The organization policy that limits new keys' lifetime, in hours (Google accepts 8 to 2160). */
export const keyExpiryConstraint = "iam.serviceAccountKeyExpiryHours";
