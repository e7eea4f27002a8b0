/**
 * Other Pulumi languages see the component through the schema that Pulumi's analyzer infers from the TypeScript
 * sources (docs/facts.md#pulumi-behaviours-the-tests-rely-on). These tests run that analyzer in-process and pin
 * what it infers; descriptions must be the JSDoc TypeScript itself reads from the sources.
 *
 * A new argument or output is one line in the tables below (`inputs`, `gcpInputs`, `credentialsInputs`,
 * `outputs`); a new object type is one entry in `objectTypes` plus its table. Because the tables are
 * exact, they also prove the TypeScript-only `rotationClock` option never reaches other languages.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { Analyzer, type PropertyDefinition } from "@pulumi/pulumi/provider/experimental/analyzer";
import ts from "typescript";
import { analyzedSchema, pluginOptions, pluginProvider, schemaFile } from "../../components/plugin";
import { startPluginProcess, type PluginProcess } from "../support/plugin-process";

const repo = path.resolve(__dirname, "..", "..");
const packageJson = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as Record<string, unknown>;
const token = "registry-pull-secret:index:RegistryPullSecret";

// Property shapes without descriptions (those are checked against the JSDoc).
type Shape = PropertyDefinition;
const string: Shape = { type: "string" };
const number: Shape = { type: "number" };
const optional = (shape: Shape): Shape => ({ ...shape, optional: true });
/** A list the component needs known when the program runs (it names one child per element). */
const plainList = (items: Shape): Shape => ({ type: "array", items: { ...items, plain: true }, plain: true });
const list = (items: Shape): Shape => ({ type: "array", items });
const plainObject = (name: string): Shape => ({ $ref: `#/types/registry-pull-secret:index:${name}`, plain: true });
/** A choice among fixed strings, known when the program runs: a string enum for other languages. */
const plainEnum = plainObject;

/** `RegistryPullSecretArgs`: one line per argument. */
const inputs: Record<string, Shape> = {
    namespaces: optional(plainList(string)),
    registries: optional(list(string)),
    secretName: optional(string),
    serviceAccounts: optional(plainList(string)),
    gcp: optional(plainObject("GoogleCloudCredentialArgs")),
    credentials: optional(plainObject("RegistryCredentialsArgs")),
    email: optional(string),
    attachMode: optional(plainEnum("AttachMode")),
    kubeconfig: optional(string),
    takeOver: optional({ type: "boolean", plain: true }),
    readiness: optional(plainObject("ReadinessArgs")),
};
/** `ReadinessArgs`: one line per argument. */
const readinessInputs: Record<string, Shape> = {
    wait: optional({ type: "boolean", plain: true }),
    timeoutSeconds: optional({ type: "number", plain: true }),
    mirrorOf: optional({ type: "object", additionalProperties: { type: "string", plain: true }, plain: true }),
};
/** `GoogleCloudCredentialArgs`: one line per argument. */
const gcpInputs: Record<string, Shape> = {
    project: string,
    serviceAccountId: optional(string),
    serviceAccountEmail: optional(string),
    repositories: optional(plainList(plainObject("ArtifactRegistryRepository"))),
    keyRotationDays: optional(number),
    keyVersion: optional(number),
    existingKey: optional(string),
    credential: optional(plainEnum("CredentialKind")),
    projectNumber: optional(string),
    federation: optional(plainObject("WorkloadIdentityFederationArgs")),
    refresher: optional(plainObject("TokenRefresherArgs")),
};
/** `WorkloadIdentityFederationArgs`: one line per argument. */
const federationInputs: Record<string, Shape> = {
    poolId: { type: "string", plain: true },
    providerId: { type: "string", plain: true },
    issuerUri: optional(string),
    jwksJson: optional(string),
    existing: optional({ type: "boolean", plain: true }),
};
/** `TokenRefresherArgs`: one line per argument. */
const refresherInputs: Record<string, Shape> = {
    namespace: optional({ type: "string", plain: true }),
    image: optional(string),
};
/** `RegistryCredentialsArgs`: one line per argument. */
const credentialsInputs: Record<string, Shape> = {
    username: string,
    password: string,
};
/** `ArtifactRegistryRepository`. */
const repositoryInputs: Record<string, Shape> = {
    location: { type: "string", plain: true },
    repository: { type: "string", plain: true },
};
/** The object types the arguments use: one line per type. */
const objectTypes: Record<string, Record<string, Shape>> = {
    GoogleCloudCredentialArgs: gcpInputs,
    WorkloadIdentityFederationArgs: federationInputs,
    TokenRefresherArgs: refresherInputs,
    ArtifactRegistryRepository: repositoryInputs,
    RegistryCredentialsArgs: credentialsInputs,
    ReadinessArgs: readinessInputs,
};
/**
 * The string enums of the arguments, with the values each language accepts: in TypeScript these are
 * literal unions (`as const` objects), so a misspelt value fails `tsc` (test/package/installed-package.test.ts).
 */
