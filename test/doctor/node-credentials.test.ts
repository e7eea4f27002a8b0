/**
 * What the node brings to a pull (components/doctor/node-credentials.ts), as pure rules: which events
 * of the kubelet say what (their texts are the kubelet's own format strings, pkg/kubelet/images/image_manager.go,
 * with containerd's error for a refused pull), which hosts GKE's node credential answers for, and the
 * verdicts and notes the chain draws from them (through judgePull, as the walk calls it).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dockerConfigJson } from "../../components/rules/docker-config";
import type { PullEvent } from "../../components/doctor/cluster-reads";
import { parseImageReference, type ImageReference } from "../../components/doctor/image-reference";
import {
    kubeletReportOf,
    nodeCredentialCovers,
    nodeCredentialFix,
    onGkeNode,
    type NodeView,
} from "../../components/doctor/node-credentials";
import { judgePull, planPull, type PullSubject, type SecretRead } from "../../components/doctor/pull-chain";
import type { RegistryAnswer } from "../../components/doctor/registry-probe";

const now = Date.parse("2026-12-07T12:00:00Z");
const app = "asia-northeast1-docker.pkg.dev/my-project/images/app:1";
const gkeNode = "gke-prod-default-pool-1a2b3c4d-wxyz";

/** The kubelet's events, worded by image_manager.go's format strings. */
const events = {
    refused: {
        reason: "Failed",
        message: `Failed to pull image "${app}": failed to pull and unpack image "${app}": failed to resolve reference "${app}": unexpected status from HEAD request to https://asia-northeast1-docker.pkg.dev/v2/my-project/images/app/manifests/1: 403 Forbidden`,
        count: 3,
    },
    notFound: {
        reason: "Failed",
        message: `Failed to pull image "${app}": rpc error: code = NotFound desc = failed to pull and unpack image "${app}": not found`,
        count: 1,
    },
    pulled: {
        reason: "Pulled",
        message: `Successfully pulled image "${app}" in 1.2s (1.3s including waiting). Image size: 3370 bytes.`,
        count: 1,
    },
    presentVerified: {
        reason: "Pulled",
        message: `Container image "${app}" already present on machine and can be accessed by the pod`,
        count: 1,
    },
    presentUnverified: { reason: "Pulled", message: `Container image "${app}" already present on machine`, count: 1 },
    neverPull: {
        reason: "ErrImageNeverPull",
        message: `Container image "${app}" is not present with pull policy of Never`,
        count: 1,
    },
} satisfies Record<string, PullEvent>;

describe("kubeletReportOf: what the kubelet's events say about one image", () => {
    it("a pull the registry refused, a pull, the node's copy verified or not, and Never's refusal", () => {
        assert.equal(kubeletReportOf(app, [events.refused]).refused, events.refused.message);
        assert.equal(kubeletReportOf(app, [events.notFound]).refused, undefined, "a 404 is no refusal");
        assert.equal(kubeletReportOf(app, [events.pulled]).pulled, true);
        assert.equal(kubeletReportOf(app, [events.presentVerified]).present, "verified");
        assert.equal(kubeletReportOf(app, [events.presentUnverified]).present, "unverified");
        assert.equal(kubeletReportOf(app, [events.neverPull]).neverPull, true);
        assert.deepEqual(kubeletReportOf(app, []), {
            refused: undefined,
            pulled: false,
            present: undefined,
            neverPull: false,
        });
    });

    it("events about another image of the pod (another tag) are not this image's", () => {
        const other = kubeletReportOf(`${app}0`, Object.values(events));
        assert.deepEqual(other, { refused: undefined, pulled: false, present: undefined, neverPull: false });
    });
});

