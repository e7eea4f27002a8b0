/**
 * The real Pulumi SDK under `pulumi.runtime.setMocks`, with every request the mock monitor receives recorded:
 * parent, dependencies, property dependencies and `additionalSecretOutputs` are only visible there
 * (docs/facts.md#pulumi-behaviours-the-tests-rely-on). Import this before any module that creates resources.
 */
import assert from "node:assert/strict";
import { after } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { recordRegistrations, recordWarnings, type Registration } from "../../tools/recording-monitor";
import { serviceAccountKeyFile } from "./key-file";

export { isSecretValue, reveal, settled, type Registration } from "../../tools/recording-monitor";

/** Cloud-computed outputs, as the providers would return them after create. */
function providerState(type: string, inputs: Record<string, any>, options: MockOptions): Record<string, unknown> {
    switch (type) {
        case "gcp:serviceaccount/account:Account": {
            const email = `${inputs.accountId}@${inputs.project}.iam.gserviceaccount.com`;
            return {
                email,
                member: `serviceAccount:${email}`,
                name: `projects/${inputs.project}/serviceAccounts/${email}`,
            };
        }
        case "gcp:serviceaccount/key:Key": {
            const email = String(inputs.serviceAccountId).split("/").pop() as string;
            const keyFile = serviceAccountKeyFile(email);
            return {
                name: `projects/-/serviceAccounts/${email}/keys/${JSON.parse(keyFile).private_key_id}`,
                privateKey: Buffer.from(keyFile, "utf8").toString("base64"),
                ...(options.keyValidBefore === undefined ? {} : { validBefore: options.keyValidBefore }),
            };
        }
        default:
            return {};
    }
}

export interface MockOptions {
    /** `pulumi preview`: provider-computed outputs stay unknown. */
    preview?: boolean;
    /**
     * Stack config, `project:key` to the string Pulumi stores. {@link startMocks} puts it on top of
     * `kubernetes:enableSecretMutable: "true"`, which the README tells every stack to set
     * (test/offline-plan.test.ts shows the warning a stack without it gets).
     */
    config?: Record<string, string>;
    /** The `validBefore` Google gives a new key (default: none, as for a key that never expires). */
    keyValidBefore?: string;
    /** How long the engine takes to create a resource of this type, in ms (default 0). */
    createMs?: (type: string) => number;
}

/** The program's warnings not yet claimed by a test; the file fails when some are left at its end. */
let unclaimed: string[] | undefined;

/**
 * Removes and returns the first warning the program logged (`pulumi.log.warn`) that matches `pattern`:
 * a test that expects a warning claims it; one no test claims fails the test file, so none is merely
 * printed. Fails when no warning matches.
 */
export function claimWarning(pattern: RegExp): string {
    if (unclaimed === undefined) throw new Error("startMocks() first");
    const index = unclaimed.findIndex((warning) => pattern.test(warning));
    assert.notEqual(index, -1, `no warning matches ${pattern}; unclaimed: ${JSON.stringify(unclaimed)}`);
    return unclaimed.splice(index, 1)[0];
}

/**
 * Installs the mocks in a test file and returns the live list of registrations; from the first call
 * on, the program's warnings are collected for {@link claimWarning}.
 */
export function startMocks(options: MockOptions = {}): Registration[] {
    if (unclaimed === undefined) {
        unclaimed = recordWarnings().warnings;
        after(() => assert.deepEqual(unclaimed, [], "the program warned and no test claimed it (claimWarning)"));
    }
    return installMocks({ ...options, config: { "kubernetes:enableSecretMutable": "true", ...options.config } });
}

/**
 * Installs the mocks with exactly `options.config` and returns the live list of registrations, leaving
 * warnings to be printed: for a program run in a process of its own, whose output its test reads.
 */
export function installMocks(options: MockOptions = {}): Registration[] {
    if (options.config) pulumi.runtime.setAllConfig(options.config);
    pulumi.runtime.setMocks(
        {
            newResource: async (args) => {
                const createMs = options.createMs?.(args.type) ?? 0;
                if (createMs > 0) await new Promise((resolve) => setTimeout(resolve, createMs));
                return {
                    id: args.custom ? `${args.name}-id` : undefined,
                    state: {
                        ...args.inputs,
                        ...(options.preview ? {} : providerState(args.type, args.inputs, options)),
                    },
                };
            },
            call: (args) => args.inputs,
        },
        "registry-pull-secret",
        "test",
        options.preview ?? false,
    );
    return recordRegistrations();
}

/** The value of an Output, with whether it is known and secret. */
export async function resolve<T>(output: pulumi.Output<T>): Promise<{ value: T; known: boolean; secret: boolean }> {
    const o = output as any;
    const [value, known, secret] = await Promise.all([o.promise(), o.isKnown, o.isSecret]);
    return { value, known, secret };
}