const enumTypes: Record<string, string[]> = {
    CredentialKind: ["key", "gkeNode", "accessToken"],
    AttachMode: ["merge", "patch"],
};
/** The component's outputs: one line per output. */
const outputs: Record<string, Shape> = {
    secretName: string,
    namespaces: list(string),
    registries: list(string),
    serviceAccountEmail: string,
    keyName: string,
    keyRotatesAfter: string,
    dockerConfigJson: string,
};

/**
 * The JSDoc of an `as const` object and of each of its members, as written: `{ description, members:
 * { key: description } }`.
 */
function constObjectDoc(name: string): { description: string; members: Record<string, string> } {
    const text = (node: ts.Node) =>
        ts
            .getJSDocCommentsAndTags(node)
            .map((doc) => ts.getTextOfJSDocComment((doc as ts.JSDoc).comment) ?? "")
            .join("\n");
    for (const file of program.getSourceFiles().filter((f) => f.fileName.startsWith(path.join(repo, "components")))) {
        for (const node of file.statements) {
            const declaration = ts.isVariableStatement(node) ? node.declarationList.declarations[0] : undefined;
            if (declaration === undefined || declaration.name.getText() !== name) continue;
            const initializer = declaration.initializer!;
            const object = (
                ts.isAsExpression(initializer) ? initializer.expression : initializer
            ) as ts.ObjectLiteralExpression;
            const members = object.properties.map((property) => [property.name!.getText(), text(property)]);
            return { description: text(node), members: Object.fromEntries(members) };
        }
    }
    throw new Error(`${name} not found in components/`);
}

/** The JSDoc of `declaration.member` as TypeScript reads it (the analyzer must carry exactly this). */
const program = ts.createProgram([path.join(repo, "components/index.ts")], { strict: true });
function jsDoc(declaration: string, member?: string): string {
    for (const file of program.getSourceFiles().filter((f) => f.fileName.startsWith(path.join(repo, "components")))) {
        for (const node of file.statements) {
            if ((ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) && node.name?.text === declaration) {
                const checker = program.getTypeChecker();
                const symbol = checker.getSymbolAtLocation(node.name)!;
                const target = member === undefined ? symbol : symbol.members!.get(member as ts.__String)!;
                return ts.displayPartsToString(target.getDocumentationComment(checker));
            }
        }
    }
    throw new Error(`${declaration} not found in components/`);
}

function assertProperties(
    actual: Record<string, PropertyDefinition> | undefined,
    expected: Record<string, Shape>,
    declaration: string,
) {
    assert.deepEqual(Object.keys(actual ?? {}), Object.keys(expected), `${declaration}: the properties, in order`);
    for (const [name, shape] of Object.entries(expected)) {
        const { description, ...rest } = actual![name];
        assert.deepEqual(rest, shape, `${declaration}.${name}: type`);
        const documented = jsDoc(declaration, name);
        assert.ok(documented.length > 0, `${declaration}.${name} has JSDoc`);
        assert.equal(description, documented, `${declaration}.${name}: description`);
    }
}