describe("which hosts GKE's node credential answers for (auth-provider-gcp's matchImages, by the kubelet's matching)", () => {
    const covers = (reference: string) => nodeCredentialCovers(parseImageReference(reference) as ImageReference);
    it("Artifact Registry, gcr.io and its regional hosts, container.cloud.google.com", () => {
        for (const reference of [app, "gcr.io/p/app:1", "asia.gcr.io/p/app:1", "container.cloud.google.com/x/app:1"])
            assert.ok(covers(reference), reference);
    });
    it("not Docker Hub, not two labels under gcr.io or pkg.dev (a glob is one label), not another port", () => {
        for (const reference of [
            "nginx:1",
            "quay.io/x/app:1",
            "a.b.gcr.io/p/app:1",
            "pkg.dev/p/app:1",
            "gcr.io:5000/p/app:1",
        ])
            assert.ok(!covers(reference), reference);
    });
    it("GKE's node names (gke-, Autopilot gk3-), and nothing else", () => {
        assert.ok(onGkeNode(gkeNode));
        assert.ok(onGkeNode("gk3-autopilot-pool-2-9f8e7d6c-abcd"));
        assert.ok(!onGkeNode("worker-1"));
        assert.ok(!onGkeNode(undefined));
    });
});

const subject = (pullSecretNames: string[]): PullSubject => ({
    namespace: "payments",
    describe: "pod/web",
    pullSecretNames,
    ownList: false,
    admittedAtMs: now - 60_000,
    serviceAccount: { name: "default", state: "found", imagePullSecrets: pullSecretNames },
});

const regcred = (username: string): Map<string, SecretRead> =>
    new Map([
        [
            "regcred",
            {
                name: "regcred",
                state: "found",
                type: "kubernetes.io/dockerconfigjson",
                data: {
                    ".dockerconfigjson": Buffer.from(
                        dockerConfigJson([{ server: "asia-northeast1-docker.pkg.dev", username, password: "p" }]),
                    ).toString("base64"),
                },
                annotations: {},
            },
        ],
    ]);

/** The chain's verdict for one container, as the walk computes it. */
function judge(
    image: string,
    answer: RegistryAnswer,
    node: { nodeName?: string; events: PullEvent[] },
    secrets = new Map<string, SecretRead>(),
) {
    const container = { name: "app", image };
    const plan = planPull(subject([...secrets.keys()]), container, secrets, now);
    assert.ok(!("decided" in plan));
    const view: NodeView = { nodeName: node.nodeName, report: kubeletReportOf(image, node.events) };
    return judgePull(plan, container, [answer], now, view);
}
const anonymousRefused: RegistryAnswer = { step: "manifest", status: 403, code: "DENIED" };
/** The pod's Secret matches the image: the registry's answer to it, on a GKE node that reported `events`. */
const withSecretOnGke = (answer: RegistryAnswer, ...reported: PullEvent[]) =>
    judge(app, answer, { nodeName: gkeNode, events: reported }, regcred("u"));
const refusedCredential: RegistryAnswer = { step: "token", status: 401 };
const pulls: RegistryAnswer = { step: "manifest", status: 200 };

