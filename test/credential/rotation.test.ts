import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
    keyExpiryProblem,
    keyKeepers,
    keyRotatesAfter,
    keyRotationDaysProblem,
    keyVersionProblem,
    maxKeyRotationDays,
    rotationPeriod,
} from "../../components/credential/rotation";

const dayMs = 86_400_000;
/** Moments from 1970 to 2200, to the millisecond. */
const moment = fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }).map((ms) => new Date(ms));
const days = fc.integer({ min: 1, max: maxKeyRotationDays });

test("a 30-day period is counted from the Unix epoch (checked against independently computed dates)", () => {
    const period = rotationPeriod(new Date("2026-11-28T14:00:00Z"), 30);
    assert.equal(period.startsAt.toISOString(), "2026-11-03T00:00:00.000Z");
    assert.equal(period.endsAt.toISOString(), "2026-12-03T00:00:00.000Z");
    assert.equal(
        rotationPeriod(new Date("2026-11-28T14:00:00Z"), 90).startsAt.toISOString(),
        "2026-09-04T00:00:00.000Z",
    );
});

test("every moment lies in exactly one period of the requested length, aligned to whole periods", () => {
    fc.assert(
        fc.property(moment, days, (now, rotationDays) => {
            const { startsAt, endsAt } = rotationPeriod(now, rotationDays);
            assert.ok(startsAt.getTime() <= now.getTime() && now.getTime() < endsAt.getTime());
            assert.equal(endsAt.getTime() - startsAt.getTime(), rotationDays * dayMs);
            assert.equal(startsAt.getTime() % (rotationDays * dayMs), 0);
        }),
    );
});

test("keepers stay equal inside a period and change exactly at its end", () => {
    fc.assert(
        fc.property(
            moment,
            days,
            fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
            (now, rotationDays, fraction) => {
                const { startsAt, endsAt } = rotationPeriod(now, rotationDays);
                const inside = new Date(startsAt.getTime() + Math.floor(fraction * rotationDays * dayMs));
                const lastMillisecond = new Date(endsAt.getTime() - 1);
                const keepers = (at: Date) => keyKeepers({ now: at, rotationDays });
                assert.deepEqual(keepers(startsAt), keepers(inside));
                assert.deepEqual(keepers(startsAt), keepers(lastMillisecond));
                assert.notDeepEqual(keepers(lastMillisecond), keepers(endsAt));
                assert.equal(keyRotatesAfter({ now: inside, rotationDays }), endsAt.toISOString());
            },
        ),
    );
});

test("the rotation keeper names the period as an ISO 8601 interval, so a new length starts a new key", () => {
    const now = new Date("2026-11-28T14:00:00Z");
    assert.deepEqual(keyKeepers({ now, rotationDays: 30 }), { rotationPeriod: "2026-11-03T00:00:00.000Z/P30D" });
    // 30 and 90 days both end on 2026-12-03 here, yet they are different schedules.
    assert.notDeepEqual(keyKeepers({ now, rotationDays: 30 }), keyKeepers({ now, rotationDays: 90 }));
});

test("keyVersion is a keeper of its own: raising it changes the keepers within one period", () => {
    fc.assert(
        fc.property(moment, fc.option(days, { nil: undefined }), fc.nat(), (now, rotationDays, keyVersion) => {
            const before = keyKeepers({ now, rotationDays, keyVersion });
            const after = keyKeepers({ now, rotationDays, keyVersion: keyVersion + 1 });
            assert.equal(after?.keyVersion, String(keyVersion + 1));
            assert.notDeepEqual(before, after);
        }),
    );
});

test("with neither a schedule nor a version (0 is the default) the key has no keepers and no rotation time", () => {
    const now = new Date("2026-11-28T14:00:00Z");
    assert.equal(keyKeepers({ now }), undefined);
    assert.equal(keyKeepers({ now, keyVersion: 0 }), undefined);
    assert.deepEqual(keyKeepers({ now, rotationDays: 30, keyVersion: 0 }), {
        rotationPeriod: "2026-11-03T00:00:00.000Z/P30D",
    });
    assert.equal(keyRotatesAfter({ now }), "");
    assert.equal(keyRotatesAfter({ now, keyVersion: 2 }), "");
});

test("keyRotationDays accepts whole days from 1 to 3650 only", () => {
    for (const ok of [1, 30, 90, maxKeyRotationDays]) assert.equal(keyRotationDaysProblem(ok), undefined, String(ok));
    for (const bad of [
        0,
        -1,
        1.5,
        maxKeyRotationDays + 1,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        "30" as unknown as number,
    ]) {
        assert.equal(keyRotationDaysProblem(bad), "must be a whole number of days from 1 to 3650", String(bad));
    }
});

test("keyVersion accepts whole numbers from 0 up only", () => {
    for (const ok of [0, 1, 41]) assert.equal(keyVersionProblem(ok), undefined, String(ok));
    for (const bad of [-1, 0.5, Number.NaN, 2 ** 60, "1" as unknown as number]) {
        assert.equal(
            keyVersionProblem(bad),
            "must be a whole number from 0 up (raise it to replace the key now)",
            String(bad),
        );
    }
});

test("a key that expires before its replacement (an organization expiry policy) is a problem naming the longest safe keyRotationDays", () => {
    const now = new Date("2026-12-07T12:00:00Z");
    const expiresIn = (hours: number) => new Date(now.getTime() + hours * 3_600_000).toISOString();
    assert.equal(keyExpiryProblem(undefined, { now, rotationDays: 30 }), undefined, "no validBefore known");
    assert.equal(keyExpiryProblem("9999-12-31T23:59:59Z", { now }), undefined, "a key that never expires");
    // 2026-12-07 falls in the 30-day period ending 2027-01-02: a 2160-hour (90-day) key outlives it by far.
    assert.equal(keyExpiryProblem(expiresIn(2160), { now, rotationDays: 30 }), undefined);
    const short = keyExpiryProblem(expiresIn(7 * 24), { now, rotationDays: 30 });
    assert.match(short!, /expires at 2026-12-14T12:00:00.000Z .*constraints\/iam\.serviceAccountKeyExpiryHours/);
    assert.match(short!, /its period ends at 2027-01-02T00:00:00.000Z/);
    assert.match(short!, /set gcp\.keyRotationDays to at most 6 and run pulumi up at least once a day/);
    assert.match(keyExpiryProblem(expiresIn(7 * 24), { now })!, /no keyRotationDays schedules a new one/);
    assert.match(keyExpiryProblem(expiresIn(8), { now, rotationDays: 1 })!, /gcp\.credential "accessToken"/);
    // The period must end a day before the expiry, so that an `up` can replace the key in time.
    const periodEnd = Date.parse("2026-12-08T00:00:00Z");
    assert.notEqual(
        keyExpiryProblem(new Date(periodEnd + 3_600_000).toISOString(), { now, rotationDays: 1 }),
        undefined,
    );
});
