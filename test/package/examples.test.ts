/**
 * The examples for other languages against the schema the plugin serves (schema.json), without the engine: every
 * property they set exists, every required one is set. (They also run for real through the Pulumi CLI
 * in the engine suite: test/engine/python-program.test.ts and test/engine/yaml-program.test.ts.)
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as YAML from "yaml";
import { pluginProvider } from "../../components/plugin";

const repo = path.resolve(__dirname, "..", "..");
const token = "registry-pull-secret:index:RegistryPullSecret";

describe("examples/", async () => {
    const schema = JSON.parse(await pluginProvider().getSchema!());
    const resource = schema.resources[token];
    const gcpType = schema.types[resource.inputProperties.gcp.$ref.replace("#/types/", "")];
    const repositoryType = schema.types[gcpType.properties.repositories.items.$ref.replace("#/types/", "")];
    const credentialsType = schema.types[resource.inputProperties.credentials.$ref.replace("#/types/", "")];

    function assertFits(
        what: string,
        given: string[],
        type: { properties: Record<string, unknown>; required?: string[] },
    ) {
        for (const name of given) assert.ok(name in type.properties, `${what}: ${name} is not in the schema`);
        for (const name of type.required ?? []) assert.ok(given.includes(name), `${what}: required ${name} is missing`);
    }

    it("yaml/ declares the component by its type token with properties the schema has", () => {
        const program = YAML.parse(fs.readFileSync(path.join(repo, "examples/yaml/Pulumi.yaml"), "utf8"));
        assert.deepEqual(program.packages, { "registry-pull-secret": "../.." });
        const [declared] = Object.values<any>(program.resources);
        assert.equal(declared.type, token);
        assertFits("RegistryPullSecret", Object.keys(declared.properties), {
            properties: resource.inputProperties,
            required: resource.requiredInputs,
        });
        assertFits("gcp", Object.keys(declared.properties.gcp), gcpType);
        for (const repository of declared.properties.gcp.repositories)
            assertFits("repository", Object.keys(repository), repositoryType);
        for (const output of Object.values<string>(program.outputs)) {
            assert.ok(/^\$\{regcred\.(\w+)\}$/.exec(output)![1] in resource.properties, output);
        }
    });

    it("python/ passes only arguments the generated SDK has (snake_case of the schema's names)", () => {
        const source = fs.readFileSync(path.join(repo, "examples/python/__main__.py"), "utf8");
        const camel = (snake: string) => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
        // Keyword arguments of the constructor call (4 spaces in), keys of the `gcp` dict (4 spaces in)
        // and of the one-line `credentials` dict.
        const keywords = [...source.matchAll(/^ {4}(\w+)=/gm)].map((m) => camel(m[1]));
        const gcpKeys = [...source.matchAll(/^ {4}"(\w+)":/gm)].map((m) => camel(m[1]));
        const credentialKeys = [...source.matchAll(/^credentials = \{"(\w+)": [^,]+, "(\w+)": /gm)].flatMap((m) => [
            m[1],
            m[2],
        ]);
        const repositoryKeys = [...source.matchAll(/\{"(location)": "[^"]*", "(repository)": /g)].flatMap((m) => [
            m[1],
            m[2],
        ]);
        assert.ok(
            keywords.length === 5 && gcpKeys.length >= 3 && repositoryKeys.length >= 2 && credentialKeys.length === 2,
            "the example's arguments were found",
        );
        assertFits("RegistryPullSecret", keywords, {
            properties: resource.inputProperties,
            required: resource.requiredInputs,
        });
        assertFits("gcp", gcpKeys, gcpType);
        assertFits("repository", [...new Set(repositoryKeys)], repositoryType);
        assertFits("credentials", credentialKeys, credentialsType);
        for (const [, output] of source.matchAll(/regcred\.(\w+)\)/g))
            assert.ok(camel(output) in resource.properties, output);
        assert.match(source, /^import pulumi_registry_pull_secret as registry_pull_secret$/m);
    });
});
