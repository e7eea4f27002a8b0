/**
 * End to end against a real registry: Debian's `docker-registry` (distribution 2.8) with htpasswd
 * authentication on 127.0.0.1, a tiny image built offline and pushed with skopeo, then the
 * `.dockerconfigjson` the component produces (evaluated under the mocks) given to
 * `skopeo --authfile`: the right credential pulls, wrong ones are refused with 401.
 *
 * skopeo (containers/image) reads only the `auth` field of an authfile (FACTS.md section 2), so this
 * proves the `auth` field; the username/password fields are the same values by the encoder's tests.
 * A missing tool fails the test: CI installs them (.ci/run).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { resolve, settled, startMocks } from "./support/mocks";
import { serviceAccountKeyFile } from "./support/key-file";
import type { RegistryPullSecretArgs } from "../components";

startMocks();
import { RegistryPullSecret, dockerConfigJson } from "../components";

/** bcrypt reads only the first 72 bytes of a password (Go's x/crypto and Apache's htpasswd alike). */
const bcryptBytes = 72;

const work = mkdtempSync(path.join(tmpdir(), "registry-pull-e2e-"));
const image = "e2e/tiny:1";
/** The key file the mocks issue for the created service account `image-puller` (test/support/mocks.ts). */
const keyFile = serviceAccountKeyFile("image-puller@example-project.iam.gserviceaccount.com");
/**
 * What Artifact Registry accepts for a key, set up here independently of the component's constants:
 * the user `_json_key_base64` with the key file in base64 (FACTS.md section 3).
 */
const keyUser = "_json_key_base64";
const keyPassword = Buffer.from(keyFile, "utf8").toString("base64");
const userPassword = randomBytes(24).toString("hex");

let registry: ChildProcess | undefined;
let registryExited: Promise<void> = Promise.resolve();
let host = "";
/** The manifest as the registry stores it after the push (skopeo compresses the layer on the way). */
let pushedManifest = "";
const helloText = "pulled with the component's .dockerconfigjson\n";

/** Runs a tool; a missing tool is an error, never a skip. */
function run(tool: string, args: string[], options: { input?: string } = {}) {
    const result = spawnSync(tool, args, {
        encoding: "utf8",
        input: options.input,
        timeout: 120_000,
        // skopeo must see only the authfile it is given: no ~/.docker/config.json, no auth.json.
        env: {
            PATH: process.env.PATH,
            HOME: work,
            XDG_RUNTIME_DIR: path.join(work, "run"),
            XDG_CONFIG_HOME: path.join(work, "config"),
        },
    });
    if (result.error) {
        throw new Error(
            `${tool} could not run (${(result.error as NodeJS.ErrnoException).code}): install it as .ci/run does`,
        );
    }
    return result;
}

function mustRun(tool: string, args: string[], options: { input?: string } = {}): string {
    const result = run(tool, args, options);
    assert.equal(result.status, 0, `${tool} ${args[0]} failed: ${result.stderr}`);
    return result.stdout;
}

async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as { port: number };
    await new Promise<void>((done) => server.close(() => done()));
    return port;
}

function sha256(bytes: Buffer | string): string {
    return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A one-layer OCI image layout, written by hand: no network, no Docker engine. */
function buildImage(dir: string): void {
    const rootfs = path.join(work, "rootfs");
    mkdirSync(rootfs);
    writeFileSync(path.join(rootfs, "hello.txt"), helloText);
    const layerPath = path.join(work, "layer.tar");
    mustRun("tar", [
        "--create",
        "--file",
        layerPath,
        "--directory",
        rootfs,
        "--owner=0",
        "--group=0",
        "--mtime=@0",
        "hello.txt",
    ]);
    const layer = readFileSync(layerPath);
    const config = JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: {},
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
                    annotations: { "org.opencontainers.image.ref.name": "tiny" },
                },
            ],
        }),
    );
}

/** htpasswd lines (bcrypt). htpasswd refuses passwords over 256 bytes; bcrypt reads only 72 of them. */
function htpasswdLine(user: string, password: string): string {
    return mustRun("htpasswd", ["-niB", user], {
        input: Buffer.from(password).subarray(0, bcryptBytes).toString(),
    }).trim();
}

