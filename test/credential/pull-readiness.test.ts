/**
 * The readiness gate (components/credential/pull-readiness-provider.ts, rules in
 * components/rules/readiness.ts): what it asks which host, and that it waits, on a fake clock, until
 * a new key and its grant have propagated in the Google Cloud double at Google's documented order of
 * magnitude (minutes), asking the Artifact Registry front before Debian's real docker-registry with the
 * exact docker config entry a Secret would hold. Past its deadline it fails naming the host, the
 * repository and the registry's answer; neither its error nor its log lines hold the credential. How
 * one host is asked (Docker's token flow) is test/rules/pull-proof.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import {
    pullReadinessProvider,
    waitUntilPulls,
    type PullReadinessInputs,
    type ReadinessWorld,
} from "../../components/credential/pull-readiness-provider";
import { readinessProbes } from "../../components/rules/readiness";
import { startArtifactRegistryFront, type ArtifactRegistryFront } from "../support/artifact-registry-front";
import { addMember, createKey, findAccount } from "../support/google-cloud-double/google-apis";
import { documentedDelays, propagateMemberChange, slowPropagation } from "../support/google-cloud-double/propagation";
import {
    newProject,
    newServiceAccount,
    writeGoogleCloud,
    type GoogleCloud,
} from "../support/google-cloud-double/state";
import { pullWithDockerConfig } from "../support/registry-pull";
import { RealRegistry } from "../support/real-registry";
import { dockerConfigJson } from "../../components";

const project = "example-project-dev";
const email = `image-puller@${project}.iam.gserviceaccount.com`;
const member = `serviceAccount:${email}`;
const reader = "roles/artifactregistry.reader";
const repositories = [
    { location: "asia", repository: "asia.gcr.io" },
    { location: "asia-northeast1", repository: "images" },
];

describe("which hosts and repositories the gate asks", () => {
    it("a Google host is asked for the listed repositories it serves, by their path there", () => {
        assert.deepEqual(
            readinessProbes(["asia.gcr.io", "asia-northeast1-docker.pkg.dev", "gcr.io"], project, repositories, {}),
            [
                { host: "asia.gcr.io", repositories: [{ name: "asia/asia.gcr.io", path: project }] },
                {
                    host: "asia-northeast1-docker.pkg.dev",
                    repositories: [{ name: "asia-northeast1/images", path: `${project}/images` }],
                },
                { host: "gcr.io", repositories: [] },
            ],
        );
    });

    it("a mirror is asked for the repositories of the Google host it mirrors; another host for sign-in only", () => {
        assert.deepEqual(
            readinessProbes(["mirror.example.com:5000", "registry.example.com"], project, repositories, {
                "mirror.example.com:5000": "asia-northeast1-docker.pkg.dev",
            }),
            [
                {
                    host: "mirror.example.com:5000",
                    repositories: [{ name: "asia-northeast1/images", path: `${project}/images` }],
                },
                { host: "registry.example.com", repositories: [] },
            ],
        );
    });

    it("a glob is asked through the Google hosts it covers that serve a listed repository, never itself", () => {
        assert.deepEqual(
            readinessProbes(["*.gcr.io", "*-docker.pkg.dev", "*.example.com"], project, repositories, {}),
            [
                { host: "asia.gcr.io", repositories: [{ name: "asia/asia.gcr.io", path: project }] },
                {
                    host: "asia-northeast1-docker.pkg.dev",
                    repositories: [{ name: "asia-northeast1/images", path: `${project}/images` }],
                },
            ],
        );
    });
});

/** A clock (`clock.now`, which the fronts read too) the gate's sleeps move on at once, and the log lines it wrote. */
function fakeWorld(clock: { now: number }): ReadinessWorld & { lines: string[] } {
    const lines: string[] = [];
    return {
        fetch: (...args) => fetch(...args),
        sleep: (ms) => {
            clock.now += ms;
            return Promise.resolve();
        },
        now: () => clock.now,
        log: (message) => {
            lines.push(message);
            return Promise.resolve();
        },
        lines,
    };
}

