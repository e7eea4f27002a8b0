import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { keyRotationDaysProblem } from "../../components/credential/rotation";
import { checkNumberInput } from "../../components/validate";
import { claimWarning, resolve, reveal, settled, startMocks, type Registration } from "../support/mocks";
import type { RegistryPullSecret as Component, RegistryPullSecretArgs } from "../../components";

startMocks();
import { RegistryPullSecret } from "../../components";

const keyType = "gcp:serviceaccount/key:Key";
const secretType = "kubernetes:core/v1:Secret";
const attachmentType = "pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry";

/** 2026-12-03T00:00Z ends a 30-day period counted from the epoch (see rotation.test.ts). */
const boundary = Date.parse("2026-12-03T00:00:00Z");
const thirtyDays = 30 * 86_400_000;

function args(gcp: Partial<NonNullable<RegistryPullSecretArgs["gcp"]>> = {}): RegistryPullSecretArgs {
    return {
        namespaces: ["team-a", "team-b"],
        registries: ["asia.gcr.io", "asia-northeast1-docker.pkg.dev"],
        serviceAccounts: ["default", "deployer"],
        gcp: {
            project: "example-project",
            serviceAccountId: "image-puller",
            repositories: [{ location: "asia", repository: "asia.gcr.io" }],
            ...gcp,
        },
    };
}

/** One fresh `pulumi up` of the same component at the given moment: what the engine receives. */
async function upAt(
    at: number,
    gcp: Partial<NonNullable<RegistryPullSecretArgs["gcp"]>> = { keyRotationDays: 30 },
    preview = false,
): Promise<{ registrations: Registration[]; component: Component }> {
    const registrations = startMocks({ preview });
    const component = new RegistryPullSecret("regcred", args(gcp), { rotationClock: () => new Date(at) });
    await settled();
    return { registrations, component };
}

function only(registrations: Registration[], type: string): Registration {
    const matching = registrations.filter((r) => r.type === type);
    assert.equal(matching.length, 1, `one ${type}`);
    return matching[0];
}

function keepersOf(registrations: Registration[]): unknown {
    return reveal(only(registrations, keyType).inputs.keepers);
}

test("the key's keepers change exactly when the clock crosses a period boundary", async () => {
    const periodStart = await upAt(boundary - thirtyDays);
    const lastMillisecond = await upAt(boundary - 1);
    const nextPeriod = await upAt(boundary);
    assert.deepEqual(keepersOf(periodStart.registrations), { rotationPeriod: "2026-11-03T00:00:00.000Z/P30D" });
    assert.deepEqual(keepersOf(lastMillisecond.registrations), keepersOf(periodStart.registrations));
    assert.deepEqual(keepersOf(nextPeriod.registrations), { rotationPeriod: "2026-12-03T00:00:00.000Z/P30D" });
});

test("keyRotatesAfter is the end of the current period, known even in a preview", async () => {
    assert.equal(
        (await resolve((await upAt(boundary - 1)).component.keyRotatesAfter)).value,
        "2026-12-03T00:00:00.000Z",
    );
    const preview = await resolve((await upAt(boundary, { keyRotationDays: 30 }, true)).component.keyRotatesAfter);
    assert.deepEqual(preview, { value: "2027-01-02T00:00:00.000Z", known: true, secret: false });
});

test("a rotation changes only the key's keepers: Secret names, Secret inputs and attachments stay as they were", async () => {
    const before = (await upAt(boundary - 1)).registrations;
    const after = (await upAt(boundary)).registrations;
    const comparable = (r: Registration) => ({ type: r.type, name: r.name, parent: r.parent, inputs: r.inputs });
    assert.deepEqual(
        after
            .map(comparable)
            .map((r) => (r.type === keyType ? { ...r, inputs: { ...r.inputs, keepers: "(compared above)" } } : r)),
        before
            .map(comparable)
            .map((r) => (r.type === keyType ? { ...r, inputs: { ...r.inputs, keepers: "(compared above)" } } : r)),
    );
    assert.notDeepEqual(keepersOf(after), keepersOf(before));
    const secrets = after.filter((r) => r.type === secretType);
    assert.deepEqual(
        secrets.map((r) => [r.name, (r.inputs.metadata as { name: string }).name]),
        [
            ["regcred/team-a", "regcred"],
            ["regcred/team-b", "regcred"],
        ],
    );
    assert.equal(after.filter((r) => r.type === attachmentType).length, 4);
});

