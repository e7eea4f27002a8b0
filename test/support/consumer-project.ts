/**
 * A project that uses this package the way a user's does: `npm pack` (which runs `prepare`, the
 * build), then `npm install` of the tarball into an empty project, with no `overrides`, so it gets
 * the dependencies npm gives a user (undici 8 under client-node, unlike this repository's pin).
 * npm's cache makes the install take seconds once the packages were fetched.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repository = resolve(__dirname, "..", "..");
const npm = (args: string[], cwd: string) =>
    execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8" });

export interface NodeRun {
    status: number | null;
    stdout: string;
    stderr: string;
}

export interface ConsumerProject {
    /** The project's folder: Pulumi runs the program and the dynamic-provider process from here. */
    dir: string;
    /**
     * Runs `node` in the project's folder; never rejects: the caller asserts the outcome. Asynchronous,
     * so servers in the test's own process (the API-server double) keep answering meanwhile.
     */
    node(args: string[], input?: string): Promise<NodeRun>;
    remove(): void;
}

/** Packs this repository into `into` and returns the tarball's path. */
export function packRepository(into: string): string {
    npm(["pack", "--pack-destination", into], repository);
    const tarball = readdirSync(into).find((file) => file.endsWith(".tgz"));
    if (!tarball) throw new Error(`npm pack wrote no tarball into ${into}`);
    return join(into, tarball);
}

/**
 * A new project in a temporary folder with the packed package installed from its tarball. With
 * `workspace`, the project is the member `infra` of an npm workspace (a parent package.json with
 * `workspaces`, the monorepo shape): npm installs from the workspace root and hoists the package into
 * the root's node_modules, so the member's folder has none of its own.
 */
export function installedConsumer(options: { workspace?: boolean } = {}): ConsumerProject & { root: string } {
    const work = mkdtempSync(join(tmpdir(), "registry-pull-secret-consumer-"));
    const tarball = packRepository(work);
    const root = join(work, options.workspace ? "monorepo" : "consumer");
    const dir = options.workspace ? join(root, "infra") : root;
    mkdirSync(dir, { recursive: true });
    if (options.workspace) {
        writeFileSync(
            join(root, "package.json"),
            JSON.stringify({ name: "monorepo", private: true, workspaces: ["infra"] }),
        );
        const member = { name: "infra", private: true, dependencies: { "registry-pull-secret": `file:${tarball}` } };
        writeFileSync(join(dir, "package.json"), JSON.stringify(member));
        npm(["install"], root);
    } else {
        writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true }));
        npm(["install", tarball], dir);
    }
    return {
        dir,
        root,
        node: (args, input) =>
            new Promise((done) => {
                const child = spawn(process.execPath, args, { cwd: dir });
                let [stdout, stderr] = ["", ""];
                child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
                child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
                child.on("close", (status) => done({ status, stdout, stderr }));
                child.stdin.end(input ?? "");
            }),
        remove: () => rmSync(work, { recursive: true, force: true }),
    };
}

const fixture = resolve(repository, "test", "fixtures", "consumer");

/**
 * Adds the consumer's program (test/fixtures/consumer: a TypeScript program that imports the package by
 * name, and the dynamic-provider host stand-in) and type-checks it against the installed declarations,
 * resolved through the package's "exports", as the consumer's own `tsc` does.
 */
export function addConsumerProgram(consumer: ConsumerProject): void {
    for (const file of readdirSync(fixture)) copyFileSync(join(fixture, file), join(consumer.dir, file));
    execFileSync(process.execPath, tscArguments(consumer.dir, "tsconfig.json"));
}

/** `tsc -p` of a project file in the consumer's folder, with this repository's `@types` (node). */
function tscArguments(dir: string, project: string): string[] {
    const tsc = require.resolve("typescript/bin/tsc");
    return [tsc, "-p", join(dir, project), "--typeRoots", resolve(repository, "node_modules/@types")];
}

/**
 * Type-checks one more source file of the consumer's (after {@link addConsumerProgram}) with the same
 * compiler options, as the user's `tsc` would; never throws: the caller asserts the outcome.
 */
export function typeCheckConsumerFile(consumer: ConsumerProject, fileName: string, source: string): NodeRun {
    writeFileSync(join(consumer.dir, fileName), source);
    const project = `tsconfig.${fileName}.json`;
    writeFileSync(join(consumer.dir, project), JSON.stringify({ extends: "./tsconfig.json", files: [fileName] }));
    return compileConsumerProject(consumer, project);
}

/**
 * `tsc -p PROJECT` of a project file in the consumer's folder (it emits what that file says), with this
 * repository's `@types`; never throws: the caller asserts the outcome.
 */
export function compileConsumerProject(consumer: ConsumerProject, project: string): NodeRun {
    const run = spawnSync(process.execPath, tscArguments(consumer.dir, project), {
        cwd: consumer.dir,
        encoding: "utf8",
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

// @kubernetes/client-node 2 depends on undici 8, which needs Node.js 22.19 or later; this repository
// pins undici 7 for its own install only (npm applies `overrides` to the declaring project alone).
const [major, minor] = process.versions.node.split(".").map(Number);
export const undiciLoads = major > 22 || (major === 22 && minor >= 19);

/** Node.js before 22.19: the provider module loads by name, then client-node's undici 8 throws while loading. */
export const undiciLoadFailure = /TypeError[^\n]*\n\s+at [^\n]*node_modules\/undici\/lib\//;
