import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { Analyzer } from "@pulumi/pulumi/provider/experimental/analyzer";

/**
 * The schema other languages get is inferred from the source by Pulumi's analyzer (FACTS.md section
 * 4). The injectable clock lives in the TypeScript-only options, so it must not appear there, while
 * the new args and output must.
 */
test("the inferred schema has the credential args and keyRotatesAfter, and no rotation clock", () => {
    const root = path.resolve(__dirname, "..");
    const analyzer = new Analyzer(
        root,
        "registry-pull-secret",
        { name: "registry-pull-secret", main: "components/index.js" },
        new Set(["RegistryPullSecret"]),
    );
    type Properties = Record<string, { type?: string; optional?: boolean }>;
    const schema = analyzer.analyze() as unknown as {
        components: Record<string, { inputs: Properties; outputs: Properties }>;
        typeDefinitions: Record<string, { properties: Properties }>;
    };
    const component = schema.components.RegistryPullSecret;
    assert.deepEqual(Object.keys(component.inputs).sort(), [
        "attachMode",
        "credentials",
        "email",
        "gcp",
        "kubeconfig",
        "namespaces",
        "registries",
        "secretName",
        "serviceAccounts",
    ]);
    assert.equal(component.outputs.keyRotatesAfter.type, "string");
    // attachMode and kubeconfig (issue 3) stay plain optional strings, so other languages can pass them.
    assert.deepEqual(
        ["attachMode", "kubeconfig"].map((name) => [name, component.inputs[name].type, component.inputs[name].optional]),
        [
            ["attachMode", "string", true],
            ["kubeconfig", "string", true],
        ],
    );
    const gcp = schema.typeDefinitions.GoogleCloudCredentialArgs.properties;
    assert.deepEqual(
        ["keyRotationDays", "keyVersion", "existingKey"].map((name) => [name, gcp[name]?.type, gcp[name]?.optional]),
        [
            ["keyRotationDays", "number", true],
            ["keyVersion", "number", true],
            ["existingKey", "string", true],
        ],
    );
    const credentials = schema.typeDefinitions.RegistryCredentialsArgs.properties;
    assert.deepEqual(Object.keys(credentials).sort(), ["password", "username"]);
    assert.ok(!JSON.stringify(schema).toLowerCase().includes("clock"));
});