test("the new key exists before the old one goes: create-before-replace, one key resource, Secrets updated in place", async () => {
    const { registrations } = await upAt(boundary);
    const key = only(registrations, keyType);
    // One Key resource: during a replacement Pulumi holds the old and the new key, never more.
    assert.equal(key.deleteBeforeReplace, false);
    assert.deepEqual(key.replaceOnChanges, []);
    for (const secret of registrations.filter((r) => r.type === secretType)) {
        // The key reaches the Secret through its data only; its name does not depend on the key,
        // so a new key is an in-place update of the same Secret, never a replacement.
        assert.ok(secret.propertyDependencies.data.includes(key.urn), "data comes from the key");
        assert.ok(!(secret.propertyDependencies.metadata ?? []).includes(key.urn), "the name does not");
        assert.equal(secret.deleteBeforeReplace, false);
        assert.deepEqual(secret.replaceOnChanges, []);
    }
    for (const attachment of registrations.filter((r) => r.type === attachmentType)) {
        assert.ok(!attachment.dependencies.includes(key.urn), "attachments follow the Secret's name, not the key");
    }
});

test("raising keyVersion changes the keepers without waiting for the period to end", async () => {
    const now = boundary - thirtyDays / 2;
    const first = keepersOf((await upAt(now, { keyRotationDays: 30, keyVersion: 1 })).registrations);
    const raised = keepersOf((await upAt(now, { keyRotationDays: 30, keyVersion: 2 })).registrations);
    assert.deepEqual(first, { rotationPeriod: "2026-11-03T00:00:00.000Z/P30D", keyVersion: "1" });
    assert.deepEqual(raised, { rotationPeriod: "2026-11-03T00:00:00.000Z/P30D", keyVersion: "2" });
    assert.deepEqual(keepersOf((await upAt(now, { keyVersion: 1 })).registrations), { keyVersion: "1" });
});

test("without keyRotationDays, and keyVersion unset or 0, the key has no keepers (stacks from before keep their key)", async () => {
    const { registrations, component } = await upAt(boundary, {});
    assert.equal(only(registrations, keyType).inputs.keepers, undefined);
    assert.equal((await resolve(component.keyRotatesAfter)).value, "");
    assert.equal(only((await upAt(boundary, { keyVersion: 0 })).registrations, keyType).inputs.keepers, undefined);
});

test("the system clock is used when no rotationClock is given", async () => {
    const registrations = startMocks();
    const before = Date.now();
    const component = new RegistryPullSecret("regcred", args({ keyRotationDays: 1 }));
    await settled();
    const after = Date.now();
    const dueAt = Date.parse((await resolve(component.keyRotatesAfter)).value);
    // A one-day period ends within a day of now, and after now.
    assert.ok(dueAt > before && dueAt <= after + 86_400_000, new Date(dueAt).toISOString());
    assert.ok(keepersOf(registrations));
});

test("keyRotationDays and keyVersion are checked before anything is registered", () => {
    const cases: [Partial<NonNullable<RegistryPullSecretArgs["gcp"]>>, string][] = [
        [{ keyRotationDays: 0 }, "gcp.keyRotationDays must be a whole number of days from 1 to 3650"],
        [{ keyRotationDays: 7.5 }, "gcp.keyRotationDays must be a whole number of days from 1 to 3650"],
        [{ keyVersion: -1 }, "gcp.keyVersion must be a whole number from 0 up (raise it to replace the key now)"],
    ];
    for (const [gcp, message] of cases) {
        const registrations = startMocks();
        assert.throws(
            () => new RegistryPullSecret("regcred", args(gcp), { rotationClock: () => new Date(boundary) }),
            (error: Error & { propertyPath?: string }) =>
                error.message === message && error.propertyPath === message.split(" ")[0],
        );
        assert.equal(registrations.length, 0);
    }
});

test("a keyRotationDays known only later is checked with the same message when it resolves", async () => {
    const late = checkNumberInput(
        "gcp.keyRotationDays",
        pulumi.output(0),
        keyRotationDaysProblem,
    ) as pulumi.Output<number>;
    await assert.rejects(
        resolve(late),
        (error: Error & { propertyPath?: string }) =>
            error.message === "gcp.keyRotationDays must be a whole number of days from 1 to 3650" &&
            error.propertyPath === "gcp.keyRotationDays",
    );
    const fine = checkNumberInput(
        "gcp.keyRotationDays",
        pulumi.output(30),
        keyRotationDaysProblem,
    ) as pulumi.Output<number>;
    assert.equal((await resolve(fine)).value, 30);
});

test("a key the organization makes expire before its next rotation is reported on the component with the fix", async () => {
    const at = boundary - thirtyDays;
    startMocks({ keyValidBefore: new Date(at + 7 * 86_400_000).toISOString() });
    new RegistryPullSecret("regcred", args({ keyRotationDays: 30 }), { rotationClock: () => new Date(at) });
    await settled();
    assert.match(
        claimWarning(/the service-account key expires at/),
        /before a pulumi up can replace it .*set gcp\.keyRotationDays to at most 6/,
    );
    startMocks({ keyValidBefore: new Date(at + 90 * 86_400_000).toISOString() });
    new RegistryPullSecret("regcred", args({ keyRotationDays: 30 }), { rotationClock: () => new Date(at) });
    await settled(); // a key that outlives its period: no warning left unclaimed at the end of the file
});
