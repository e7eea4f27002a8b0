/**
 * What a user who installs the package from npm does: `npm pack`, `npm install` of the tarball into
 * an empty project (no `overrides`), a TypeScript program that imports it by name, type-checked
 * against the installed declarations and run under Pulumi's mocks in both attachment modes; then the
 * `__provider` Pulumi serialized for the "merge" attachment, loaded from the consumer's folder the way
 * the dynamic-provider host loads it, creates and deletes the entry on the API-server DOUBLE.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { startApiServerDouble, type ApiServerDouble } from "../support/api-server-double";
import {
    addConsumerProgram,
    installedConsumer,
    typeCheckConsumerFile,
    undiciLoadFailure,
    undiciLoads,
    type ConsumerProject,
} from "../support/consumer-project";
import { isSecretValue } from "../support/mocks";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

const entryType = "pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry";

describe("the package installed from its npm tarball", () => {
    let consumer: ConsumerProject;
    let double: ApiServerDouble;

    before(async () => {
        consumer = installedConsumer();
        addConsumerProgram(consumer);
        double = await startApiServerDouble();
    });
    after(async () => {
        await double?.close();
        consumer?.remove();
    });

    const evaluate = async (mode: string): Promise<Registered[]> => {
        const run = await consumer.node(["program.js", mode, double.kubeconfig]);
        assert.equal(run.status, 0, run.stderr);
        return JSON.parse(run.stdout) as Registered[];
    };
    const host = (provider: string, call: unknown[]) => consumer.node(["host.js", JSON.stringify(call)], provider);

    it("ships its LICENSE, README and CHANGELOG, as the repository has them", () => {
        const installed = path.join(consumer.dir, "node_modules", "registry-pull-secret");
        for (const file of ["LICENSE", "README.md", "CHANGELOG.md"]) {
            assert.equal(
                fs.readFileSync(path.join(installed, file), "utf8"),
                fs.readFileSync(path.join(__dirname, "..", "..", file), "utf8"),
                file,
            );
        }
    });

    /** A consumer's program that picks a credential and an attachment mode, as written in its source. */
    const choosing = (credential: string, attachMode: string) =>
        [
            'import { RegistryPullSecret } from "registry-pull-secret";',
            'new RegistryPullSecret("nodes", {',
            "    gcp: {",
            '        project: "example-project",',
            `        credential: ${credential},`,
            '        serviceAccountEmail: "123456789012-compute@developer.gserviceaccount.com",',
            '        repositories: [{ location: "asia", repository: "asia.gcr.io" }],',
            "    },",
            "});",
            'new RegistryPullSecret("pull", {',
            '    namespaces: ["apps"],',
            '    registries: ["ghcr.io"],',
            '    credentials: { username: "octocat", password: "token" },',
            `    attachMode: ${attachMode},`,
            "});",
            "",
        ].join("\n");

    it("type-checks every documented credential and attachMode, as strings and as the exported constants", () => {
        for (const [file, credential, attachMode] of [
            ["strings.ts", '"gkeNode"', '"patch"'],
            ["constants.ts", "CredentialKind.accessToken", "AttachMode.merge"],
        ]) {
            const source = choosing(credential, attachMode).replace(
                "import { RegistryPullSecret }",
                "import { AttachMode, CredentialKind, RegistryPullSecret }",
            );
            const checked = typeCheckConsumerFile(consumer, file, source);
            assert.equal(checked.status, 0, checked.stdout + checked.stderr);
        }
    });

    it("type-checks every TypeScript block of README.md and docs/ against the installed package, each alone with its own imports", () => {
        const repo = path.join(__dirname, "..", "..");
        const pages = ["README.md", ...fs.readdirSync(path.join(repo, "docs")).map((f) => `docs/${f}`)].filter((f) =>
            f.endsWith(".md"),
        );
        const blocks = pages.flatMap((page) =>
            [...fs.readFileSync(path.join(repo, page), "utf8").matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(
                (match, i) => ({ where: `${page} block ${i + 1}`, source: match[1] }),
            ),
        );
        assert.ok(blocks.length >= 5, `found ${blocks.length} blocks`);
        for (const [i, block] of blocks.entries()) {
            const checked = typeCheckConsumerFile(consumer, `doc-block-${i}.ts`, block.source);
            assert.equal(checked.status, 0, `${block.where}:\n${checked.stdout}${checked.stderr}`);
        }
    });

    it("refuses a misspelt credential or attachMode at compile time: tsc fails on exactly those two lines", () => {
        const checked = typeCheckConsumerFile(consumer, "typos.ts", choosing('"gke-node"', '"Merge"'));
        assert.notEqual(checked.status, 0);
        const errors = checked.stdout.split("\n").filter((line) => line.includes("error TS"));
        assert.deepEqual(
            errors.map((line) => /^typos\.ts\((\d+),\d+\): error (TS\d+)/.exec(line)?.slice(1)),
            [
                ["5", "TS2820"],
                ["14", "TS2820"],
            ],
            checked.stdout,
        );
        assert.match(
            errors[0],
            /'"gke-node"' is not assignable to type 'CredentialKind \| undefined'\. Did you mean '"gkeNode"'\?/,
        );
        assert.match(
            errors[1],
            /'"Merge"' is not assignable to type 'AttachMode \| undefined'\. Did you mean '"merge"'\?/,
        );
    });

    it("runs `npx registry-pull-secret doctor` from the installed package: its usage, and exit 2 for a pod the cluster does not have", async (t) => {
        // Asynchronous: the API server double answers from this process.
        const npx = (args: string[]) =>
            new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
                execFile(
                    "npx",
                    ["--no-install", "registry-pull-secret", ...args],
                    { cwd: consumer.dir, encoding: "utf8" },
                    (error, stdout, stderr) => {
                        const code = (error as { code?: unknown } | null)?.code;
                        resolve({ status: error ? (typeof code === "number" ? code : -1) : 0, stdout, stderr });
                    },
                ),
            );
        const help = await npx(["doctor", "--help"]);
        assert.equal(help.status, 0, help.stderr);
        assert.match(help.stdout, /^usage: registry-pull-secret doctor/);
        const kubeconfig = path.join(consumer.dir, "double.kubeconfig");
        fs.writeFileSync(kubeconfig, double.kubeconfig);
        const missing = await npx(["doctor", "pod/web", "-n", "apps", "--kubeconfig", kubeconfig]);
        if (!undiciLoads) {
            // Node.js before 22.19 (below the package's engines) cannot load client-node's undici 8.
            assert.notEqual(missing.status, 0);
            t.diagnostic(
                `Node.js ${process.version} cannot load undici 8 (needs >= 22.19): the doctor's reads run under Node.js 22 and 24`,
            );
            return;
        }
        assert.equal(missing.status, 2, missing.stderr);
        assert.equal(missing.stderr, "registry-pull-secret doctor: pod/web does not exist in namespace apps\n");
    });

    it('declares "patch" attachments: a ServiceAccountPatch per ServiceAccount, no dynamic resource', async () => {
        const types = (await evaluate("patch")).map((r) => r.type);
        assert.equal(types.filter((t) => t === "kubernetes:core/v1:ServiceAccountPatch").length, 1);
        assert.equal(types.filter((t) => t === entryType).length, 0);
    });

    it('declares "merge" attachments, whose serialized provider names the package and runs from the consumer\'s folder', async (t) => {
        const entries = (await evaluate("merge")).filter((r) => r.type === entryType);
        assert.equal(entries.length, 1);
        const { __provider: provider, ...inputs } = entries[0].inputs;
        assert.equal(typeof provider, "string");
        const text = provider as string;
        // A few delegating lines that require the package's subpath; none of the implementation.
        assert.match(text, /"registry-pull-secret\/pull-secret-entry-provider"/);
        assert.doesNotMatch(text, /planAttach|imagePullSecrets|client-node/);
        assert.ok(text.length <= 2048, `serialized provider is ${text.length} bytes`);

        const kubeconfig = isSecretValue(inputs.kubeconfig) ? inputs.kubeconfig.value : inputs.kubeconfig;
        assert.equal(kubeconfig, double.kubeconfig);
        double.put("apps", "default", ["theirs"]);
        const created = await host(text, ["create", { ...inputs, kubeconfig }]);
        if (!undiciLoads) {
            // Node.js before 22.19: the provider module loads by name, then client-node's undici 8 throws
            // while loading (a TypeError at the top of one of its own modules).
            assert.notEqual(created.status, 0);
            assert.match(created.stderr, undiciLoadFailure);
            t.diagnostic(
                `Node.js ${process.version} cannot load undici 8 (needs >= 22.19): "${created.stderr.split("\n").find((l) => l.includes("TypeError"))}"; create and delete run under Node.js 22 and 24`,
            );
            return;
        }
        assert.equal(created.status, 0, created.stderr);
        const { id, outs } = JSON.parse(created.stdout) as { id: string; outs: Record<string, unknown> };
        assert.deepEqual(double.pullSecrets("apps", "default"), ["theirs", "regcred"]);

        // `pulumi destroy` starts a new dynamic-provider process with the state's `__provider`.
        const deleted = await host(text, ["delete", id, outs]);
        assert.equal(deleted.status, 0, deleted.stderr);
        assert.deepEqual(double.pullSecrets("apps", "default"), ["theirs"]);
    });
});