describe("the gate against a Google as slow as documented (fake clock)", () => {
    const t0 = Date.parse("2026-12-07T12:00:00Z");
    const image = `${project}/images/tiny:1`;
    const frontUser = { user: "artifact-registry-front", password: "front-password-71aa" };
    let work: string;
    let registry: RealRegistry;
    const clock = { now: t0 };
    const fronts: ArtifactRegistryFront[] = [];

    before(async () => {
        work = mkdtempSync(path.join(tmpdir(), "pull-readiness-test-"));
        registry = await RealRegistry.start([frontUser], [image]);
    });
    after(async () => {
        for (const front of fronts) await front.close();
        await registry?.remove();
        rmSync(work, { recursive: true, force: true });
    });

    /** A Google where the key and the grant were written at t0, and a front before the registry. */
    async function slowWorld(seed: number) {
        const google: GoogleCloud = {
            projects: { [project]: newProject("123456789012", ["asia-northeast1/images"]) },
            auditLog: [],
            propagation: slowPropagation(documentedDelays, seed),
        };
        google.projects[project].serviceAccounts[email] = newServiceAccount();
        const found = findAccount(google, `projects/-/serviceAccounts/${email}`)!;
        const key = createKey(google, found, "KEY_ALG_RSA_2048", new Date(t0));
        const policy = google.projects[project].repositories["asia-northeast1/images"].iamPolicy;
        addMember(policy, reader, member);
        propagateMemberChange(google, policy, { role: reader, member, granted: true, on: "images" }, t0);
        const stateFile = path.join(work, `google-${seed}.json`);
        writeGoogleCloud(stateFile, google);
        const front = await startArtifactRegistryFront({
            stateFile,
            upstream: { host: registry.host, ...frontUser },
            standsFor: ["asia-northeast1-docker.pkg.dev"],
            now: () => clock.now,
        });
        fronts.push(front);
        const host = front.hosts["asia-northeast1-docker.pkg.dev"];
        const inputs: PullReadinessInputs = {
            username: "_json_key_base64",
            password: key.privateKeyData,
            probes: readinessProbes([host], project, [repositories[1]], { [host]: "asia-northeast1-docker.pkg.dev" }),
            timeoutSeconds: 600,
            component: "urn:pulumi:dev::registry-pull-secret::registry-pull-secret:index:RegistryPullSecret::regcred",
        };
        const delays = {
            key: key.key.signsInAfterMs! - t0,
            grant: google.propagation.log.at(-1)!.delayMs,
        };
        return { front, host, inputs, delays, keyFile: key.privateKeyData };
    }

    for (const seed of [1, 2, 3]) {
        it(`waits until the new key and its grant both took effect, then the Secret's docker config pulls (seed ${seed})`, async () => {
            const { host, inputs, delays, keyFile } = await slowWorld(seed);
            clock.now = t0;
            const world = fakeWorld(clock);
            const waited = await waitUntilPulls(world, inputs);
            const needed = Math.max(delays.key, delays.grant);
            assert.ok(waited >= needed, `waited ${waited} ms, Google needed ${needed} ms`);
            assert.ok(
                waited <= needed + 10_000,
                `at most one bounded retry (10 s) late: waited ${waited} ms for ${needed} ms`,
            );
            const config = dockerConfigJson([{ server: host, username: "_json_key_base64", password: keyFile }]);
            assert.deepEqual(await pullWithDockerConfig(config, host, image), { pulled: true });
            clock.now = t0 + needed - 1;
            assert.equal(
                (await pullWithDockerConfig(config, host, image)).pulled,
                false,
                "a moment earlier it could not",
            );
            // Progress every 20 s, naming what it waits for, in minutes of Google's time.
            assert.ok(world.lines.length >= Math.floor(needed / 20_000), world.lines.join("\n"));
            assert.match(
                world.lines[0],
                /^waiting for the new credential to be accepted, 0 s so far: 127\.0\.0\.1:\d+ refused sign-in \(401: unauthorized: not authenticated: No valid credential was supplied\.\)$/,
            );
            if (delays.grant > delays.key + 20_000) {
                assert.ok(
                    world.lines.some((line) =>
                        /^waiting for the grant on asia-northeast1\/images to take effect, \d+ s so far: 127\.0\.0\.1:\d+ refused pull on asia-northeast1\/images \(403: denied: Permission "artifactregistry\.repositories\.downloadArtifacts" denied on resource "projects\/example-project-dev\/locations\/asia-northeast1\/repositories\/images" \(or it may not exist\)\)$/.test(
                            line,
                        ),
                    ),
                    world.lines.join("\n"),
                );
            }
            assert.match(world.lines.at(-1)!, /^the new credential pulls from 127\.0\.0\.1:\d+ after \d+ s$/);
            for (const line of world.lines)
                assert.ok(!line.includes(keyFile.slice(0, 40)), "no key material in the log");
        });
    }

    it("fails after its deadline naming the host, the repository and the registry's refusal, never the credential", async () => {
        const { inputs, delays, keyFile, host } = await slowWorld(4);
        clock.now = t0;
        const world = fakeWorld(clock);
        const timeoutSeconds = Math.floor(Math.min(delays.grant, delays.key) / 1000) - 1;
        await assert.rejects(waitUntilPulls(world, { ...inputs, timeoutSeconds }), (error: Error) => {
            assert.equal(
                error.message,
                `the credential could not pull within ${timeoutSeconds} s (readiness.timeoutSeconds): ${host} refused sign-in (401: unauthorized: not authenticated: No valid credential was supplied.). The Secrets keep what they held. A grant or a new key can take Google 7 minutes or longer: run pulumi up again, or raise readiness.timeoutSeconds; for a registry this machine cannot reach, set readiness.wait to false`,
            );
            return true;
        });
        const stopped = clock.now - t0;
        assert.ok(stopped >= timeoutSeconds * 1000 && stopped < timeoutSeconds * 1000 + 1000, "stops at the deadline");
        const printed = world.lines.join("\n");
        for (const secret of [keyFile, Buffer.from(keyFile, "base64").toString("utf8"), "PRIVATE KEY"]) {
            assert.ok(!printed.includes(secret.slice(0, 40)));
        }
    });

    it("past its deadline with the key accepted, names the repository whose grant has not taken effect", async () => {
        let seed = 5;
        let world = await slowWorld(seed);
        while (world.delays.grant < world.delays.key + 2000) world = await slowWorld(++seed);
        clock.now = t0;
        const fake = fakeWorld(clock);
        const timeoutSeconds = Math.ceil(world.delays.key / 1000) + 1;
        await assert.rejects(waitUntilPulls(fake, { ...world.inputs, timeoutSeconds }), (error: Error) => {
            assert.match(
                error.message,
                /: 127\.0\.0\.1:\d+ refused pull on asia-northeast1\/images \(403: denied: Permission "artifactregistry\.repositories\.downloadArtifacts" denied on resource "projects\/example-project-dev\/locations\/asia-northeast1\/repositories\/images" \(or it may not exist\)\)\./,
            );
            return true;
        });
    });
});