describe("the schema Pulumi infers for other languages", () => {
    const analyzed = new Analyzer(repo, pluginOptions.name, packageJson, new Set(["RegistryPullSecret"])).analyze();
    const component = analyzed.components.RegistryPullSecret;

    it("has exactly one component, RegistryPullSecret, described by its class JSDoc", () => {
        assert.deepEqual(Object.keys(analyzed.components), ["RegistryPullSecret"]);
        assert.equal(component.description, jsDoc("RegistryPullSecret"));
    });

    it("has every argument with its type and description", () => {
        assertProperties(component.inputs, inputs, "RegistryPullSecretArgs");
    });

    it("has every object type of the arguments, each with every property, its type and description", () => {
        assert.deepEqual(
            Object.keys(analyzed.typeDefinitions).sort(),
            [...Object.keys(objectTypes), ...Object.keys(enumTypes)].sort(),
        );
        for (const [name, properties] of Object.entries(objectTypes)) {
            assertProperties(analyzed.typeDefinitions[name].properties, properties, name);
            assert.equal(analyzed.typeDefinitions[name].description, jsDoc(name), `${name}: description`);
        }
    });

    it("has every enum of the arguments as a string enum, each value described by its JSDoc", () => {
        for (const [name, values] of Object.entries(enumTypes)) {
            const documented = constObjectDoc(name);
            assert.deepEqual(analyzed.typeDefinitions[name], {
                name,
                type: "string",
                description: documented.description,
                enum: values.map((value) => ({ name: value, value, description: documented.members[value] })),
            });
            for (const value of values) assert.ok(documented.members[value].length > 0, `${name}.${value} has JSDoc`);
        }
    });

    it("has every output with its type and description", () => {
        assertProperties(component.outputs, outputs, "RegistryPullSecret");
    });
});

describe("the plugin's provider (pluginProvider, as provider.ts serves it)", () => {
    it("serves schema.json, and schema.json is what Pulumi's analyzer infers from the sources today (run `npm run schema` when this fails)", async () => {
        const served = await pluginProvider().getSchema!();
        assert.equal(served, fs.readFileSync(schemaFile, "utf8"));
        assert.equal(served, await analyzedSchema(), "schema.json has drifted from the sources: run `npm run schema`");
    });

    it("serves a component resource under the type token the component registers", async () => {
        const schema = JSON.parse(await pluginProvider().getSchema!());
        assert.equal(schema.name, "registry-pull-secret");
        assert.deepEqual(Object.keys(schema.resources), [token]);
        const resource = schema.resources[token];
        assert.equal(resource.isComponent, true);
        assert.deepEqual(Object.keys(resource.inputProperties), Object.keys(inputs));
        assert.deepEqual(
            resource.requiredInputs.sort(),
            Object.keys(inputs)
                .filter((k) => !inputs[k].optional)
                .sort(),
        );
        assert.deepEqual(Object.keys(resource.properties), Object.keys(outputs));
        assert.deepEqual(resource.required.sort(), Object.keys(outputs).sort());
        for (const [name, values] of Object.entries(enumTypes)) {
            const served = schema.types[`registry-pull-secret:index:${name}`];
            assert.equal(served.type, "string", `${name} is a string for other languages`);
            assert.deepEqual(
                served.enum.map((member: { value: string }) => member.value),
                values,
            );
        }
    });
});

describe("the plugin folder under Pulumi's own plugin runner", () => {
    const children: PluginProcess["child"][] = [];
    after(() => children.forEach((child) => child.kill()));

    it("starts the folder's package.json main with @pulumi/pulumi's run-plugin and serves the schema over gRPC", async () => {
        const plugin = await startPluginProcess(repo);
        children.push(plugin.child);
        const schema = JSON.parse(await plugin.schema());
        assert.deepEqual(Object.keys(schema.resources), [token]);
        assert.deepEqual(Object.keys(schema.resources[token].inputProperties), Object.keys(inputs));
    });
});
