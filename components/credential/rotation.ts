/**
 * Key rotation as pure arithmetic on time: no Pulumi, no state.
 *
 * `@pulumiverse/time` `Rotating` only notices that its time passed on `pulumi up --refresh`
 * (docs/facts.md#keys-and-rotation). Here the key's `keepers` are derived from the rotation period the current
 * time falls in, so a plain `pulumi up` in a new period sees changed keepers and replaces the key, and every
 * run inside one period computes the same keepers and shows no diff. Periods are counted from the Unix epoch
 * (1970-01-01T00:00:00Z), so no creation time needs to be stored or refreshed; the price is that the first key
 * may live less than one full period.
 */

const dayMs = 86_400_000;

/** The longest period accepted: ten years, which catches a value meant in seconds or hours. */
export const maxKeyRotationDays = 3650;

/** One rotation period: the key made in it is replaced by the first `pulumi up` at or after `endsAt`. */
export interface RotationPeriod {
    startsAt: Date;
    endsAt: Date;
}

/** The period of `days` days that `now` falls in; a period includes its start and excludes its end. */
export function rotationPeriod(now: Date, days: number): RotationPeriod {
    const length = days * dayMs;
    const index = Math.floor(now.getTime() / length);
    return { startsAt: new Date(index * length), endsAt: new Date((index + 1) * length) };
}

/** `gcp.keyRotationDays`: a whole number of days from 1 to {@link maxKeyRotationDays}. */
export function keyRotationDaysProblem(value: number): string | undefined {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > maxKeyRotationDays) {
        return `must be a whole number of days from 1 to ${maxKeyRotationDays}`;
    }
    return undefined;
}

/** `gcp.keyVersion`: a whole number from 0 (the default) up; raising it replaces the key now. */
export function keyVersionProblem(value: number): string | undefined {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
        return "must be a whole number from 0 up (raise it to replace the key now)";
    }
    return undefined;
}

/** What decides when the component's key is replaced. */
export interface KeySchedule {
    /** The moment the program runs. */
    now: Date;
    /** Replace the key every this many days; `undefined`: no schedule. */
    rotationDays?: number;
    /** An explicit keeper; `undefined` or 0: none. */
    keyVersion?: number;
}

/**
 * The key's `keepers`: a change to any value replaces the key. Only what the user set is listed, so
 * a stack that sets neither (or keyVersion 0) keeps `keepers` unset and its existing key. The period is written as an
 * ISO 8601 interval (`start/PnD`): a changed `keyRotationDays` starts a new schedule with a new key.
 */
export function keyKeepers(schedule: KeySchedule): Record<string, string> | undefined {
    const keepers: Record<string, string> = {};
    if (schedule.rotationDays !== undefined) {
        const { startsAt } = rotationPeriod(schedule.now, schedule.rotationDays);
        keepers.rotationPeriod = `${startsAt.toISOString()}/P${schedule.rotationDays}D`;
    }
    // 0 is the default and lists nothing, so setting it explicitly replaces no key.
    if (schedule.keyVersion) keepers.keyVersion = String(schedule.keyVersion);
    return Object.keys(keepers).length === 0 ? undefined : keepers;
}

/**
 * When the next scheduled rotation is due, as an RFC 3339 UTC timestamp; `""` when the key has no
 * schedule (the documented value of the `keyRotatesAfter` output then).
 */
export function keyRotatesAfter(schedule: KeySchedule): string {
    if (schedule.rotationDays === undefined) return "";
    return rotationPeriod(schedule.now, schedule.rotationDays).endsAt.toISOString();
}

/**
 * Why a key that expires at `validBefore` breaks pulls before it is replaced, or `undefined`. Keys made
 * under the organization policy `constraints/iam.serviceAccountKeyExpiryHours` (8 to 2160 hours) get a
 * finite `validBefore`; others get 9999-12-31 (Google's `projects.serviceAccounts.keys` resource).
 * A key is replaced only by a `pulumi up` after its period ends, so the period must end a day before the
 * key expires, and some `up` must run in that day.
 */
export function keyExpiryProblem(validBefore: string | undefined, schedule: KeySchedule): string | undefined {
    const expires = validBefore ? Date.parse(validBefore) : NaN;
    if (!Number.isFinite(expires) || new Date(expires).getUTCFullYear() >= 9999) return undefined;
    const rotates = keyRotatesAfter(schedule);
    if (rotates !== "" && Date.parse(rotates) <= expires - dayMs) return undefined;
    const lifetimeDays = Math.floor((expires - schedule.now.getTime()) / dayMs);
    const when =
        rotates === ""
            ? "and no keyRotationDays schedules a new one"
            : `before a pulumi up can replace it (its period ends at ${rotates})`;
    const fix =
        lifetimeDays >= 2
            ? `set gcp.keyRotationDays to at most ${lifetimeDays - 1} and run pulumi up at least once a day`
            : 'the policy leaves keys less than two days: use gcp.credential "accessToken" (no key)';
    return `the service-account key expires at ${validBefore} (the organization policy constraints/iam.serviceAccountKeyExpiryHours) ${when}: pulls fail from then on; ${fix}`;
}
