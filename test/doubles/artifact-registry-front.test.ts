/**
 * The Artifact Registry front (test/support/artifact-registry-front.ts) before Debian's real
 * docker-registry, with skopeo pulling through it: a key pulls only while it exists, its account is
 * enabled and holds the reader role on the repository the pulled name belongs to; a forged key file
 * (the right key id, another private key) proves nothing; an access token pulls only while a token
 * double vouches for it; with no credential, only a repository `allUsers` may read. The state file
 * is edited here as the Google Cloud double would change it.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { dockerConfigJson } from "../../components";
import {
    allUsers,
    issuedBy,
    repositoryOfPull,
    startArtifactRegistryFront,
    type ArtifactRegistryFront,
} from "../support/artifact-registry-front";
import { addMember, issueKey } from "../support/google-cloud-double/google-apis";
import { instantPropagation } from "../support/google-cloud-double/propagation";
import {
    changeGoogleCloud,
    newProject,
    newServiceAccount,
    writeGoogleCloud,
} from "../support/google-cloud-double/state";
import { ManualClock, startMetadataServerDouble, type TokenDouble } from "../support/google-token-doubles";
import { pullWithDockerConfig } from "../support/registry-pull";
import { RealRegistry } from "../support/real-registry";

const project = "example-project-dev";
const email = `image-puller@${project}.iam.gserviceaccount.com`;
const reader = "roles/artifactregistry.reader";
const gcrImage = `${project}/tiny:1`;
const pkgImage = `${project}/images/tiny:1`;
const principal =
    "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/example-project-dev.svc.id.goog/subject/ns/pull-token-refresher/sa/token-refresher";
const frontUser = { user: "artifact-registry-front", password: "front-password-9d1f" };

let work: string;
let stateFile: string;
let registry: RealRegistry;
let front: ArtifactRegistryFront;
let metadata: TokenDouble;
const clock = new ManualClock();
/** The key file's base64, as `gcp.serviceaccount.Key.privateKey` holds it. */
let keyBase64: string;

before(async () => {
    work = mkdtempSync(path.join(tmpdir(), "front-test-"));
    stateFile = path.join(work, "google.json");
    const home = newProject("123456789012", ["asia/asia.gcr.io", "asia-northeast1/images"]);
    home.serviceAccounts[email] = newServiceAccount();
    // Instant: these tests prove who the front lets through; the "propagation" tests below make their own slow Google.
    const google = { projects: { [project]: home }, auditLog: [], propagation: instantPropagation() };
    keyBase64 = issueKey(google, email);
    addMember(home.repositories["asia/asia.gcr.io"].iamPolicy, reader, `serviceAccount:${email}`);
    addMember(home.repositories["asia/asia.gcr.io"].iamPolicy, reader, principal);
    writeGoogleCloud(stateFile, google);
    registry = await RealRegistry.start([frontUser], [gcrImage, pkgImage]);
    metadata = await startMetadataServerDouble(clock.now, 3600);
    front = await startArtifactRegistryFront({
        stateFile,
        upstream: { host: registry.host, ...frontUser },
        standsFor: ["asia.gcr.io", "asia-northeast1-docker.pkg.dev"],
    });
    front.addTokenIssuer(issuedBy(metadata, principal, clock.now));
});
after(async () => {
    await front?.close();
    await metadata?.close();
    await registry?.remove();
    rmSync(work, { recursive: true, force: true });
});

const gcr = () => ({ host: front.hosts["asia.gcr.io"], image: gcrImage });
const pkg = () => ({ host: front.hosts["asia-northeast1-docker.pkg.dev"], image: pkgImage });
/** A docker config for both fronts with this credential, written as skopeo's authfile. */
function authfile(name: string, username: string, password: string): string {
    const servers = Object.values(front.hosts);
    return registry.writeAuthfile(name, dockerConfigJson(servers.map((server) => ({ server, username, password }))));
}
const denied = /denied|403/i;
const unauthenticated = /denied: Unauthenticated request/;

describe("which repository a pull reads", () => {
    it("gcr.io hosts are repositories named after the host; docker.pkg.dev names PROJECT/REPOSITORY/IMAGE", () => {
        assert.deepEqual(repositoryOfPull("asia.gcr.io", "p/tiny"), {
            project: "p",
            location: "asia",
            repository: "asia.gcr.io",
        });
        assert.deepEqual(repositoryOfPull("eu.gcr.io", "p/team/tiny"), {
            project: "p",
            location: "europe",
            repository: "eu.gcr.io",
        });
        assert.deepEqual(repositoryOfPull("gcr.io", "p/tiny"), { project: "p", location: "us", repository: "gcr.io" });
        assert.deepEqual(repositoryOfPull("asia-northeast1-docker.pkg.dev", "p/images/tiny"), {
            project: "p",
            location: "asia-northeast1",
            repository: "images",
        });
        assert.equal(repositoryOfPull("asia-northeast1-docker.pkg.dev", "p/tiny"), undefined);
    });
});

