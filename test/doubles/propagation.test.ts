/**
 * The Google Cloud double is as slow as Google (test/support/google-cloud-double/propagation.ts): a
 * grant or a revocation reaches the Artifact Registry front only after a delay drawn in its range, a
 * new key signs in only after its own delay, a key under `constraints/iam.serviceAccountKeyExpiryHours`
 * expires, and each refusal is the real answer. On a fake clock, at Google's documented order of
 * magnitude, through the front before Debian's real docker-registry.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { dockerConfigJson } from "../../components";
import {
    memberOfKey,
    startArtifactRegistryFront,
    type ArtifactRegistryFront,
} from "../support/artifact-registry-front";
import { addMember, createKey, findAccount, removeMember } from "../support/google-cloud-double/google-apis";
import {
    documentedDelays,
    drawDelayMs,
    propagateMemberChange,
    seenHolding,
    slowPropagation,
} from "../support/google-cloud-double/propagation";
import {
    changeGoogleCloud,
    newProject,
    newServiceAccount,
    writeGoogleCloud,
    type GoogleCloud,
    type Policy,
} from "../support/google-cloud-double/state";
import { pullWithDockerConfig } from "../support/registry-pull";
import { RealRegistry } from "../support/real-registry";

const project = "example-project-dev";
const email = `image-puller@${project}.iam.gserviceaccount.com`;
const member = `serviceAccount:${email}`;
const reader = "roles/artifactregistry.reader";
const t0 = Date.parse("2026-12-07T12:00:00Z");

function slowGoogle(seed?: number): GoogleCloud {
    const home = newProject("123456789012", ["asia-northeast1/images"]);
    home.serviceAccounts[email] = newServiceAccount();
    return { projects: { [project]: home }, auditLog: [], propagation: slowPropagation(documentedDelays, seed) };
}

const imagesPolicy = (google: GoogleCloud): Policy =>
    google.projects[project].repositories["asia-northeast1/images"].iamPolicy;

/** What the double's RepositoryIamMember create does at `atMs`: the binding written, its propagation recorded. */
function grant(google: GoogleCloud, atMs: number): number {
    addMember(imagesPolicy(google), reader, member);
    propagateMemberChange(google, imagesPolicy(google), { role: reader, member, granted: true, on: "images" }, atMs);
    return google.propagation.log.at(-1)!.delayMs;
}

function revoke(google: GoogleCloud, atMs: number): number {
    removeMember(imagesPolicy(google), reader, member);
    propagateMemberChange(google, imagesPolicy(google), { role: reader, member, granted: false, on: "images" }, atMs);
    return google.propagation.log.at(-1)!.delayMs;
}

const seen = (google: GoogleCloud, atMs: number, written: boolean) =>
    seenHolding(imagesPolicy(google), reader, member, written, atMs);

describe("propagation in the Google Cloud double", () => {
    it("draws every delay within its range, differently each time, and the same from the same seed", () => {
        const draws = (seed: number) => {
            const google = slowGoogle(seed);
            return Array.from({ length: 50 }, () => drawDelayMs(google, [120, 420], "grant", t0));
        };
        const first = draws(7);
        assert.ok(
            first.every((ms) => ms >= 120_000 && ms <= 420_000),
            "within 2 to 7 minutes",
        );
        assert.ok(new Set(first).size > 40, "not one value");
        assert.deepEqual(draws(7), first, "replayable from the seed");
        assert.notDeepEqual(draws(8), first);
    });

    it("a grant is not seen until its delay has passed; a revocation is still seen until its own", () => {
        const google = slowGoogle();
        const granted = grant(google, t0);
        assert.equal(seen(google, t0 + granted - 1, true), false, "the member cannot pull yet");
        assert.equal(seen(google, t0 + granted, true), true);
        const at = t0 + granted + 1000;
        const revoked = revoke(google, at);
        assert.equal(seen(google, at + revoked - 1, false), true, "the removed member still pulls");
        assert.equal(seen(google, at + revoked, false), false);
    });

    it("of a grant and a revocation both pending, the revocation written last decides once it is seen, whichever takes effect first", () => {
        const google = slowGoogle();
        const granted = grant(google, t0);
        const revoked = revoke(google, t0 + 1);
        const late = t0 + 1 + Math.max(granted, revoked) + 1;
        assert.equal(seen(google, late, false), false);
        assert.equal(seen(google, t0, false), false, "before either: not held");
    });

    it("a new key signs in only after its delay, with Google's invalid_grant refusal before; expiry under keyExpiryHours", () => {
        const google = slowGoogle();
        google.projects[project].keyExpiryHours = 8;
        const found = findAccount(google, `projects/-/serviceAccounts/${email}`)!;
        const created = createKey(google, found, "KEY_ALG_RSA_2048", new Date(t0));
        const delay = created.key.signsInAfterMs! - t0;
        assert.ok(delay >= 30_000 && delay <= 90_000, `a key signs in after 30 to 90 s, drew ${delay} ms`);
        assert.equal(created.key.validBeforeTime, "2026-12-07T20:00:00Z", "8 hours after creation");
        const keyFile = Buffer.from(created.privateKeyData, "base64").toString("utf8");
        assert.deepEqual(memberOfKey(google, keyFile, t0 + delay - 1), {
            refused: "invalid_grant: Invalid JWT Signature. (the new key has not propagated yet)",
        });
        assert.deepEqual(memberOfKey(google, keyFile, t0 + delay), { member });
        assert.deepEqual(memberOfKey(google, keyFile, Date.parse("2026-12-07T20:00:00Z")), {
            refused: "invalid_grant: Invalid JWT Signature. (the key expired)",
        });
    });
});

