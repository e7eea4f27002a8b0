import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { RegistryPullSecret, RegistryPullSecretArgs } from "../../components";
import { settled, type Registration } from "./mocks";

/** [what is wrong, args, property path, reason pattern] */
export type Refusal = [string, RegistryPullSecretArgs, string, RegExp];

/**
 * One test per case: constructing the component throws an `InputPropertyError` naming the property,
 * and nothing was registered. `Component` is passed in so the caller imports it after `startMocks`.
 */
export function describeRefusals(
    title: string,
    Component: typeof RegistryPullSecret,
    registrations: Registration[],
    cases: Refusal[],
): void {
    describe(title, () => {
        for (const [what, args, propertyPath, reason] of cases) {
            it(`refuses ${what}, naming ${propertyPath}`, async () => {
                await settled();
                const before = registrations.length;
                assert.throws(
                    () => new Component("invalid", args),
                    (err: unknown) => {
                        assert.ok(
                            pulumi.InputPropertyError.isInstance(err),
                            `an InputPropertyError, got ${String(err)}`,
                        );
                        assert.equal(err.propertyPath, propertyPath);
                        assert.match(err.reason, reason);
                        return true;
                    },
                );
                await settled();
                assert.equal(registrations.length, before, "nothing was registered");
            });
        }
    });
}