describe("the Docker token flow", () => {
    const basic = (username: string, password: string) =>
        `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    const tokenFor = (host: string, scope: string, authorization?: string) =>
        fetch(`http://${host}/v2/token?scope=${encodeURIComponent(scope)}`, {
            headers: authorization ? { authorization } : {},
        });

    it("challenges with a Bearer realm on the host itself: service only on gcr.io hosts; POST to the realm answers 404 as GCR's does", async () => {
        const gcrHello = await fetch(`http://${gcr().host}/v2/`);
        assert.equal(gcrHello.status, 401);
        assert.equal(
            gcrHello.headers.get("www-authenticate"),
            `Bearer realm="http://${gcr().host}/v2/token",service="asia.gcr.io"`,
        );
        const pkgHello = await fetch(`http://${pkg().host}/v2/`, {
            headers: { authorization: basic("_json_key_base64", keyBase64) },
        });
        assert.equal(pkgHello.status, 401, "Basic credentials on a registry request are answered with the challenge");
        assert.equal(pkgHello.headers.get("www-authenticate"), `Bearer realm="http://${pkg().host}/v2/token"`);
        assert.equal((await fetch(`http://${gcr().host}/v2/token`, { method: "POST" })).status, 404);
    });

    it("refuses a credential that proves nothing at the token endpoint (401), not at the manifest", async () => {
        const answer = await tokenFor(gcr().host, `repository:${project}/tiny:pull`, basic("someone", "password"));
        assert.equal(answer.status, 401);
        assert.deepEqual(await answer.json(), {
            errors: [{ code: "UNAUTHORIZED", message: "not authenticated: No valid credential was supplied." }],
        });
        assert.deepEqual(
            { path: front.decisions.at(-1)!.path, status: front.decisions.at(-1)!.status },
            { path: "/v2/token", status: 401 },
        );
    });

    it("a token pulls only the repository its scope names (401 insufficient_scope elsewhere), and stops when its key is deleted", async () => {
        const answer = await tokenFor(
            gcr().host,
            `repository:${project}/tiny:pull`,
            basic("_json_key_base64", keyBase64),
        );
        assert.equal(answer.status, 200);
        const { token, expires_in: expiresIn } = (await answer.json()) as { token: string; expires_in: number };
        assert.equal(expiresIn, 3600);
        const manifest = (name: string) =>
            fetch(`http://${gcr().host}/v2/${name}/manifests/1`, {
                headers: { authorization: `Bearer ${token}`, accept: "application/vnd.oci.image.manifest.v1+json" },
            });
        assert.equal((await manifest(`${project}/tiny`)).status, 200);
        const other = await manifest(`${project}/other`);
        assert.equal(other.status, 401);
        assert.match(other.headers.get("www-authenticate") ?? "", /error="insufficient_scope"/);
        const keys = JSON.parse(readFileSync(stateFile, "utf8")).projects[project].serviceAccounts[email].keys;
        changeGoogleCloud(stateFile, (g) => void (g.projects[project].serviceAccounts[email].keys = {}));
        const afterDelete = await manifest(`${project}/tiny`);
        assert.equal(afterDelete.status, 401);
        assert.match(afterDelete.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
        changeGoogleCloud(stateFile, (g) => void (g.projects[project].serviceAccounts[email].keys = keys));
        assert.equal((await manifest(`${project}/tiny`)).status, 200);
        assert.ok(
            front.decisions.every((d) => !JSON.stringify(d).includes(token)),
            "no token in the decisions",
        );
    });
});