describe("the Artifact Registry front on a slow Google (fake clock)", () => {
    const image = `${project}/images/tiny:1`;
    const frontUser = { user: "artifact-registry-front", password: "front-password-5c2e" };
    let work: string;
    let stateFile: string;
    let registry: RealRegistry;
    let front: ArtifactRegistryFront;
    let now = t0;
    let keyDelay: number;
    let grantDelay: number;
    let config: string;

    before(async () => {
        work = mkdtempSync(path.join(tmpdir(), "propagation-test-"));
        stateFile = path.join(work, "google.json");
        const google = slowGoogle();
        const found = findAccount(google, `projects/-/serviceAccounts/${email}`)!;
        const created = createKey(google, found, "KEY_ALG_RSA_2048", new Date(t0));
        keyDelay = created.key.signsInAfterMs! - t0;
        grantDelay = grant(google, t0);
        writeGoogleCloud(stateFile, google);
        registry = await RealRegistry.start([frontUser], [image]);
        front = await startArtifactRegistryFront({
            stateFile,
            upstream: { host: registry.host, ...frontUser },
            standsFor: ["asia-northeast1-docker.pkg.dev"],
            now: () => now,
        });
        const host = front.hosts["asia-northeast1-docker.pkg.dev"];
        config = dockerConfigJson([{ server: host, username: "_json_key_base64", password: created.privateKeyData }]);
    });
    after(async () => {
        await front?.close();
        await registry?.remove();
        rmSync(work, { recursive: true, force: true });
    });

    const pull = () => pullWithDockerConfig(config, front.hosts["asia-northeast1-docker.pkg.dev"], image);
    const lastDecision = () => front.decisions.at(-1)!;

    it("refuses the new key with 401 at the token endpoint until it has propagated, then the grant with 403 until it has, then pulls", async () => {
        const first = Math.min(keyDelay, grantDelay);
        now = t0 + first - 1;
        const early = await pull();
        assert.equal(early.pulled, false);
        assert.ok([401, 403].includes((early as { status: number }).status));
        now = t0 + keyDelay - 1;
        assert.deepEqual(await pull(), { pulled: false, status: 401, what: "token" });
        assert.equal(lastDecision().path, "/v2/token");
        assert.equal(
            lastDecision().refused,
            "invalid_grant: Invalid JWT Signature. (the new key has not propagated yet)",
        );
        if (grantDelay > keyDelay) {
            now = t0 + grantDelay - 1;
            assert.deepEqual(await pull(), { pulled: false, status: 403, what: "manifest" });
        }
        now = t0 + Math.max(keyDelay, grantDelay);
        assert.deepEqual(await pull(), { pulled: true });
    });

    it("answers 403 with Artifact Registry's own denial while a grant has not taken effect", async () => {
        const host = front.hosts["asia-northeast1-docker.pkg.dev"];
        const auth = JSON.parse(config).auths[host].auth as string;
        // A revocation written now: still seen until its delay passes, then the denial.
        let revoked = 0;
        changeGoogleCloud(stateFile, (google) => {
            revoked = revoke(google, now);
        });
        assert.deepEqual(await pull(), { pulled: true }, "the revocation is not seen yet");
        now += revoked;
        const token = await fetch(`http://${host}/v2/token?scope=repository:${image.split(":")[0]}:pull`, {
            headers: { authorization: `Basic ${auth}` },
        });
        assert.equal(token.status, 200, "the token endpoint authenticates; the grant is judged at the manifest");
        const answer = await fetch(`http://${host}/v2/${image.replace(":", "/manifests/")}`, {
            headers: { authorization: `Bearer ${((await token.json()) as { token: string }).token}` },
        });
        assert.equal(answer.status, 403);
        assert.deepEqual(await answer.json(), {
            errors: [
                {
                    code: "DENIED",
                    message: `Permission "artifactregistry.repositories.downloadArtifacts" denied on resource "projects/${project}/locations/asia-northeast1/repositories/images" (or it may not exist)`,
                },
            ],
        });
    });
});
