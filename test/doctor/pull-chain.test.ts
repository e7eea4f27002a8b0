/**
 * The chain's pure rules (components/doctor/pull-chain.ts) where no registry is needed: which
 * answer proves which verdict, why a docker config key misses an image, what admission would copy,
 * and what a docker config shows by itself (auth disagreeing with its fields). The command's
 * arguments and exit codes (components/doctor/cli.ts) too.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dockerConfigJson } from "../../components/rules/docker-config";
import { parseImageReference, type ImageReference } from "../../components/doctor/image-reference";
import {
    admittedPullSecrets,
    judgePull,
    planPull,
    propagationWindowMs,
    verdictOfAnswer,
    whyNoMatch,
    type SecretRead,
} from "../../components/doctor/pull-chain";
import { parseDoctorArgs, runDoctor } from "../../components/doctor/cli";
import { kubeletReportOf } from "../../components/doctor/node-credentials";

const image = parseImageReference("asia-northeast1-docker.pkg.dev/my-project/images/app:1") as ImageReference;
const now = Date.parse("2026-12-07T12:00:00Z");
/** A pod the kubelet has said nothing about yet, on no node. */
const nothingReported = { report: kubeletReportOf("any", []) };

describe("verdictOfAnswer: what each registry answer proves", () => {
    const cases: [Parameters<typeof verdictOfAnswer>[0], string][] = [
        [{ step: "manifest", status: 200 }, "ok"],
        [{ step: "token", status: 401 }, "credential-refused"],
        [{ step: "manifest", status: 403, code: "DENIED" }, "grant-missing"],
        [{ step: "manifest", status: 404, repositoryExists: true }, "tag-not-found"],
        [{ step: "manifest", status: 404, repositoryExists: false }, "repository-not-found"],
        [{ step: "manifest", status: 429 }, "rate-limited"],
        [{ step: "ping", status: 503 }, "registry-error"],
        [{ network: "ENOTFOUND", kind: "dns", host: "x" }, "host-unknown"],
        [{ network: "CERT_HAS_EXPIRED", kind: "tls", host: "x" }, "tls-error"],
        [{ network: "ECONNREFUSED", kind: "connect", host: "x" }, "registry-unreachable"],
    ];
    for (const [answer, kind] of cases) {
        it(`${JSON.stringify(answer)} is ${kind}`, () =>
            assert.equal(verdictOfAnswer(answer, image, undefined, now).kind, kind));
    }
    it("a 403 for a credential written within the propagation window is not yet effective; after it, missing; the fix grants the reader role on the repository", () => {
        const candidate = (writtenAtMs: number) => ({
            info: {
                secret: "regcred",
                server: image.domain,
                username: "_json_key_base64",
                keyId: "abc",
                account: "puller@p.iam.gserviceaccount.com",
            },
            credential: { username: "_json_key_base64", password: "x" },
            writtenAtMs,
        });
        const answer = { step: "manifest" as const, status: 403 };
        assert.equal(
            verdictOfAnswer(answer, image, candidate(now - propagationWindowMs + 1000), now).kind,
            "grant-not-yet-effective",
        );
        const missing = verdictOfAnswer(answer, image, candidate(now - propagationWindowMs - 1000), now);
        assert.equal(missing.kind, "grant-missing");
        assert.equal(
            missing.fix,
            "gcloud artifacts repositories add-iam-policy-binding images --project=my-project --location=asia-northeast1 --member=serviceAccount:puller@p.iam.gserviceaccount.com --role=roles/artifactregistry.reader",
        );
    });
});

describe("whyNoMatch: a near miss in a user's words", () => {
    it("names the glob, the port, the other host and the path", () => {
        assert.match(whyNoMatch("*.gcr.io", "gcr.io/p/i"), /a glob stands for exactly one label/);
        assert.match(whyNoMatch("asia.gcr.io", "asia-docker.pkg.dev/p/r/i"), /another host than asia-docker\.pkg\.dev/);
        assert.match(
            whyNoMatch("registry:5000", "registry:5001/i"),
            /the port differs \(5000 in the key, 5001 in the image\)/,
        );
        assert.match(whyNoMatch("https://quay.io/team", "quay.io/other/i"), /its path \/team is not a prefix/);
    });
});

describe("admittedPullSecrets: what admission copies into a new pod", () => {
    it("the pod's own list when it has one, else its ServiceAccount's", () => {
        const sa = { name: "default", state: "found" as const, imagePullSecrets: ["regcred"] };
        assert.deepEqual(admittedPullSecrets(["own"], sa), ["own"]);
        assert.deepEqual(admittedPullSecrets([], sa), ["regcred"]);
        assert.deepEqual(admittedPullSecrets([], { name: "default", state: "denied" }), []);
    });
});

