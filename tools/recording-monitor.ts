/**
 * What the Pulumi engine receives for each resource, read off the monitor of the SDK's mock engine
 * (`pulumi.runtime.setMocks`). Parent, dependencies, property dependencies and `additionalSecretOutputs` are
 * only visible there (docs/facts.md#pulumi-behaviours-the-tests-rely-on), and so are inputs exactly as they are
 * sent: secrets still wrapped and values only the cloud can know still unknown.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest, RegisterResourceResponse } from "@pulumi/pulumi/proto/resource_pb";

/** One resource registration as the engine would receive it. */
export interface Registration {
    type: string;
    name: string;
    /** Filled in when the monitor answers. */
    urn: string;
    custom: boolean;
    /** The provider reference (`URN::id`), `""` for the default provider. */
    provider: string;
    /** The parent's URN, `""` for a resource at the top of the stack. */
    parent: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    additionalSecretOutputs: string[];
    /** Replacement options: they decide whether a replaced resource is created before the old one is deleted. */
    deleteBeforeReplace: boolean;
    replaceOnChanges: string[];
    /**
     * The former identities the resource may be found under in the stack's state: an alias URN, or
     * the name, type and parent URN of an alias spec (`""` where the spec keeps the resource's own).
     */
    aliases: ({ urn: string } | { name: string; type: string; parent: string })[];
    /** The provider plugin version asked for, `""` for any. */
    version: string;
    /** The names of the error hooks bound to it (resource option `hooks.onError`). */
    errorHooks: string[];
    /** `retainOnDelete`: Pulumi forgets it on delete and leaves it in the cloud. */
    retainOnDelete: boolean;
    /** Inputs as sent: secrets stay wrapped (see {@link isSecretValue}), unknowns stay {@link unknownValue}. */
    inputs: Record<string, unknown>;
    /** The position of the engine's answer among all answers so far (the resource exists then). */
    answered?: number;
}

// The SDK's wire format for secrets and unknown values (@pulumi/pulumi runtime/rpc.ts).
const specialSigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";
/** How an input that only the cloud can know (computed during `pulumi up`) is sent during a preview. */
export const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when a serialized input is a Pulumi secret. */
export function isSecretValue(value: unknown): value is { value: unknown } {
    return (
        typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === secretSig
    );
}

/** `value` in the wire form of a secret. */
export function secretValue(value: unknown): Record<string, unknown> {
    return { [specialSigKey]: secretSig, value };
}

/** The plain value of an input, secret or not. */
export function reveal<T = unknown>(value: unknown): T {
    return (isSecretValue(value) ? value.value : value) as T;
}

/**
 * Wraps the monitor of the mock engine installed by `setMocks` so that every registration is recorded;
 * returns the live list. Call after `setMocks` and before the program declares resources.
 */
export function recordRegistrations(): Registration[] {
    const registrations: Registration[] = [];
    let answers = 0;
    type Callback = (err: Error | null, resp?: RegisterResourceResponse) => void;
    const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(req: RegisterResourceRequest, callback: Callback): unknown;
    };
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps, key) => {
            propertyDependencies[key] = deps.getUrnsList();
        });
        const registration: Registration = {
            type: req.getType(),
            name: req.getName(),
            urn: "",
            custom: req.getCustom(),
            provider: req.getProvider(),
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            propertyDependencies,
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            replaceOnChanges: req.getReplaceonchangesList(),
            aliases: req.getAliasesList().map((alias) => {
                const spec = alias.getSpec();
                return spec
                    ? { name: spec.getName(), type: spec.getType(), parent: spec.getParenturn() }
                    : { urn: alias.getUrn() };
            }),
            version: req.getVersion(),
            errorHooks: req.getHooks()?.getOnErrorList() ?? [],
            retainOnDelete: req.getRetainondelete() ?? false,
            inputs: req.getObject()?.toJavaScript() ?? {},
        };
        registrations.push(registration);
        return registerResource(req, (err, resp) => {
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

/** How the SDK prints `pulumi.log.warn` when no engine takes it (the mocks have none; @pulumi/pulumi log/index.js). */
const runtimeWarning = "warning: [runtime] ";

/**
 * Collects what the program logs with `pulumi.log.warn` from now on instead of printing it: under the
 * mocks there is no engine to send it to, so the SDK prints it with `console.warn`. Anything else
 * written with `console.warn` still prints. Returns the live list and a function that stops collecting.
 */
export function recordWarnings(): { warnings: string[]; stop: () => void } {
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...parts: unknown[]) => {
        const text = parts.map(String).join(" ");
        if (text.startsWith(runtimeWarning)) warnings.push(text.slice(runtimeWarning.length));
        else warn(...parts);
    };
    return { warnings, stop: () => (console.warn = warn) };
}