describe("gkeNode: an image no pull Secret matches, pulled with the node's own account", () => {
    it("node-credential-refused: on a GKE node the kubelet's pull was refused; the fix shows the pool's account, its scopes and the grant, with the repository's own names", () => {
        const verdict = judge(app, anonymousRefused, { nodeName: gkeNode, events: [events.refused] });
        assert.equal(verdict.kind, "node-credential-refused");
        assert.equal(verdict.link, "node");
        assert.equal(verdict.fails, true);
        assert.match(
            verdict.evidence[0],
            new RegExp(`kubelet on GKE node ${gkeNode} pulled with the node's own service account`),
        );
        assert.ok(
            verdict.evidence.some((e) => e.includes("403 Forbidden")),
            "the kubelet's own words",
        );
        assert.equal(verdict.fix, nodeCredentialFix(parseImageReference(app) as ImageReference, gkeNode));
        for (const command of [
            `kubectl get node ${gkeNode} -o jsonpath='{.metadata.labels.cloud\\.google\\.com/gke-nodepool}'`,
            `gcloud container node-pools describe POOL --cluster=CLUSTER --location=CLUSTER_LOCATION --format="value(config.serviceAccount,config.oauthScopes)"`,
            `gcloud artifacts repositories get-iam-policy images --project=my-project --location=asia-northeast1 --flatten="bindings[].members" --filter="bindings.role=roles/artifactregistry.reader" --format="value(bindings.members)"`,
            "gcloud artifacts repositories add-iam-policy-binding images --project=my-project --location=asia-northeast1 --member=serviceAccount:NODE_ACCOUNT --role=roles/artifactregistry.reader",
            "devstorage.read_only",
        ])
            assert.ok(verdict.fix?.includes(command), command);
    });

    it("gcr.io is the repository named after the host, in us", () => {
        const fix = nodeCredentialFix(parseImageReference("gcr.io/my-project/app:1") as ImageReference, undefined);
        assert.match(fix, /get-iam-policy gcr\.io --project=my-project --location=us /);
        assert.match(fix, /kubectl get node NODE /);
    });

    it("ok: the kubelet pulled it although the registry refuses an anonymous pull, so the node's credential works", () => {
        const verdict = judge(app, anonymousRefused, { nodeName: gkeNode, events: [events.pulled] });
        assert.equal(verdict.kind, "ok");
        assert.equal(verdict.fails, false);
        assert.match(verdict.evidence[0], /a credential the node holds did/);
    });

    it("not checked: on a GKE node (or a Deployment's template, on no node) before the kubelet reported a pull, the node's account is what the doctor cannot read (exit 3, not 1)", () => {
        for (const nodeName of [gkeNode, undefined]) {
            const verdict = judge(app, anonymousRefused, { nodeName, events: [] });
            assert.equal(verdict.kind, "no-pull-secrets");
            assert.equal(verdict.fails, undefined);
            assert.match(verdict.unchecked[0], /the node's own credential: on GKE \(gcp.credential "gkeNode"\)/);
        }
    });

    it("off GKE, or for a host the node's credential does not answer for, no Secret is no Secret: no-pull-secrets fails", () => {
        assert.equal(judge(app, anonymousRefused, { nodeName: "worker-1", events: [events.refused] }).fails, true);
        const hub = judge("nginx:1", { step: "manifest", status: 401 }, { nodeName: gkeNode, events: [] });
        assert.equal(hub.kind, "no-pull-secrets");
        assert.equal(hub.fails, true);
        assert.deepEqual(hub.unchecked, []);
    });

    it("a matching Secret is judged by its own answer, not the node's (the kubelet tries the pod's Secrets first)", () => {
        assert.equal(withSecretOnGke(refusedCredential, events.refused).kind, "credential-refused");
    });
});

describe("KubeletEnsureSecretPulledImages: the node's copy of the image", () => {
    it("a pull that would fail, on a node that let the pod use its copy after checking: a note that another node fails", () => {
        const verdict = withSecretOnGke(refusedCredential, events.presentVerified);
        assert.equal(verdict.fails, true);
        const note = verdict.warnings.find((w) => w.includes("KubeletEnsureSecretPulledImages let this pod use it"));
        assert.ok(note, verdict.warnings.join("\n"));
        assert.match(note, new RegExp(`node ${gkeNode}`));
        assert.match(note, /a node without the image, or this one after image garbage collection/);
    });

    it("the same on a node that checked nothing (the gate off)", () => {
        const verdict = withSecretOnGke(refusedCredential, events.presentUnverified);
        assert.ok(verdict.warnings.some((w) => /without checking the pod's credentials .*gate on/.test(w)));
    });

    it("a credential that pulls, and the kubelet's Never refusal: the node may have the image but not for this pod", () => {
        const verdict = withSecretOnGke(pulls, events.neverPull);
        assert.equal(verdict.kind, "ok");
        assert.ok(
            verdict.warnings.some((w) =>
                /not present with pull policy of Never.*imagePullPolicy: IfNotPresent/.test(w),
            ),
        );
    });

    it("no note when the node's copy agrees with the verdict, or the kubelet said nothing", () => {
        assert.deepEqual(withSecretOnGke(pulls, events.presentVerified).warnings, []);
        const scheduled = { reason: "Scheduled", message: "assigned", count: 1 };
        assert.deepEqual(withSecretOnGke(refusedCredential, scheduled).warnings, []);
    });
});