describe("a docker config's own defects", () => {
    const subject = {
        namespace: "ns",
        describe: "pod/web",
        pullSecretNames: ["regcred"],
        ownList: false,
        admittedAtMs: now,
        serviceAccount: { name: "default", state: "found" as const, imagePullSecrets: ["regcred"] },
    };
    const secretWith = (config: string): Map<string, SecretRead> =>
        new Map([
            [
                "regcred",
                {
                    name: "regcred",
                    state: "found",
                    type: "kubernetes.io/dockerconfigjson",
                    data: { ".dockerconfigjson": Buffer.from(config).toString("base64") },
                    annotations: {},
                },
            ],
        ]);
    const container = { name: "app", image: "asia-northeast1-docker.pkg.dev/my-project/images/app:1" };

    it("auth-disagrees: auth names another user than the username field, and the registry refuses", () => {
        const config = JSON.stringify({
            auths: {
                "asia-northeast1-docker.pkg.dev": {
                    username: "new-user",
                    password: "p",
                    auth: Buffer.from("old-user:p").toString("base64"),
                },
            },
        });
        const plan = planPull(subject, container, secretWith(config), now);
        assert.ok(!("decided" in plan));
        const verdict = judgePull(plan, container, [{ step: "token", status: 401 }], now, nothingReported);
        assert.equal(verdict.kind, "auth-disagrees");
        assert.match(verdict.evidence[0], /auth field names user old-user, its username field new-user/);
    });
    it("a working credential is ok, and a defect of a credential tried before it is a warning", () => {
        const config = dockerConfigJson([
            { server: "asia-northeast1-docker.pkg.dev/my-project", username: "a", password: "p" },
            { server: "asia-northeast1-docker.pkg.dev", username: "b", password: "q" },
        ]);
        const plan = planPull(subject, container, secretWith(config), now);
        assert.ok(!("decided" in plan));
        assert.deepEqual(
            plan.candidates.map((c) => c.info.username),
            ["a", "b"],
            "the longer key first",
        );
        const verdict = judgePull(
            plan,
            container,
            [
                { step: "token", status: 401 },
                { step: "manifest", status: 200 },
            ],
            now,
            nothingReported,
        );
        assert.equal(verdict.kind, "ok");
        assert.equal(verdict.fails, false);
    });
});

describe("the command's arguments and exit codes", () => {
    it("takes pod/NAME, NAME, deployment/NAME or --image with --service-account, and kubectl's connection flags", () => {
        assert.deepEqual(parseDoctorArgs(["doctor", "pod/web", "-n", "payments", "--json"]), {
            target: { kind: "pod", name: "web" },
            namespace: "payments",
            kubeconfig: undefined,
            context: undefined,
            plainHttp: [],
            json: true,
        });
        assert.deepEqual((parseDoctorArgs(["doctor", "web"]) as { target: unknown }).target, {
            kind: "pod",
            name: "web",
        });
        assert.deepEqual(
            (parseDoctorArgs(["doctor", "deploy/web", "--context", "prod"]) as { target: unknown }).target,
            { kind: "deployment", name: "web" },
        );
        assert.deepEqual(
            (parseDoctorArgs(["doctor", "--image", "nginx", "--service-account", "builder"]) as { target: unknown })
                .target,
            {
                kind: "image",
                image: "nginx",
                serviceAccount: "builder",
            },
        );
    });
    it("refuses what it cannot diagnose, naming the rule", () => {
        assert.deepEqual(parseDoctorArgs(["doctor"]), {
            refused: "name one pod (pod/NAME) or deployment (deployment/NAME), or give --image",
        });
        assert.deepEqual(parseDoctorArgs(["doctor", "service/web"]), {
            refused: "service: the doctor diagnoses a pod, a deployment or an --image",
        });
        assert.deepEqual(parseDoctorArgs(["doctor", "pod/web", "--service-account", "x"]), {
            refused: "--service-account goes with --image (a pod has its own)",
        });
        assert.deepEqual(parseDoctorArgs(["diagnose", "pod/web"]), { refused: "the command is doctor" });
    });
    it("exits 2 when it cannot run (usage, an unreadable kubeconfig), saying why without quoting the file", async () => {
        const errors: string[] = [];
        assert.equal(
            await runDoctor(
                ["doctor"],
                () => undefined,
                (t) => errors.push(t),
            ),
            2,
        );
        assert.equal(
            await runDoctor(
                ["doctor", "pod/web", "--kubeconfig", "/nonexistent/kubeconfig"],
                () => undefined,
                (t) => errors.push(t),
            ),
            2,
        );
        assert.match(errors[1], /kubeconfig: the file it names cannot be read \(ENOENT\)/);
        assert.ok(!errors[1].includes("/nonexistent"));
    });
});
