/**
 * The real Pulumi SDK under `pulumi.runtime.setMocks`, with every request the mock monitor receives recorded:
 * parent, dependencies, property dependencies and `additionalSecretOutputs` are only visible there
 * (docs/facts.md#pulumi-behaviours-the-tests-rely-on). Import this before any module that creates resources.
 */
import * as pulumi from "@pulumi/pulumi";
import { recordRegistrations, type Registration } from "../../tools/recording-monitor";
import { serviceAccountKeyFile } from "./key-file";

export { isSecretValue, reveal, settled, type Registration } from "../../tools/recording-monitor";

/** Cloud-computed outputs, as the providers would return them after create. */
function providerState(type: string, inputs: Record<string, any>): Record<string, unknown> {
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
            };
        }
        default:
            return {};
    }
}

export interface MockOptions {
    /** `pulumi preview`: provider-computed outputs stay unknown. */
    preview?: boolean;
    /** Stack config, `project:key` to the string Pulumi stores. */
    config?: Record<string, string>;
    /** How long the engine takes to create a resource of this type, in ms (default 0). */
    createMs?: (type: string) => number;
}

/** Installs the mocks and returns the live list of registrations. */
export function startMocks(options: MockOptions = {}): Registration[] {
    if (options.config) pulumi.runtime.setAllConfig(options.config);
    pulumi.runtime.setMocks(
        {
            newResource: async (args) => {
                const createMs = options.createMs?.(args.type) ?? 0;
                if (createMs > 0) await new Promise((resolve) => setTimeout(resolve, createMs));
                return {
                    id: args.custom ? `${args.name}-id` : undefined,
                    state: { ...args.inputs, ...(options.preview ? {} : providerState(args.type, args.inputs)) },
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
