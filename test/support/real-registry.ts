/**
 * A real registry for end-to-end pull tests: Debian's `docker-registry` (distribution 2.8) with htpasswd
 * authentication on 127.0.0.1, a tiny image built offline and pushed with skopeo, and `skopeo --authfile` to
 * pull with a `.dockerconfigjson`. skopeo (containers/image) reads only the `auth` field of an authfile
 * (docs/facts.md#what-kubectl-writes-for-a-docker-registry-secret). A missing tool fails the test: CI installs
 * them (.ci/run). distribution 2.8 reads its htpasswd file once, at start: {@link RealRegistry.restart} changes
 * who may pull.
 */
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { freePort } from "./real-cluster";

/** bcrypt reads only the first 72 bytes of a password (Go's x/crypto and Apache's htpasswd alike). */
export const bcryptBytes = 72;

export interface RegistryUser {
    user: string;
    password: string;
}

/** The image every registry here serves, under its `host`. */
export const image = "e2e/tiny:1";
const helloText = "pulled with the component's .dockerconfigjson\n";

/** skopeo must see only the authfile it is given: no ~/.docker/config.json, no auth.json. */
function toolEnv(work: string): NodeJS.ProcessEnv {
    return {
        PATH: process.env.PATH,
        HOME: work,
        XDG_RUNTIME_DIR: path.join(work, "run"),
        XDG_CONFIG_HOME: path.join(work, "config"),
    };
}

/** Runs a tool; a missing tool is an error, never a skip. */
function run(work: string, tool: string, args: string[], options: { input?: string } = {}) {
    const result = spawnSync(tool, args, {
        encoding: "utf8",
        input: options.input,
        timeout: 120_000,
        env: toolEnv(work),
    });
    if (result.error) {
        throw new Error(
            `${tool} could not run (${(result.error as NodeJS.ErrnoException).code}): install it as .ci/run does`,
        );
    }
    return result;
}

/**
 * Runs skopeo without blocking the event loop, so servers in this process (a front such as
 * test/support/artifact-registry-front.ts, token doubles) can answer it.
 */
function runSkopeo(work: string, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        execFile(
            "skopeo",
            args,
            { encoding: "utf8", timeout: 120_000, env: toolEnv(work) },
            (error, stdout, stderr) => {
                const code: unknown = (error as { code?: unknown } | null)?.code;
                if (code === "ENOENT") reject(new Error("skopeo could not run (ENOENT): install it as .ci/run does"));
                else resolve({ status: error ? (typeof code === "number" ? code : 1) : 0, stdout, stderr });
            },
        );
    });
}

function mustRun(work: string, tool: string, args: string[], options: { input?: string } = {}): string {
    const result = run(work, tool, args, options);
    assert.equal(result.status, 0, `${tool} ${args[0]} failed: ${result.stderr}`);
    return result.stdout;
}

function sha256(bytes: Buffer | string): string {
    return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A file of an image: its path in the image, its content, its mode. */
export interface ImageFile {
    name: string;
    bytes: Buffer;
    mode: number;
}

/** What an image holds and how it is named in its layout's index. */
export interface ImageContent {
    files: ImageFile[];
    /** The index entry's annotations: the ref name skopeo copies, the image name containerd imports. */
    annotations: Record<string, string>;
    entrypoint?: string[];
    /** `NAME=value` entries of the image's environment. */
    env?: string[];
    labels?: Record<string, string>;
}

/**
 * A one-layer OCI image layout, written by hand: no network, no Docker engine. Reproducible: the same
 * content gives the same digests (sorted entries, owner 0, time 0, every folder 0755).
 */
export function buildImage(work: string, dir: string, image: ImageContent): string {
    const rootfs = mkdtempSync(path.join(work, "rootfs-"));
    chmodSync(rootfs, 0o755);
    for (const file of image.files) {
        const target = path.join(rootfs, file.name);
        for (let folder = path.dirname(target); folder !== rootfs; folder = path.dirname(folder)) {
            mkdirSync(folder, { recursive: true });
            chmodSync(folder, 0o755);
        }
        writeFileSync(target, file.bytes);
        chmodSync(target, file.mode);
    }
    const layerPath = `${rootfs}.tar`;
    const topLevel = [...new Set(image.files.map((file) => file.name.replace(/^\/+/, "").split("/")[0]))].sort();
    mustRun(work, "tar", [
        "--create",
        "--file",
        layerPath,
        "--directory",
        rootfs,
        "--format=gnu",
        "--sort=name",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "--mtime=@0",
        ...topLevel,
    ]);
    const layer = readFileSync(layerPath);
    rmSync(layerPath);
    rmSync(rootfs, { recursive: true, force: true });
    const config = JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: {
            ...(image.entrypoint ? { Entrypoint: image.entrypoint } : {}),
            ...(image.env ? { Env: image.env } : {}),
            ...(image.labels ? { Labels: image.labels } : {}),
        },
        rootfs: { type: "layers", diff_ids: [sha256(layer)] },
    });
    const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
            mediaType: "application/vnd.oci.image.config.v1+json",
            digest: sha256(config),
            size: Buffer.byteLength(config),
        },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha256(layer), size: layer.length }],
    });
    mkdirSync(path.join(dir, "blobs", "sha256"), { recursive: true });
    for (const blob of [layer, Buffer.from(config), Buffer.from(manifest)]) {
        writeFileSync(path.join(dir, "blobs", "sha256", sha256(blob).slice("sha256:".length)), blob);
    }
    writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    writeFileSync(
        path.join(dir, "index.json"),
        JSON.stringify({
            schemaVersion: 2,
            manifests: [
                {
                    mediaType: "application/vnd.oci.image.manifest.v1+json",
                    digest: sha256(manifest),
                    size: Buffer.byteLength(manifest),
                    annotations: image.annotations,
                },
            ],
        }),
    );
    return sha256(manifest);
}

