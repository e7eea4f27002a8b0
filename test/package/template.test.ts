/**
 * The `pulumi new` template (templates/registry-pull-secret) without the engine: its Pulumi.yaml is a
 * template the CLI reads (the `template:` fields of pulumi/pulumi v3.274.1
 * sdk/go/common/apitype/templates.go `ProjectTemplate` and `ProjectTemplateConfigValue`, string
 * defaults), it asks for exactly the config its index.ts reads, and that index.ts, compiled with the
 * template's own tsconfig.json against the package installed from its npm tarball, declares what each
 * answer means under Pulumi's mocks. test/engine/template.test.ts runs it from `pulumi new` to
 * `pulumi up` through the real CLI.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as YAML from "yaml";
import {
    compileConsumerProject,
    installedConsumer,
    type ConsumerProject,
    type NodeRun,
} from "../support/consumer-project";

const template = path.resolve(__dirname, "..", "..", "templates", "registry-pull-secret");
const read = (file: string) => fs.readFileSync(path.join(template, file), "utf8");
const project = YAML.parse(read("Pulumi.yaml"));
const prompts: Record<string, { description?: string; default?: unknown; secret?: boolean }> = project.template.config;
const program = read("index.ts");

/** The config keys index.ts reads, by the `pulumi.Config` method that reads each. */
const readKeys = [...program.matchAll(/config\.(\w+)(?:<[^>]*>)?\("(\w+)"\)/g)].map(([, method, key]) => ({
    method,
    key,
}));

/** A run under Pulumi's mocks prints the registered resources' `type name`, sorted, a key's with the account it is for. */
const harness = `
const pulumi = require("@pulumi/pulumi");
const registered = [];
pulumi.runtime.setMocks(
    {
        newResource: (args) => {
            const of = args.type === "gcp:serviceaccount/key:Key" ? " of " + args.inputs.serviceAccountId : "";
            registered.push(args.type + " " + args.name + of);
            const email = args.inputs.accountId + "@" + args.inputs.project + ".iam.gserviceaccount.com";
            const privateKey = Buffer.from(JSON.stringify({ type: "service_account", private_key_id: "k1" })).toString("base64");
            return { id: args.name + "-id", state: { ...args.inputs, email, privateKey, name: "projects/-/serviceAccounts/" + email } };
        },
        call: (args) => args.inputs,
    },
    "pull-secrets",
    "dev",
    false,
);
// What Pulumi.yaml's project config gives every stack, then the stack's answers.
pulumi.runtime.setAllConfig({ "kubernetes:enableSecretMutable": "true", ...JSON.parse(process.argv[2]) });
require("./bin/index.js");
process.on("beforeExit", () => {
    if (registered.done) return;
    registered.done = true;
    console.log(JSON.stringify(registered.sort()));
});
`;

