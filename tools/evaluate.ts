/**
 * Runs a Pulumi program in-process under the SDK's mock engine, as `pulumi preview` would run it:
 * no CLI, credentials or cluster. Preview mode matters: there the engine leaves every output a
 * provider computes (service-account email, key material, ids) unknown, so nothing the cloud decides
 * is invented.
 */
import { inspect } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import {
    recordRegistrations,
    recordWarnings,
    secretValue,
    settled,
    unknownValue,
    type Registration,
} from "./recording-monitor";
import type { StackConfig } from "./stack-config-files";

export interface Evaluation {
    registrations: Registration[];
    /** The program's exports (stack outputs) in the engine's wire form: secrets wrapped, unknowns {@link unknownValue}. */
    outputs: Record<string, unknown>;
    /** What the program logged with `pulumi.log.warn`: `pulumi preview` shows these too. */
    warnings: string[];
}

/**
 * Secret outputs a provider computes during `pulumi up` that the program encodes into a document the
 * plan shows the shape of: a key's `privateKey` becomes the password in each docker config. In a
 * preview they are unknown, so the program could not encode anything; the plan hands it this stand-in
 * instead, which stays a secret and is never printed (plan-format masks every credential field), so
 * the hosts and usernames around it can be reviewed.
 */
const computedSecretStandIns: Record<string, Record<string, string>> = {
    "gcp:serviceaccount/key:Key": { privateKey: "stand-in for the key Google Cloud creates during pulumi up" },
};

/**
 * Evaluates `programPath` (a module that declares resources when loaded) with `stack`'s config.
 * Pulumi keeps global state, so call this once per process. Rejects with the program's first error.
 */
export async function evaluateProgram(programPath: string, stack: StackConfig): Promise<Evaluation> {
    pulumi.runtime.setAllConfig(stack.config);
    await pulumi.runtime.setMocks(
        {
            // In a preview a provider echoes the inputs it was given and leaves what it computes unknown.
            newResource: (args) => ({
                id: undefined,
                state: { ...(args.inputs as Record<string, unknown>), ...computedSecretStandIns[args.type] },
            }),
            call: (args) => args.inputs as Record<string, unknown>,
        },
        stack.project,
        stack.stack,
        true,
    );
    const registrations = recordRegistrations();

    // A value only known later is checked inside `apply`; its error surfaces as a rejected promise.
    let laterError: unknown;
    const onRejection = (error: unknown) => {
        laterError ??= error;
    };
    process.on("unhandledRejection", onRejection);
    const { warnings, stop } = recordWarnings();
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require(programPath) as Record<string, unknown>;
        await settled();
        const outputs: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(program)) outputs[name] = await wireValue(value);
        await settled();
        if (laterError !== undefined) throw laterError instanceof Error ? laterError : new Error(inspect(laterError));
        return { registrations, outputs, warnings };
    } finally {
        stop();
        process.off("unhandledRejection", onRejection);
    }
}

async function wireValue(value: unknown): Promise<unknown> {
    if (!pulumi.Output.isInstance(value)) return value;
    // An Output's known and secret flags are internal fields the SDK itself reads (runtime/rpc.ts).
    const output = value as unknown as {
        promise(): Promise<unknown>;
        isKnown: Promise<boolean>;
        isSecret: Promise<boolean>;
    };
    const [resolved, known, secret] = await Promise.all([output.promise(), output.isKnown, output.isSecret]);
    const plain = known ? resolved : unknownValue;
    return secret ? secretValue(plain) : plain;
}