describe("the gate's provider", () => {
    /** A world whose every registry answers at once, counting the requests. */
    function countingWorld() {
        const asked: string[] = [];
        const world: ReadinessWorld = {
            fetch: (url) => {
                asked.push(url as string);
                return Promise.resolve(new Response("{}", { status: 200 }));
            },
            sleep: () => Promise.resolve(),
            now: () => 0,
            log: () => Promise.resolve(),
        };
        return { world, asked };
    }
    const inputs: PullReadinessInputs = {
        username: "user",
        password: "old-password",
        probes: [{ host: "registry.example.com", repositories: [] }],
        timeoutSeconds: 600,
        component: "urn",
    };

    it("proves the credential again when it changes (a rotation, a new password), not when only the deadline does, and keeps no password", async () => {
        const { world, asked } = countingWorld();
        const provider = pullReadinessProvider(world);
        const created = await provider.create(inputs);
        assert.equal(created.outs.waitedMs, 0);
        assert.ok(asked.length > 0);
        assert.ok(!JSON.stringify(created.outs).includes("old-password"), "the state holds no password");
        const rotated = { ...inputs, password: "new-password" };
        assert.equal((await provider.diff!("id", created.outs, rotated)).changes, true);
        asked.length = 0;
        const updated = await provider.update!("id", created.outs, rotated);
        assert.ok(asked.length > 0, "a new credential is proved");
        assert.ok(!JSON.stringify(updated.outs).includes("new-password"));
        asked.length = 0;
        const later = { ...rotated, timeoutSeconds: 900 };
        assert.equal((await provider.diff!("id", updated.outs, later)).changes, true);
        const relaxed = await provider.update!("id", updated.outs, later);
        assert.deepEqual(asked, [], "a new deadline alone asks nothing");
        assert.equal((await provider.diff!("id", relaxed.outs, later)).changes, false);
    });
});