describe("the pulumi new template", () => {
    let consumer: ConsumerProject;
    /** `tsc -p tsconfig.json` of the template's index.ts in the consumer's folder; the mock runs use its output. */
    let compiled: NodeRun;

    before(() => {
        consumer = installedConsumer();
        for (const file of ["index.ts", "tsconfig.json"])
            fs.copyFileSync(path.join(template, file), path.join(consumer.dir, file));
        fs.writeFileSync(path.join(consumer.dir, "mocks.js"), harness);
        compiled = compileConsumerProject(consumer, "tsconfig.json");
    });
    after(() => consumer?.remove());

    it("Pulumi.yaml is a TypeScript project named by pulumi new (${PROJECT}) whose template section has only fields the CLI reads", () => {
        assert.equal(project.name, "${PROJECT}");
        assert.deepEqual(project.runtime, { name: "nodejs", options: { packagemanager: "npm", typescript: true } });
        assert.equal(project.main, "index.ts");
        assert.deepEqual(project.config, { "kubernetes:enableSecretMutable": { value: true } });
        for (const field of Object.keys(project.template)) {
            assert.ok(
                ["displayName", "description", "quickstart", "important", "metadata", "config"].includes(field),
                field,
            );
        }
        for (const [key, prompt] of Object.entries(prompts)) {
            for (const field of Object.keys(prompt))
                assert.ok(["description", "default", "secret"].includes(field), `${key}.${field}`);
            assert.ok(prompt.description, `${key} says what to answer`);
            if ("default" in prompt)
                assert.equal(typeof prompt.default, "string", `${key}: the CLI reads a default as a string`);
        }
    });

    it("asks for exactly the config keys index.ts reads, and for each key index.ts reads as a secret with secret: true", () => {
        assert.ok(readKeys.length >= 8, JSON.stringify(readKeys));
        assert.deepEqual(Object.keys(prompts).sort(), [...new Set(readKeys.map((read) => read.key))].sort());
        for (const [key, prompt] of Object.entries(prompts)) {
            const secret = readKeys.some((read) => read.key === key && /Secret$/.test(read.method));
            assert.equal(
                prompt.secret === true,
                secret,
                `${key}: secret: true exactly when index.ts reads it as a secret`,
            );
        }
        assert.deepEqual(
            Object.keys(prompts).filter((key) => prompts[key].secret),
            ["registryPassword"],
        );
    });

    it("the JSON defaults are the seed's case: asia.gcr.io, as repository asia.gcr.io in location asia, and takeOver off", () => {
        assert.deepEqual(JSON.parse(prompts.registries.default as string), ["asia.gcr.io"]);
        assert.deepEqual(JSON.parse(prompts.repositories.default as string), [
            { location: "asia", repository: "asia.gcr.io" },
        ]);
        assert.deepEqual(JSON.parse(prompts.namespaces.default as string), ["default"]);
        assert.equal(prompts.takeOver.default, "false");
    });

    it("package.json and tsconfig.json are what pulumi new installs and compiles: @pulumi/pulumi, TypeScript, index.ts", () => {
        const pkg = JSON.parse(read("package.json"));
        assert.equal(pkg.name, "${PROJECT}");
        assert.equal(pkg.main, "index.ts");
        const ours = JSON.parse(fs.readFileSync(path.join(template, "..", "..", "package.json"), "utf8"));
        assert.equal(pkg.dependencies["@pulumi/pulumi"], ours.dependencies["@pulumi/pulumi"]);
        assert.equal(pkg.engines.node, ours.engines.node);
        assert.ok(pkg.devDependencies.typescript, "typescript");
        assert.deepEqual(JSON.parse(read("tsconfig.json")).files, ["index.ts"]);
    });

    it("index.ts compiles with the template's tsconfig.json against the package installed from its tarball", () => {
        assert.equal(compiled.status, 0, compiled.stdout + compiled.stderr);
        assert.ok(fs.existsSync(path.join(consumer.dir, "bin", "index.js")));
    });

    const run = async (config: Record<string, string>): Promise<string[]> => {
        const answers = Object.fromEntries(
            Object.entries(config).map(([key, value]) => [`pull-secrets:${key}`, value]),
        );
        const result = await consumer.node(["mocks.js", JSON.stringify(answers)]);
        assert.equal(result.status, 0, result.stderr);
        return JSON.parse(result.stdout.trim().split("\n").pop() as string);
    };
    /** The answers `pulumi new --yes` saves from the defaults. */
    const defaults = Object.fromEntries(
        Object.entries(prompts).flatMap(([key, prompt]) => (prompt.default ? [[key, prompt.default as string]] : [])),
    );

    it("with registryUsername: a Secret, its claim and our entry per namespace, and nothing of Google Cloud", async () => {
        const registered = await run({
            ...defaults,
            namespaces: '["apps","jobs"]',
            registries: '["ghcr.io"]',
            registryUsername: "octocat",
            registryPassword: "token",
        });
        assert.deepEqual(
            registered.filter((r) => r.startsWith("kubernetes:core/v1:Secret ")),
            ["kubernetes:core/v1:Secret regcred/apps", "kubernetes:core/v1:Secret regcred/jobs"],
        );
        assert.equal(registered.filter((r) => r.includes("PullSecretEntry")).length, 2);
        assert.deepEqual(
            registered.filter((r) => r.startsWith("gcp:")),
            [],
        );
    });

    it("with gcpProject and a service account id: creates that account, a reader grant per repository and a key", async () => {
        const registered = await run({ ...defaults, gcpProject: "my-project" });
        assert.deepEqual(
            registered.filter((r) => r.startsWith("gcp:")),
            [
                "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember regcred/reader/asia/asia.gcr.io",
                "gcp:serviceaccount/account:Account regcred-account",
                // The created account's name, as the mock gives it.
                "gcp:serviceaccount/key:Key regcred-key of projects/-/serviceAccounts/image-puller@my-project.iam.gserviceaccount.com",
            ],
        );
    });

    it("with gcpProject and a service account email: reuses that account (no Account created), grants it and makes it a key", async () => {
        const registered = await run({
            ...defaults,
            gcpProject: "my-project",
            serviceAccount: "recipe-puller@my-project.iam.gserviceaccount.com",
        });
        assert.deepEqual(
            registered.filter((r) => r.startsWith("gcp:")),
            [
                "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember regcred/reader/asia/asia.gcr.io",
                "gcp:serviceaccount/key:Key regcred-key of recipe-puller@my-project.iam.gserviceaccount.com",
            ],
        );
    });

    it("with the defaults alone (neither gcpProject nor registryUsername): fails naming both arguments", async () => {
        const answers = Object.fromEntries(
            Object.entries(defaults).map(([key, value]) => [`pull-secrets:${key}`, value]),
        );
        const result = await consumer.node(["mocks.js", JSON.stringify(answers)]);
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, /InputPropertyError: gcp or credentials: exactly one is required; neither is set/);
    });
});
