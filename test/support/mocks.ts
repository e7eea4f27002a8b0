/**
 * The real Pulumi SDK under `pulumi.runtime.setMocks`, with every request the mock monitor receives
 * recorded: parent, dependencies, property dependencies and `additionalSecretOutputs` are only
 * visible there (FACTS.md section 4). Import this before any module that creates resources.
 */
import * as pulumi from "@pulumi/pulumi";
import { serviceAccountKeyFile } from "./key-file";

/** What the engine would receive for one resource. */
export interface Registration {
    type: string;
    name: string;
    urn: string;
    custom: boolean;
    parent: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    additionalSecretOutputs: string[];
    /** Replacement options: they decide whether a replaced resource is created before the old one is deleted. */
    deleteBeforeReplace: boolean;
    replaceOnChanges: string[];
    /** Inputs as sent: secrets stay wrapped, see {@link isSecretValue}. */
    inputs: Record<string, unknown>;
    /** The position of the engine's answer among all answers so far (the resource exists then). */
    answered?: number;
}

const secretSig = "1b47061264138c4ac30d75fd1eb44270";
const sigKey = "4dabf18193072939515e22adb298388d";

/** True when a serialized input is a Pulumi secret. */
export function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[sigKey] === secretSig;
}

/** The plain value of an input, secret or not. */
export function reveal<T = unknown>(value: unknown): T {
    return (isSecretValue(value) ? value.value : value) as T;
}

/** Cloud-computed outputs, as the providers would return them after create. */
function providerState(type: string, inputs: Record<string, any>): Record<string, unknown> {
    switch (type) {
        case "gcp:serviceaccount/account:Account": {
            const email = `${inputs.accountId}@${inputs.project}.iam.gserviceaccount.com`;
            return { email, member: `serviceAccount:${email}`, name: `projects/${inputs.project}/serviceAccounts/${email}` };
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
    const registrations: Registration[] = [];
    let answers = 0;
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
    const monitor = pulumi.runtime.getMonitor() as any;
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) => {
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
            propertyDependencies[key] = deps.getUrnsList();
        });
        const registration: Registration = {
            type: req.getType(),
            name: req.getName(),
            urn: "",
            custom: req.getCustom(),
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            propertyDependencies,
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            replaceOnChanges: req.getReplaceonchangesList(),
            inputs: req.getObject()?.toJavaScript() ?? {},
        };
        registrations.push(registration);
        return registerResource(req, (err: unknown, resp: any) => {
            if (resp) registration.urn = resp.getUrn();
            registration.answered = answers++;
            callback(err, resp);
        });
    };
    return registrations;
}

/** Waits until every outstanding registration has reached the mock monitor and been answered. */
export async function settled(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
}

/** The value of an Output, with whether it is known and secret. */
export async function resolve<T>(output: pulumi.Output<T>): Promise<{ value: T; known: boolean; secret: boolean }> {
    const o = output as any;
    const [value, known, secret] = await Promise.all([o.promise(), o.isKnown, o.isSecret]);
    return { value, known, secret };
}
