/**
 * Another Pulumi project that uses this package the way a user does: `npm pack` of this repository,
 * `npm install` of the tarball into a fresh folder, and the REAL Pulumi engine (the CLI and the
 * Kubernetes provider built by test/engine/build.sh) driven through that folder's own
 * `@pulumi/pulumi/automation`, with a local file backend and a passphrase secrets provider.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type * as automation from "@pulumi/pulumi/automation";
import { packRepository } from "./consumer-project";
import { pulumiCli, type PulumiCli } from "./pulumi-cli";
import { engineBin, engineBinary } from "./real-cluster";

const repo = path.join(__dirname, "..", "..");

export function mustRun(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): string {
    const result = spawnSync(command, args, { ...options, encoding: "utf8", timeout: 600_000 });
    if (result.status !== 0) {
        throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}${result.stdout}`);
    }
    return result.stdout;
}

export interface EngineProject {
    /** The project folder: package.json, node_modules with registry-pull-secret installed from its tarball. */
    dir: string;
    /** `require` from the project folder, so the program uses the project's own packages. */
    require: NodeJS.Require;
    automation: typeof automation;
    /** Environment for the engine: its own PULUMI_HOME, file backend, passphrase; no downloads. */
    env: Record<string, string>;
    /** The file backend's folder (the state files). */
    stateDir: string;
    /** The version of the Kubernetes provider the project's @pulumi/kubernetes asks for. */
    kubernetesVersion: string;
    pulumi: automation.PulumiCommand;
    remove(): void;
}

/**
 * Environment for the engine, with its own PULUMI_HOME (under `work`), the file backend in
 * `stateDir`, a passphrase and no downloads; the Kubernetes provider plugin installed there for
 * exactly `kubernetesVersion` (the version the SDK asks for) from the local build.
 */
export function engineEnvironment(work: string, stateDir: string, kubernetesVersion: string): Record<string, string> {
    const env: Record<string, string> = {
        PATH: process.env.PATH ?? "",
        HOME: work,
        PULUMI_HOME: path.join(work, "pulumi-home"),
        PULUMI_BACKEND_URL: `file://${stateDir}`,
        PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex"),
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_SKIP_CONFIRMATIONS: "true",
    };
    installKubernetesPlugin(env, work, kubernetesVersion);
    return env;
}

/** Installs the locally built Kubernetes provider into `env`'s PULUMI_HOME as version `version`. */
export function installKubernetesPlugin(env: Record<string, string>, cwd: string, version: string): void {
    mustRun(
        engineBinary("pulumi"),
        [
            "plugin",
            "install",
            "resource",
            "kubernetes",
            version,
            "--file",
            path.join(engineBin, "..", "plugins", "pulumi-resource-kubernetes"),
        ],
        { cwd, env },
    );
}

export async function installEngineProject(): Promise<EngineProject> {
    const work = mkdtempSync(path.join(tmpdir(), "consumer-project-"));
    const dir = path.join(work, "project");
    const stateDir = path.join(work, "state");
    for (const folder of [dir, stateDir]) mkdirSync(folder);
    const tarball = packRepository(work);
    const ours = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8"));
    writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({
            name: "consumer",
            private: true,
            dependencies: {
                "registry-pull-secret": `file:${tarball}`,
                "@pulumi/pulumi": ours.dependencies["@pulumi/pulumi"],
                "@pulumi/kubernetes": ours.dependencies["@pulumi/kubernetes"],
            },
        }),
    );
    mustRun("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir });
    const projectRequire = createRequire(path.join(dir, "package.json"));
    const kubernetesVersion: string = JSON.parse(
        readFileSync(projectRequire.resolve("@pulumi/kubernetes/package.json"), "utf8"),
    ).pulumi.version;

    const env = engineEnvironment(work, stateDir, kubernetesVersion);
    const auto = projectRequire("@pulumi/pulumi/automation") as typeof automation;
    const pulumi = await auto.PulumiCommand.get({ root: path.dirname(engineBin) });
    return {
        dir,
        require: projectRequire,
        automation: auto,
        env,
        stateDir,
        kubernetesVersion,
        pulumi,
        remove: () => rmSync(work, { recursive: true, force: true }),
    };
}

/**
 * This repository as a user has it after `git clone` and `npm ci`: its tracked files (and new ones not
 * yet committed, so a change under test is included) copied into `into`, then `npm ci`, whose
 * `prepare` builds `bin/`. Nothing of this checkout's node_modules, bin/ or .engine/ is copied.
 */
export function checkoutRepository(into: string): string {
    const files = mustRun("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repo })
        .split("\0")
        .filter((file) => file !== "" && existsSync(path.join(repo, file)));
    for (const file of files) cpSync(path.join(repo, file), path.join(into, file), { recursive: true });
    mustRun("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: into });
    return into;
}

/** The version of the Kubernetes provider plugin the `@pulumi/kubernetes` installed in `dir` asks for. */
export function kubernetesPluginVersion(dir: string): string {
    const sdk = createRequire(path.join(dir, "package.json")).resolve("@pulumi/kubernetes/package.json");
    return JSON.parse(readFileSync(sdk, "utf8")).pulumi.version;
}

const fixtures = path.join(repo, "test", "fixtures");

export interface TypeScriptProject {
    /** The project folder: Pulumi.yaml, tsconfig.json, index.ts, and node_modules from npm install. */
    dir: string;
    /** The file backend's folder (the state files). */
    stateDir: string;
    /** The `pulumi` CLI in the project's folder. */
    cli: PulumiCli;
    remove(): void;
}

/**
 * A user's own TypeScript project (by default test/fixtures/typescript-project: Pulumi.yaml, the
 * tsconfig.json of `pulumi new typescript`, an index.ts that declares the component) with this package
 * `npm install`ed from its `npm pack` tarball next to `@pulumi/pulumi`, TypeScript and `@types/node`, as
 * a user adds them; then the `pulumi` CLI in that folder (engineEnvironment: its own PULUMI_HOME, a
 * file backend, a passphrase, no downloads). `native` is the same stack without this package, its
 * Kubernetes objects declared with `@pulumi/kubernetes` alone (bench/engine.ts compares the two).
 */
export function installTypeScriptProject(
    program: "typescript-project" | "native-project" = "typescript-project",
): TypeScriptProject {
    const work = mkdtempSync(path.join(tmpdir(), `${program}-`));
    const dir = path.join(work, "project");
    const stateDir = path.join(work, "state");
    for (const folder of [dir, stateDir]) mkdirSync(folder);
    cpSync(path.join(fixtures, program), dir, { recursive: true });
    const ours = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")).dependencies;
    const dependencies =
        program === "typescript-project"
            ? { "registry-pull-secret": `file:${packRepository(work)}` }
            : { "@pulumi/kubernetes": ours["@pulumi/kubernetes"] };
    writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({
            name: "pull-secrets",
            main: "index.ts",
            devDependencies: { "@types/node": "^24", typescript: "^5" },
            dependencies: { "@pulumi/pulumi": ours["@pulumi/pulumi"], ...dependencies },
        }),
    );
    mustRun("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir });
    const env = engineEnvironment(work, stateDir, kubernetesPluginVersion(dir));
    return { dir, stateDir, cli: pulumiCli(dir, env), remove: () => rmSync(work, { recursive: true, force: true }) };
}
