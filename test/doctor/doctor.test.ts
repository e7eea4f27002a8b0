/**
 * The doctor's walk (components/doctor/doctor.ts) against real registries: Debian's docker-registry
 * with htpasswd (test/support/real-registry.ts), the Artifact Registry front double before it
 * (test/support/artifact-registry-front.ts: 401 for a key that proves nothing, 403 for a member
 * without the reader role), a TLS server with a certificate nobody trusts, and a name that does not
 * resolve. The cluster's side is given as the objects the API server would return (the reads the
 * walk makes of a real one are proved by test/engine/doctor.test.ts). Each case breaks one link and
 * checks the verdict names that link; every line of every report is checked for secret text.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { dockerConfigJson } from "../../components/rules/docker-config";
import { ownershipKeys } from "../../components/rules/ownership";
import type { ClusterReads, PodShape, PullEvent, Read } from "../../components/doctor/cluster-reads";
import { diagnose, type DoctorReport, type DoctorTarget } from "../../components/doctor/doctor";
import { probePull } from "../../components/doctor/registry-probe";
import { reportJson, reportText } from "../../components/doctor/report";
import type { SecretRead, ServiceAccountRead } from "../../components/doctor/pull-chain";
import { startDoctorRegistries, type DoctorRegistries } from "../support/doctor-registries";
import type { RealRegistry } from "../support/real-registry";

const namespace = "payments";
const project = "example-project-dev";
/** Every secret the tests hand the doctor: no report line may hold one, or its base64. */
const secrets: string[] = [];

let work: string;
let registries: DoctorRegistries;
let registry: RealRegistry;
let user: DoctorRegistries["user"];
let front: DoctorRegistries["front"];
let email: string;
let keyBase64: string;
let tinyImage: string;
let frontImage: string;
let tlsHost: string;

before(async () => {
    work = mkdtempSync(path.join(tmpdir(), "doctor-test-"));
    // 127.0.0.2: loopback, but not an address the doctor (or containerd) reaches over plain HTTP.
    registries = await startDoctorRegistries(work, "127.0.0.2");
    ({ registry, user, front, email, keyBase64, tlsHost } = registries);
    ({ tiny: tinyImage, front: frontImage } = registries.images);
    secrets.push(user.password, keyBase64, Buffer.from(keyBase64, "base64").toString("utf8"));
});
after(async () => {
    await registries?.close();
    rmSync(work, { recursive: true, force: true });
});

const minutesAgo = (minutes: number) => Date.now() - minutes * 60_000;

/** A pull Secret as the API server returns it (data in base64). */
function pullSecret(
    name: string,
    config: string,
    options: { type?: string; writtenAtMs?: number; annotations?: Record<string, string> } = {},
): SecretRead {
    return {
        name,
        state: "found",
        type: options.type ?? "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": Buffer.from(config).toString("base64") },
        annotations: options.annotations ?? {},
        writtenAtMs: options.writtenAtMs ?? minutesAgo(60),
    };
}

/** The cluster's objects as the reads would return them from an API server. */
interface ClusterObjects {
    pod?: Read<PodShape>;
    serviceAccount?: ServiceAccountRead;
    secrets?: SecretRead[];
    /** The pod's events, as the kubelet wrote them. */
    events?: PullEvent[];
}

function readsOf(objects: ClusterObjects): ClusterReads {
    return {
        pod: () => Promise.resolve(objects.pod ?? { state: "missing" }),
        deployment: () => Promise.resolve(objects.pod ?? { state: "missing" }),
        serviceAccount: (name) =>
            Promise.resolve(objects.serviceAccount ?? { name, state: "found", imagePullSecrets: [] }),
        secret: (name) => Promise.resolve(objects.secrets?.find((s) => s.name === name) ?? { name, state: "missing" }),
        podEvents: () => Promise.resolve({ state: "found", value: objects.events ?? [] }),
    };
}

