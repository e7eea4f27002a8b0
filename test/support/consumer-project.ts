/**
 * A project that uses this package the way a user's does: `npm pack` (which runs `prepare`, the
 * build), then `npm install` of the tarball into an empty project, with no `overrides`, so it gets
 * the dependencies npm gives a user (undici 8 under client-node, unlike this repository's pin).
 * npm's cache makes the install take seconds once the packages were fetched.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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

/** A new project in a temporary folder with the packed package installed from its tarball. */
export function installedConsumer(): ConsumerProject {
    const work = mkdtempSync(join(tmpdir(), "registry-pull-secret-consumer-"));
    const tarball = packRepository(work);
    const dir = join(work, "consumer");
    mkdirSync(dir);
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true }));
    npm(["install", tarball], dir);
    return {
        dir,
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
