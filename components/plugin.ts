import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider, type ComponentProviderOptions } from "@pulumi/pulumi/provider/experimental";
import { servedType } from "./cluster/provider-by-name";
import { provider as pullSecretEntry } from "./attachment/pull-secret-entry-provider";
import { provider as refreshedSecret } from "./refresher/refreshed-secret-provider";
import { provider as secretClaim } from "./claim/secret-claim-provider";
import { provider as keyHandover } from "./credential/key-handover-provider";
import { provider as pullReadiness } from "./credential/pull-readiness-provider";
import { RegistryPullSecret } from "./registry-pull-secret";

/** The folder of the nearest package.json above `dir`: the repository root from components/ and from bin/components/. */
function packageRoot(dir: string): string {
    return existsSync(path.join(dir, "package.json")) ? dir : packageRoot(path.dirname(dir));
}

/**
 * What the plugin package constructs for other languages. `name` is the package part of the type
 * token `registry-pull-secret:index:RegistryPullSecret`; `dirname` is the repository root, where the
 * schema analyzer reads tsconfig.json, package.json and the sources.
 */
export const pluginOptions: ComponentProviderOptions = {
    name: "registry-pull-secret",
    components: [RegistryPullSecret],
    dirname: packageRoot(__dirname),
};

/**
 * The prebuilt schema the plugin serves: `npm run schema` writes it from {@link analyzedSchema}, and
 * test/package/plugin-schema.test.ts fails when it drifts from the sources. Pulumi's `ComponentProvider`
 * would run the TypeScript compiler over the whole project on every command of a Python, Go, .NET or
 * YAML program (its `construct` needs the analysis too): 8 to 27 s on a 2-core machine (BENCHMARKS.md).
 */
export const schemaFile = path.join(packageRoot(__dirname), "schema.json");

/** The schema Pulumi's analyzer infers from the sources, as `npm run schema` writes it to {@link schemaFile}. */
export async function analyzedSchema(): Promise<string> {
    return `${JSON.stringify(JSON.parse(await new ComponentProvider(pluginOptions).getSchema()), null, 2)}\n`;
}

/**
 * The resources the plugin serves besides constructing the component: the same provider objects
 * Pulumi's dynamic-provider host runs in a TypeScript program (components/cluster/provider-by-name.ts).
 */
export const servedResources: Record<string, pulumi.dynamic.ResourceProvider> = {
    [servedType("PullSecretEntry")]: pullSecretEntry,
    [servedType("RefreshedSecret")]: refreshedSecret,
    [servedType("SecretClaim")]: secretClaim,
    [servedType("KeyHandover")]: keyHandover,
    [servedType("PullReadiness")]: pullReadiness,
};

type Properties = Record<string, unknown>;

/**
 * The plugin's provider: `construct` and the schema from Pulumi's `ComponentProvider`, and the CRUD
 * calls of {@link servedResources}. @pulumi/pulumi's provider server accepts secrets (provider/server.js
 * `configure`), so properties arrive as secret-wrapped values: the providers get them unwrapped, and
 * what came in as a secret goes back as one.
 */
export function pluginProvider(
    options: ComponentProviderOptions = pluginOptions,
    served: Record<string, pulumi.dynamic.ResourceProvider> = servedResources,
    schemaText: string = readFileSync(schemaFile, "utf8"),
): pulumi.provider.Provider & { version: string } {
    const schema = JSON.parse(schemaText) as {
        version: string;
        resources: Record<string, { properties?: Properties }>;
    };
    const of = (urn: string) => {
        // urn:pulumi:STACK::PROJECT::PARENT-TYPE$...$TYPE::NAME
        const type = urn.split("::")[2].split("$").pop()!;
        const provider = served[type];
        if (!provider) throw new Error(`registry-pull-secret does not serve the resource type ${type}`);
        return provider;
    };
    const plain = (props: Properties): Properties =>
        Object.fromEntries(Object.entries(props).map(([key, value]) => [key, pulumi.runtime.unwrapRpcSecret(value)]));
    const secretAsIn = (outs: Properties = {}, from: Properties): Properties =>
        Object.fromEntries(
            Object.entries(outs).map(([key, value]) => [
                key,
                pulumi.runtime.isRpcSecret(from[key])
                    ? { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value }
                    : value,
            ]),
        );
    // What ComponentProvider.construct does, with the outputs read from the prebuilt schema instead of
    // an analysis of the sources (@pulumi/pulumi provider/experimental/provider.js `construct`).
    const construct = (name: string, type: string, inputs: pulumi.Inputs, opts: pulumi.ComponentResourceOptions) => {
        const component = options.components.find((c) => `${options.name}:index:${c.name}` === type);
        const outputs = schema.resources[type]?.properties;
        if (!component || !outputs) {
            return Promise.reject(new Error(`registry-pull-secret does not construct the type ${type}`));
        }
        const instance = new component(name, inputs, opts);
        return Promise.resolve({
            urn: instance.urn,
            state: Object.fromEntries(Object.keys(outputs).map((key) => [key, Reflect.get(instance, key)])),
        });
    };
    return {
        version: schema.version,
        getSchema: () => Promise.resolve(schemaText),
        construct,
        // Without its own `check`, a served resource's inputs are taken as they are, as the dynamic-provider host does.
        check: async (urn, olds: Properties, news: Properties) => {
            const check = of(urn).check;
            if (!check) return { inputs: news };
            const checked: { inputs?: Properties; failures?: { property: string; reason: string }[] } = await check(
                plain(olds),
                plain(news),
            );
            return { inputs: secretAsIn(checked.inputs ?? plain(news), news), failures: checked.failures };
        },
        diff: (id, urn, olds: Properties, news: Properties) => of(urn).diff!(id, plain(olds), plain(news)),
        create: async (urn, inputs: Properties) => {
            const created: { id: string; outs?: Properties } = await of(urn).create(plain(inputs));
            return { id: created.id, outs: secretAsIn(created.outs, inputs) };
        },
        read: async (id, urn, props: Properties = {}) => {
            const read: { id?: string; props?: Properties } = await of(urn).read!(id, plain(props));
            return { id: read.id, props: secretAsIn(read.props, props) };
        },
        update: async (id, urn, olds: Properties, news: Properties) => {
            const updated: { outs?: Properties } = await of(urn).update!(id, plain(olds), plain(news));
            return { outs: secretAsIn(updated.outs, news) };
        },
        delete: (id, urn, props: Properties) => of(urn).delete!(id, plain(props)),
    };
}