const reports: DoctorReport[] = [];

async function doctor(
    objects: ClusterObjects,
    target: DoctorTarget = { kind: "pod", name: "web" },
): Promise<DoctorReport> {
    const report = await diagnose(
        target,
        namespace,
        readsOf(objects),
        (image, credential) => probePull(image, credential, { timeoutMs: 5000 }),
        Date.now(),
    );
    reports.push(report);
    return report;
}

const pod = (image: string, imagePullSecrets: string[], createdAtMs = minutesAgo(10)): Read<PodShape> => ({
    state: "found",
    value: { containers: [{ name: "app", image }], imagePullSecrets, serviceAccountName: "default", createdAtMs },
});
const regcred = (host: string, username: string, password: string, options?: Parameters<typeof pullSecret>[2]) =>
    pullSecret("regcred", dockerConfigJson([{ server: host, username, password }]), options);

describe("the doctor's verdicts, one broken link each, against real registries", () => {
    it("ok: the pod's Secret holds a credential the registry accepts (exit 0)", async () => {
        const report = await doctor({
            pod: pod(`${registry.host}/${tinyImage}`, ["regcred"]),
            secrets: [regcred(registry.host, user.user, user.password)],
        });
        assert.equal(report.verdicts[0].kind, "ok");
        assert.equal(report.verdicts[0].fails, false);
        assert.equal(report.exitCode, 0);
    });

    it("credential-refused: the registry answers 401 to a wrong password", async () => {
        const report = await doctor({
            pod: pod(`${registry.host}/${tinyImage}`, ["regcred"]),
            secrets: [regcred(registry.host, user.user, "wrong-password")],
        });
        assert.equal(report.verdicts[0].kind, "credential-refused");
        assert.match(report.verdicts[0].evidence[0], /answered 401 to user ci-user from Secret regcred/);
        assert.equal(report.exitCode, 1);
    });

    it("no-matching-auth: a Secret for another host (the port differs) leaves the pull anonymous, and the registry refuses it", async () => {
        const otherPort = `127.0.0.1:${Number(registry.host.split(":")[1]) + 1}`;
        const report = await doctor({
            pod: pod(`${registry.host}/${tinyImage}`, ["regcred"]),
            secrets: [regcred(otherPort, user.user, user.password)],
        });
        const verdict = report.verdicts[0];
        assert.equal(verdict.kind, "no-matching-auth");
        assert.ok(
            verdict.evidence.some((e) => /the port differs/.test(e)),
            verdict.evidence.join("\n"),
        );
        assert.ok(verdict.evidence.some((e) => /answered 401 to an anonymous pull/.test(e)));
        assert.match(verdict.fix ?? "", new RegExp(`registries: \\["${registry.host}"\\]`));
    });

    it("no-matching-auth: *.gcr.io names a glob of one label, never gcr.io", async () => {
        const report = await doctor({
            pod: pod(`${registry.host}/${tinyImage}`, ["regcred"]),
            secrets: [regcred(`*.${registry.host}`, user.user, user.password)],
        });
        assert.equal(report.verdicts[0].kind, "no-matching-auth");
        assert.ok(report.verdicts[0].evidence.some((e) => /a glob stands for exactly one label/.test(e)));
    });

    it("pod-predates-service-account: the pod has no list, its ServiceAccount got one after it was created", async () => {
        const report = await doctor({
            pod: pod(`${registry.host}/${tinyImage}`, [], minutesAgo(30)),
            serviceAccount: {
                name: "default",
                state: "found",
                imagePullSecrets: ["regcred"],
                pullSecretsChangedAtMs: minutesAgo(5),
            },
            secrets: [regcred(registry.host, user.user, user.password)],
        });
        assert.equal(report.verdicts[0].kind, "pod-predates-service-account");
        assert.match(report.verdicts[0].fix ?? "", /kubectl -n payments delete pod\/web/);
        assert.equal(report.exitCode, 1);
    });

    it("pod-has-own-list: the pod lists its own Secret, so its ServiceAccount's was never copied", async () => {
        const report = await doctor({
            pod: pod(`${registry.host}/${tinyImage}`, ["team-cred"], minutesAgo(5)),
            serviceAccount: {
                name: "default",
                state: "found",
                imagePullSecrets: ["regcred"],
                pullSecretsChangedAtMs: minutesAgo(30),
            },
            secrets: [
                regcred(registry.host, user.user, user.password),
                pullSecret("team-cred", dockerConfigJson([{ server: "quay.io", username: "u", password: "p" }])),
            ],
        });
        assert.equal(report.verdicts[0].kind, "pod-has-own-list");
        assert.match(report.verdicts[0].fix ?? "", /imagePullSecrets: \[\{name: team-cred\}, \{name: regcred\}\]/);
    });

    it("a Deployment's template with no list gets its ServiceAccount's at admission: ok", async () => {
        const report = await doctor(
            {
                pod: pod(`${registry.host}/${tinyImage}`, []),
                serviceAccount: { name: "default", state: "found", imagePullSecrets: ["regcred"] },
                secrets: [regcred(registry.host, user.user, user.password)],
            },
            { kind: "deployment", name: "web" },
        );
        assert.equal(report.verdicts[0].kind, "ok");
    });

    it("secret-missing: the pod names a Secret that does not exist", async () => {
        const report = await doctor({ pod: pod(`${registry.host}/${tinyImage}`, ["regcred"]) });
        assert.equal(report.verdicts[0].kind, "secret-missing");
    });

    it("secret-wrong-type: an Opaque Secret is not read by the kubelet", async () => {
        const opaque = { ...regcred(registry.host, user.user, user.password), type: "Opaque" };
        const report = await doctor({ pod: pod(`${registry.host}/${tinyImage}`, ["regcred"]), secrets: [opaque] });
        assert.equal(report.verdicts[0].kind, "secret-wrong-type");
    });

    it("secret-unreadable: a docker config that is not JSON fails every pull of the pod", async () => {
        const report = await doctor({
            pod: pod(`${registry.host}/${tinyImage}`, ["regcred"]),
            secrets: [pullSecret("regcred", "{oops")],
        });
        assert.equal(report.verdicts[0].kind, "secret-unreadable");
        assert.equal(report.exitCode, 1);
    });

    it("tag-not-found and repository-not-found: the registry answers 404, its tag list tells which", async () => {
        const secretsOf = [regcred(registry.host, user.user, user.password)];
        const tag = await doctor({ pod: pod(`${registry.host}/e2e/tiny:2`, ["regcred"]), secrets: secretsOf });
        assert.equal(tag.verdicts[0].kind, "tag-not-found");
        const repository = await doctor({ pod: pod(`${registry.host}/e2e/absent:1`, ["regcred"]), secrets: secretsOf });
        assert.equal(repository.verdicts[0].kind, "repository-not-found");
    });

    it("image-reference-invalid: an uppercase repository is refused before anything is asked", async () => {
        const report = await doctor({ pod: pod(`${registry.host}/E2E/tiny:1`, []) });
        assert.equal(report.verdicts[0].kind, "image-reference-invalid");
    });

    it("ok through the Artifact Registry front double: the key (_json_key_base64) holds the reader role", async () => {
        const host = front.hosts["us-docker.pkg.dev"];
        const report = await doctor({
            pod: pod(`${host}/${frontImage}`, ["regcred"]),
            secrets: [regcred(host, "_json_key_base64", keyBase64)],
        });
        assert.equal(report.verdicts[0].kind, "ok", report.verdicts[0].evidence.join("\n"));
    });

    it("key-encoding-mismatch: the base64 key under _json_key, named with its key id, never its key", async () => {
        const host = front.hosts["us-docker.pkg.dev"];
        const report = await doctor({
            pod: pod(`${host}/${frontImage}`, ["regcred"]),
            secrets: [regcred(host, "_json_key", keyBase64)],
        });
        const verdict = report.verdicts[0];
        assert.equal(verdict.kind, "key-encoding-mismatch");
        const keyId = JSON.parse(Buffer.from(keyBase64, "base64").toString("utf8")).private_key_id;
        assert.ok(verdict.evidence[0].includes(`key ${keyId} of ${email}`));
        assert.ok(verdict.evidence.some((e) => /answered 401/.test(e)));
    });

    it("key-encoded-twice: the key base64-encoded a second time", async () => {
        const host = front.hosts["us-docker.pkg.dev"];
        const twice = Buffer.from(keyBase64).toString("base64");
        secrets.push(twice);
        const report = await doctor({
            pod: pod(`${host}/${frontImage}`, ["regcred"]),
            secrets: [regcred(host, "_json_key_base64", twice)],
        });
        assert.equal(report.verdicts[0].kind, "key-encoded-twice");
    });

    it("grant-missing: the key authenticates, but its account has no reader role on the repository (403)", async () => {
        const host = front.hosts["us-docker.pkg.dev"];
        const report = await doctor({
            pod: pod(`${host}/${project}/denied/tiny:1`, ["regcred"]),
            secrets: [regcred(host, "_json_key_base64", keyBase64, { writtenAtMs: minutesAgo(60) })],
        });
        assert.equal(report.verdicts[0].kind, "grant-missing");
        assert.match(report.verdicts[0].evidence[0], /answered 403/);
    });

    it("grant-not-yet-effective: the same 403 for a Secret written within IAM's propagation window", async () => {
        const host = front.hosts["us-docker.pkg.dev"];
        const report = await doctor({
            pod: pod(`${host}/${project}/denied/tiny:1`, ["regcred"]),
            secrets: [regcred(host, "_json_key_base64", keyBase64, { writtenAtMs: minutesAgo(1) })],
        });
        assert.equal(report.verdicts[0].kind, "grant-not-yet-effective");
        assert.match(report.verdicts[0].fix ?? "", /wait 6 minutes/);
    });

    it("token-expired: an access token past the expiry its refresher wrote, and the refresher named", async () => {
        const token = `ya29.${randomBytes(20).toString("hex")}`;
        secrets.push(token);
        const expired = regcred(registry.host, "oauth2accesstoken", token, {
            annotations: {
                [ownershipKeys.tokenExpiresAt]: new Date(minutesAgo(3)).toISOString(),
                [ownershipKeys.writer]: "pull-token-refresher/token-refresher",
            },
        });
        const report = await doctor({ pod: pod(`${registry.host}/${tinyImage}`, ["regcred"]), secrets: [expired] });
        assert.equal(report.verdicts[0].kind, "token-expired");
        assert.match(
            report.verdicts[0].fix ?? "",
            /kubectl -n pull-token-refresher get deployment token-refresher: READY 0\/0 means it was scaled to 0/,
        );
    });

    it("the pod's node and its kubelet's events reach the verdict: a pull that fails runs on a node that had the image, and the note says another node fails", async () => {
        const image = `${registry.host}/${tinyImage}`;
        const shape = pod(image, []);
        assert.ok(shape.state === "found");
        const report = await doctor({
            pod: { state: "found", value: { ...shape.value, nodeName: "node-a" } },
            events: [
                {
                    reason: "Pulled",
                    message: `Container image "${image}" already present on machine and can be accessed by the pod`,
                    count: 1,
                },
            ],
        });
        const verdict = report.verdicts[0];
        assert.equal(verdict.kind, "no-pull-secrets");
        assert.equal(verdict.fails, true);
        assert.ok(
            verdict.warnings.some((w) =>
                w.startsWith("the kubelet on node node-a started this image from the copy it had"),
            ),
            verdict.warnings.join("\n"),
        );
        assert.match(reportText(report), /the kubelet reported:\n {2}Pulled \(1x\): Container image/);
    });

    it("tls-error: a registry whose certificate the doctor (like the node) does not trust", async () => {
        const report = await doctor({
            pod: pod(`${tlsHost}/e2e/tiny:1`, ["regcred"]),
            secrets: [regcred(tlsHost, user.user, user.password)],
        });
        assert.equal(report.verdicts[0].kind, "tls-error");
        assert.match(
            report.verdicts[0].evidence[0],
            /TLS handshake with 127\.0\.0\.2:\d+ failed \(DEPTH_ZERO_SELF_SIGNED_CERT\)/,
        );
    });

    it("host-unknown: a registry name that does not resolve", async () => {
        const report = await doctor({
            pod: pod("no-such-registry.invalid/e2e/tiny:1", ["regcred"]),
            secrets: [regcred("no-such-registry.invalid", user.user, user.password)],
        });
        assert.equal(report.verdicts[0].kind, "host-unknown");
    });

    it("unchecked: RBAC denied the Secret, so the verdict says what it could not check (exit 3)", async () => {
        const report = await doctor({
            pod: pod(`${registry.host}/${tinyImage}`, ["regcred"]),
            secrets: [{ name: "regcred", state: "denied" }],
        });
        assert.equal(report.verdicts[0].fails, undefined);
        assert.match(report.verdicts[0].unchecked[0], /Secret regcred: reading it was denied \(get secrets\)/);
        assert.equal(report.exitCode, 3);
    });

    it("the kubelet's order: init containers first, one verdict per image, and the first working credential wins", async () => {
        const shape: Read<PodShape> = {
            state: "found",
            value: {
                containers: [
                    { name: "init", image: `${registry.host}/e2e/tiny:2` },
                    { name: "app", image: `${registry.host}/${tinyImage}` },
                ],
                imagePullSecrets: ["stale", "regcred"],
                serviceAccountName: "default",
                createdAtMs: minutesAgo(1),
            },
        };
        const report = await doctor({
            pod: shape,
            secrets: [
                pullSecret(
                    "stale",
                    dockerConfigJson([{ server: registry.host, username: user.user, password: "old" }]),
                ),
                regcred(registry.host, user.user, user.password),
            ],
        });
        assert.deepEqual(
            report.verdicts.map((v) => [v.container, v.kind]),
            [
                ["init", "tag-not-found"],
                ["app", "ok"],
            ],
        );
    });

    it("credential-refused for a deleted key: the front double refuses it (401), and the fix lists the account's keys", async () => {
        const host = front.hosts["us-docker.pkg.dev"];
        const secretsOf = [regcred(host, "_json_key_base64", keyBase64)];
        registries.deleteKey();
        const report = await doctor({ pod: pod(`${host}/${frontImage}`, ["regcred"]), secrets: secretsOf });
        assert.equal(report.verdicts[0].kind, "credential-refused");
        assert.match(
            report.verdicts[0].fix ?? "",
            new RegExp(`gcloud iam service-accounts keys list --iam-account=${email}`),
        );
    });

    it("no report line holds a password, a token, a key or its base64, in text or JSON", () => {
        assert.ok(reports.length >= 20);
        const forbidden = secrets.flatMap((s) => [
            s,
            Buffer.from(s).toString("base64"),
            Buffer.from(`${user.user}:${s}`).toString("base64"),
        ]);
        forbidden.push(...secrets.map((s) => Buffer.from(`_json_key_base64:${s}`).toString("base64")));
        for (const report of reports) {
            for (const line of [...reportText(report).split("\n"), ...reportJson(report).split("\n")]) {
                for (const secret of forbidden)
                    assert.ok(
                        !line.includes(secret.slice(0, 24)),
                        `a report line holds secret text: ${line.slice(0, 60)}`,
                    );
            }
        }
    });
});