async function startRegistry(): Promise<void> {
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    writeFileSync(
        path.join(work, "htpasswd"),
        [htpasswdLine("ci-user", userPassword), htpasswdLine(keyUser, keyPassword)].join("\n") + "\n",
    );
    const configPath = path.join(work, "registry.yml");
    writeFileSync(
        configPath,
        [
            "version: 0.1",
            "log: { level: info }",
            `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(work, "storage"))} } }`,
            `http: { addr: "${host}", secret: ${JSON.stringify(randomBytes(16).toString("hex"))} }`,
            `auth: { htpasswd: { realm: e2e, path: ${JSON.stringify(path.join(work, "htpasswd"))} } }`,
            "",
        ].join("\n"),
    );
    const log = openSync(path.join(work, "registry.log"), "w");
    const child = spawn("docker-registry", ["serve", configPath], { stdio: ["ignore", log, log] });
    registry = child;
    registryExited = new Promise((done) => child.once("close", () => done()));
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
            throw new Error(`docker-registry exited: ${readFileSync(path.join(work, "registry.log"), "utf8")}`);
        const status = await fetch(`http://${host}/v2/`).then(
            (response) => response.status,
            () => 0,
        );
        if (status === 401) return;
        if (Date.now() > deadline)
            throw new Error(`docker-registry did not answer 401 on /v2/ (last status ${status})`);
        await new Promise((done) => setTimeout(done, 100));
    }
}

async function stopRegistry(): Promise<void> {
    if (registry && registry.exitCode === null && registry.signalCode === null) registry.kill("SIGTERM");
    await registryExited;
}

// Always stop the registry and remove its files: on success, failure, or an interrupted run.
process.once("exit", () => registry?.kill("SIGKILL"));
after(async () => {
    await stopRegistry();
    rmSync(work, { recursive: true, force: true });
});

const policy = path.join(work, "policy.json");

before(async () => {
    writeFileSync(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
    const layout = path.join(work, "image");
    buildImage(layout);
    await startRegistry();
    mustRun("skopeo", [
        "copy",
        "--policy",
        policy,
        "--dest-tls-verify=false",
        "--dest-creds",
        `ci-user:${userPassword}`,
        `oci:${layout}:tiny`,
        `docker://${host}/${image}`,
    ]);
    pushedManifest = mustRun("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        `ci-user:${userPassword}`,
        `docker://${host}/${image}`,
    ]);
});

/** The component's `.dockerconfigjson` for this registry, written where skopeo can read it. */
async function authfileFrom(
    name: string,
    credential: Pick<RegistryPullSecretArgs, "gcp" | "credentials">,
): Promise<string> {
    const component = new RegistryPullSecret(name, { namespaces: ["e2e"], registries: [host], ...credential });
    const config = await resolve(component.dockerConfigJson);
    await settled();
    assert.equal(config.secret, true);
    return writeAuthfile(name, config.value);
}

function writeAuthfile(name: string, json: string): string {
    const file = path.join(work, `${name}.json`);
    writeFileSync(file, json);
    chmodSync(file, 0o600);
    return file;
}

function passwordIn(authfile: string): string {
    return JSON.parse(readFileSync(authfile, "utf8")).auths[host].password;
}

/** Pulls the whole image (manifest, config, layer) with this authfile. */
function pull(authfile: string) {
    const layout = path.join(work, `pulled-${path.basename(authfile, ".json")}`);
    const result = run("skopeo", [
        "copy",
        "--policy",
        policy,
        "--src-tls-verify=false",
        "--src-authfile",
        authfile,
        `docker://${host}/${image}`,
        `oci:${layout}:tiny`,
    ]);
    return { ...result, layout };
}

/** Reads the image's manifest with this authfile. */
function inspect(authfile: string) {
    return run("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--authfile",
        authfile,
        `docker://${host}/${image}`,
    ]);
}

function assertPulls(authfile: string): void {
    const manifest = inspect(authfile);
    assert.equal(manifest.status, 0, manifest.stderr);
    assert.equal(manifest.stdout, pushedManifest, "the registry serves the manifest that was pushed");
    const result = pull(authfile);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(pulledLayer(result.layout).includes(helloText), "the pulled layer holds the file that was pushed");
}