describe("keys", () => {
    it("_json_key_base64 with the key pulls from a repository its account may read, and is denied where it may not", async () => {
        const file = authfile("key-base64", "_json_key_base64", keyBase64);
        await registry.assertPulls(file, gcr());
        await registry.assertRefused(file, pkg(), denied);
    });

    it("_json_key with the raw key file pulls the same", async () => {
        await registry.assertPulls(
            authfile("key-json", "_json_key", Buffer.from(keyBase64, "base64").toString("utf8")),
            gcr(),
        );
    });

    it("no credential, or a forged key file (the right key id and account, another private key), is refused with 401", async () => {
        const forged = JSON.parse(Buffer.from(keyBase64, "base64").toString("utf8"));
        forged.private_key = generateKeyPairSync("rsa", { modulusLength: 2048 })
            .privateKey.export({ type: "pkcs8", format: "pem" })
            .toString();
        await registry.assertRefused(authfile("forged", "_json_key", JSON.stringify(forged)), gcr());
        await registry.assertRefused(authfile("nobody", "someone", "password"), gcr());
        assert.equal((await fetch(`http://${gcr().host}/v2/`)).status, 401);
    });

    it("the fast pull client reads the same decisions: 200 with the key, 403 without the grant", async () => {
        const config = dockerConfigJson(
            Object.values(front.hosts).map((server) => ({ server, username: "_json_key_base64", password: keyBase64 })),
        );
        assert.deepEqual(await pullWithDockerConfig(config, gcr().host, gcr().image), { pulled: true });
        assert.deepEqual(await pullWithDockerConfig(config, pkg().host, pkg().image), {
            pulled: false,
            status: 403,
            what: "manifest",
        });
    });

    it("a grant added later lets the key pull there; a disabled account or a deleted key pulls nowhere", async () => {
        const file = authfile("key-later", "_json_key_base64", keyBase64);
        changeGoogleCloud(stateFile, (g) =>
            addMember(
                g.projects[project].repositories["asia-northeast1/images"].iamPolicy,
                reader,
                `serviceAccount:${email}`,
            ),
        );
        await registry.assertPulls(file, pkg());
        changeGoogleCloud(stateFile, (g) => void (g.projects[project].serviceAccounts[email].disabled = true));
        await registry.assertRefused(file, gcr());
        changeGoogleCloud(stateFile, (g) => {
            const account = g.projects[project].serviceAccounts[email];
            account.disabled = false;
            account.keys = {};
        });
        await registry.assertRefused(file, gcr());
        assert.ok(
            front.decisions.every((d) => !JSON.stringify(d).includes(keyBase64.slice(0, 40))),
            "no key in the decisions",
        );
    });
});

describe("access tokens", () => {
    it("oauth2accesstoken pulls while its issuer vouches for it and its member holds the role; not after it expires", async () => {
        const response = await fetch(`${metadata.url}/computeMetadata/v1/instance/service-accounts/default/token`, {
            headers: { "Metadata-Flavor": "Google" },
        });
        const { access_token: token } = (await response.json()) as { access_token: string };
        const file = authfile("token", "oauth2accesstoken", token);
        await registry.assertPulls(file, gcr());
        await registry.assertRefused(file, pkg(), denied);
        await registry.assertRefused(authfile("made-up", "oauth2accesstoken", "ya29.made-up"), gcr());
        clock.advance(3600 * 1000);
        await registry.assertRefused(file, gcr());
    });
});

describe("public repositories", () => {
    it("with allUsers as reader, a pull without any credential goes through; elsewhere an anonymous token is denied with Artifact Registry's Unauthenticated request", async () => {
        const anonymous = registry.writeAuthfile("anonymous", JSON.stringify({ auths: {} }));
        await registry.assertRefused(anonymous, pkg(), unauthenticated);
        changeGoogleCloud(stateFile, (g) =>
            addMember(g.projects[project].repositories["asia-northeast1/images"].iamPolicy, reader, allUsers),
        );
        await registry.assertPulls(anonymous, pkg());
        await registry.assertRefused(anonymous, gcr(), unauthenticated);
        const challenge = await fetch(`http://${gcr().host}/v2/${gcrImage.replace(":", "/manifests/")}`);
        assert.equal(challenge.status, 401);
        assert.equal(
            challenge.headers.get("www-authenticate"),
            `Bearer realm="http://${gcr().host}/v2/token",service="asia.gcr.io",scope="repository:${gcrImage.split(":")[0]}:pull"`,
        );
        // An anonymous token is given for a private repository too; the manifest is what refuses it.
        const anonymousToken = await fetch(`http://${gcr().host}/v2/token?scope=repository:${project}/tiny:pull`);
        assert.equal(anonymousToken.status, 200);
        const { token } = (await anonymousToken.json()) as { token: string };
        const refused = await fetch(`http://${gcr().host}/v2/${gcrImage.replace(":", "/manifests/")}`, {
            headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(refused.status, 403);
        assert.match(
            ((await refused.json()) as { errors: { message: string }[] }).errors[0].message,
            /^Unauthenticated request\. Unauthenticated requests do not have permission "artifactregistry\.repositories\.downloadArtifacts" on resource "projects\/example-project-dev\/locations\/asia\/repositories\/asia\.gcr\.io"/,
        );
        const anonymousLetThrough = front.decisions.filter(
            (d) => d.member === allUsers && d.status === 200 && d.path !== "/v2/token",
        );
        assert.ok(anonymousLetThrough.length > 0);
        assert.ok(anonymousLetThrough.every((d) => d.registryHost === "asia-northeast1-docker.pkg.dev"));
        changeGoogleCloud(stateFile, (g) => {
            const policy = g.projects[project].repositories["asia-northeast1/images"].iamPolicy;
            for (const binding of policy.bindings) binding.members = binding.members.filter((m) => m !== allUsers);
        });
        await registry.assertRefused(anonymous, pkg(), unauthenticated);
    });
});