/** Where skopeo pulls an image from: `host` (`127.0.0.1:PORT`) and the image's name and tag. */
export interface ImageSource {
    host: string;
    image: string;
}

export class RealRegistry {
    /** `127.0.0.1:PORT`, the server key of a docker config. */
    readonly host: string;
    private registry: ChildProcess | undefined;
    private exited: Promise<void> = Promise.resolve();
    /** The manifest as the registry stores it after the push (skopeo compresses the layer on the way). */
    private pushedManifest = "";
    private readonly policy: string;
    /** Pushes the image; never handed to the code under test. */
    private readonly pusher = { user: "e2e-pusher", password: randomBytes(24).toString("hex") };

    private constructor(
        readonly work: string,
        port: number,
    ) {
        this.host = `127.0.0.1:${port}`;
        this.policy = path.join(work, "policy.json");
    }

    /** Builds the image, starts the registry for `users`, pushes the image under each of `names`. */
    static async start(users: RegistryUser[], names: string[] = [image]): Promise<RealRegistry> {
        const registry = new RealRegistry(mkdtempSync(path.join(tmpdir(), "registry-pull-e2e-")), await freePort());
        // Always stop the registry: on success, failure, or an interrupted run.
        process.once("exit", () => registry.registry?.kill("SIGKILL"));
        writeFileSync(registry.policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
        const layout = path.join(registry.work, "image");
        buildImage(registry.work, layout, {
            files: [{ name: "hello.txt", bytes: Buffer.from(helloText), mode: 0o644 }],
            annotations: { "org.opencontainers.image.ref.name": "tiny" },
        });
        await registry.restart(users);
        // The same layout pushed the same way: one manifest for every name.
        for (const name of names) registry.pushedManifest = registry.push(`oci:${layout}:tiny`, name);
        return registry;
    }

    /** Pushes an image (a skopeo source) as `reference` (`repository:tag`) and returns the stored manifest. */
    push(source: string, reference: string): string {
        const pusher = `${this.pusher.user}:${this.pusher.password}`;
        mustRun(this.work, "skopeo", [
            "copy",
            "--policy",
            this.policy,
            "--dest-tls-verify=false",
            "--dest-creds",
            pusher,
            source,
            `docker://${this.host}/${reference}`,
        ]);
        return mustRun(this.work, "skopeo", [
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            pusher,
            `docker://${this.host}/${reference}`,
        ]);
    }

    /** The Authorization header of the registry's own pusher, for a front that reads on others' behalf. */
    get backendAuthorization(): string {
        return `Basic ${Buffer.from(`${this.pusher.user}:${this.pusher.password}`).toString("base64")}`;
    }

    /** htpasswd lines (bcrypt). htpasswd refuses passwords over 256 bytes; bcrypt reads only 72 of them. */
    private htpasswdLine({ user, password }: RegistryUser): string {
        return mustRun(this.work, "htpasswd", ["-niB", user], {
            input: Buffer.from(password).subarray(0, bcryptBytes).toString(),
        }).trim();
    }

    /** (Re)starts the registry on the same port and storage, accepting exactly `users` (and the pusher). */
    async restart(users: RegistryUser[]): Promise<void> {
        await this.stop();
        writeFileSync(
            path.join(this.work, "htpasswd"),
            [this.pusher, ...users].map((u) => this.htpasswdLine(u)).join("\n") + "\n",
        );
        const configPath = path.join(this.work, "registry.yml");
        writeFileSync(
            configPath,
            [
                "version: 0.1",
                "log: { level: info }",
                `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(this.work, "storage"))} } }`,
                `http: { addr: "${this.host}", secret: ${JSON.stringify(randomBytes(16).toString("hex"))} }`,
                `auth: { htpasswd: { realm: e2e, path: ${JSON.stringify(path.join(this.work, "htpasswd"))} } }`,
                "",
            ].join("\n"),
        );
        const log = openSync(path.join(this.work, "registry.log"), "w");
        const child = spawn("docker-registry", ["serve", configPath], { stdio: ["ignore", log, log] });
        this.registry = child;
        this.exited = new Promise((done) => child.once("close", () => done()));
        const spawned = await new Promise<Error | undefined>((done) => {
            child.once("spawn", () => done(undefined));
            child.once("error", (error) => done(error));
        });
        if (spawned)
            throw new Error(
                `docker-registry could not start (${(spawned as NodeJS.ErrnoException).code}): install Debian's docker-registry as .ci/run does`,
            );
        const deadline = Date.now() + 20_000;
        for (;;) {
            if (child.exitCode !== null)
                throw new Error(
                    `docker-registry exited: ${readFileSync(path.join(this.work, "registry.log"), "utf8")}`,
                );
            const status = await fetch(`http://${this.host}/v2/`).then(
                (response) => response.status,
                () => 0,
            );
            if (status === 401) return;
            if (Date.now() > deadline)
                throw new Error(`docker-registry did not answer 401 on /v2/ (last status ${status})`);
            await new Promise((done) => setTimeout(done, 100));
        }
    }

    async stop(): Promise<void> {
        const child = this.registry;
        if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await this.exited;
    }

    /** Stops the registry and removes its files. */
    async remove(): Promise<void> {
        await this.stop();
        rmSync(this.work, { recursive: true, force: true });
    }

    writeAuthfile(name: string, json: string): string {
        const file = path.join(this.work, `${name}.json`);
        writeFileSync(file, json);
        chmodSync(file, 0o600);
        return file;
    }

    passwordIn(authfile: string, host = this.host): string {
        return JSON.parse(readFileSync(authfile, "utf8")).auths[host].password;
    }

    /** Pulls the whole image (manifest, config, layer) with this authfile. */
    private async pull(authfile: string, from: ImageSource) {
        const layout = path.join(this.work, `pulled-${path.basename(authfile, ".json")}`);
        rmSync(layout, { recursive: true, force: true });
        const result = await runSkopeo(this.work, [
            "copy",
            "--policy",
            this.policy,
            "--src-tls-verify=false",
            "--src-authfile",
            authfile,
            `docker://${from.host}/${from.image}`,
            `oci:${layout}:tiny`,
        ]);
        return { ...result, layout };
    }

    /** Reads the image's manifest with this authfile. */
    private inspect(authfile: string, from: ImageSource) {
        return runSkopeo(this.work, [
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--authfile",
            authfile,
            `docker://${from.host}/${from.image}`,
        ]);
    }

    /**
     * Pulls with skopeo and this authfile, from this registry or (`from`) through a front of it such
     * as test/support/artifact-registry-front.ts, and checks what arrived is what was pushed.
     */
    async assertPulls(authfile: string, from: ImageSource = { host: this.host, image }): Promise<void> {
        const manifest = await this.inspect(authfile, from);
        assert.equal(manifest.status, 0, manifest.stderr);
        assert.equal(manifest.stdout, this.pushedManifest, "the registry serves the manifest that was pushed");
        const result = await this.pull(authfile, from);
        assert.equal(result.status, 0, result.stderr);
        assert.ok(pulledLayer(result.layout).includes(helloText), "the pulled layer holds the file that was pushed");
    }

    /**
     * skopeo is refused for the credential (401; `because` says otherwise, e.g. a 403 for what an
     * authenticated caller may not read), not for any other reason (connection, TLS, missing image).
     */
    async assertRefused(
        authfile: string,
        from: ImageSource = { host: this.host, image },
        because = /unauthorized|authentication required|401/i,
    ): Promise<void> {
        const result = await this.inspect(authfile, from);
        assert.notEqual(result.status, 0, "skopeo must not read the manifest");
        assert.match(result.stderr, because, result.stderr);
    }
}

/** The single layer of a pulled OCI layout, uncompressed. */
function pulledLayer(layout: string): string {
    const blob = (digest: string) => readFileSync(path.join(layout, "blobs", "sha256", digest.slice("sha256:".length)));
    const index = JSON.parse(readFileSync(path.join(layout, "index.json"), "utf8"));
    const manifest = JSON.parse(blob(index.manifests[0].digest).toString("utf8"));
    const layer = blob(manifest.layers[0].digest);
    return (manifest.layers[0].mediaType.endsWith("+gzip") ? gunzipSync(layer) : layer).toString("latin1");
}