/** The single layer of a pulled OCI layout, uncompressed. */
function pulledLayer(layout: string): string {
    const blob = (digest: string) => readFileSync(path.join(layout, "blobs", "sha256", digest.slice("sha256:".length)));
    const index = JSON.parse(readFileSync(path.join(layout, "index.json"), "utf8"));
    const manifest = JSON.parse(blob(index.manifests[0].digest).toString("utf8"));
    const layer = blob(manifest.layers[0].digest);
    return (manifest.layers[0].mediaType.endsWith("+gzip") ? gunzipSync(layer) : layer).toString("latin1");
}

function assertRefused(authfile: string): void {
    const result = inspect(authfile);
    assert.notEqual(result.status, 0, "skopeo must not read the manifest");
    // Refused for the credential, not for any other reason (connection, TLS, missing image).
    assert.match(result.stderr, /unauthorized|authentication required|401/i, result.stderr);
}

test("the registry refuses a pull that carries no credential at all (the checks below can fail)", () => {
    assertRefused(writeAuthfile("no-credential", JSON.stringify({ auths: {} })));
});

test("credentials mode: the component's docker config pulls the image", async () => {
    assertPulls(
        await authfileFrom("any-registry", {
            credentials: { username: "ci-user", password: pulumi.secret(userPassword) },
        }),
    );
});

test("credentials mode: a wrong password (different within bcrypt's first 72 bytes) is refused", async () => {
    const wrong = (userPassword[0] === "a" ? "b" : "a") + userPassword.slice(1);
    assert.notEqual(wrong.slice(0, bcryptBytes), userPassword.slice(0, bcryptBytes));
    assertRefused(await authfileFrom("wrong-password", { credentials: { username: "ci-user", password: wrong } }));
});

test("credentials mode: the right password under another username is refused", async () => {
    assertRefused(await authfileFrom("wrong-user", { credentials: { username: "ci-usr", password: userPassword } }));
});

const gcpKey = {
    project: "example-project",
    serviceAccountId: "image-puller",
    repositories: [{ location: "us", repository: "gcr.io" }],
};

test("service-account key mode: the created key's docker config (_json_key_base64) pulls the image", async () => {
    const authfile = await authfileFrom("created-key", { gcp: gcpKey });
    // The registry compares bcrypt's 72 bytes; the rest of the password is checked byte for byte here.
    assert.equal(passwordIn(authfile), keyPassword);
    assertPulls(authfile);
});

for (const [form, existingKey] of [
    ["raw JSON", keyFile],
    ["base64", keyPassword],
] as const) {
    test(`existing key mode (${form}): the component's docker config pulls the image`, async () => {
        const authfile = await authfileFrom(`existing-key-${form.replace(/\W/g, "")}`, {
            gcp: { project: "example-project", existingKey: pulumi.secret(existingKey) },
        });
        assert.equal(passwordIn(authfile), keyPassword);
        assertPulls(authfile);
    });
}

test("service-account key mode: another account's key (different within bcrypt's first 72 bytes) is refused", async () => {
    const otherKey = serviceAccountKeyFile("rogue@another-project.iam.gserviceaccount.com");
    const authfile = await authfileFrom("other-key", {
        gcp: { project: "example-project", existingKey: pulumi.secret(otherKey) },
    });
    assert.notEqual(passwordIn(authfile).slice(0, bcryptBytes), keyPassword.slice(0, bcryptBytes));
    assertRefused(authfile);
});

test("service-account key mode: the key encoded twice (the classic bug) would be refused", () => {
    const doubled = Buffer.from(keyPassword).toString("base64");
    assertRefused(
        writeAuthfile("double-encoded", dockerConfigJson([{ server: host, username: keyUser, password: doubled }])),
    );
});

test("the registry is stopped afterwards (checked by the last test: nothing listens once it is killed)", async () => {
    await stopRegistry();
    const status = await fetch(`http://${host}/v2/`).then(
        (response) => response.status,
        () => 0,
    );
    assert.equal(status, 0, "the port no longer answers");
});
