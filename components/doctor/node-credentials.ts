/**
 * What the node brings to a pull, as far as the doctor can tell from what it reads: the pod's node
 * name and the kubelet's events about the pod. The doctor reads no Node, no kubelet configuration and
 * no Google API, so it never sees a node's credential, its OAuth scopes, its grants or its image cache;
 * it reads what the kubelet said it did with them. Pure rules (docs/troubleshooting.md#the-node-gkenode-and-the-kubelets-image-cache).
 *
 * - GKE's kubelet has a credential provider (`auth-provider-gcp`) that answers for `container.cloud.google.com`,
 *   `gcr.io`, `*.gcr.io` and `*.pkg.dev` (its `matchImages` in kubernetes/cloud-provider-gcp's node
 *   configuration, and `containerRegistryUrls` of the former in-tree provider, kubernetes
 *   pkg/credentialprovider/gcp/metadata.go) with the node's service account's token from the metadata
 *   server. The kubelet tries the pod's Secrets first, then the node's credentials
 *   (pkg/kubelet/images/image_manager.go `makeLookupPullCredentialsFunc`: `MakeDockerKeyring(pullSecrets,
 *   UnionDockerKeyring{nodeKeyring, external providers})`). That is `gcp.credential: "gkeNode"`: no Secret.
 *   It pulls only when the node pool has a storage read scope or `cloud-platform` and the account holds
 *   `roles/artifactregistry.reader` on the repository (cloud.google.com/artifact-registry/docs/integrate-compute:
 *   the reader role and the read-only Cloud Storage scope; cloud.google.com/kubernetes-engine/docs/how-to/access-scopes:
 *   `devstorage.read_only` is among GKE's default scopes, and an existing node pool's scopes cannot be changed).
 * - `KubeletEnsureSecretPulledImages` (KEP-2535, beta and on by default since 1.35): for an image already
 *   on the node, the kubelet lets a pod use it without pulling only when the credential that pulled it
 *   is the pod's own too (the same Secret's namespace, name and UID, or the same credential hash), or it
 *   was pulled anonymously or with the node's credentials, or the node's `imagePullCredentialsVerificationPolicy`
 *   exempts it; then its event says "already present on machine and can be accessed by the pod". With the
 *   gate off it says only "already present on machine", checking nothing. Otherwise it pulls with the
 *   pod's credentials, or, with `imagePullPolicy: Never`, reports the image "not present", as for an
 *   absent image (image_manager.go `EnsureImageExists`, `imageNotPresentOnNeverPolicyError`,
 *   `trackedToImagePullCreds`).
 */
import { artifactRegistryRepositoryOf } from "../rules/artifact-registry";
import { repositoryOf, type ImageReference } from "./image-reference";
import { urlsMatch } from "./keyring";

/** The hosts GKE's kubelet credential provider answers for with the node's service account. */
export const nodeCredentialHosts = ["container.cloud.google.com", "gcr.io", "*.gcr.io", "*.pkg.dev"] as const;

/** Whether a GKE node's own credential would be offered for `image` (the kubelet's host matching). */
export const nodeCredentialCovers = (image: ImageReference): boolean =>
    nodeCredentialHosts.some((host) => urlsMatch(host, repositoryOf(image)));

/**
 * Whether the pod runs on a GKE node: GKE names its nodes after their Compute Engine instances,
 * `gke-CLUSTER-POOL-...` (Autopilot `gk3-...`). A name is all the doctor has: it reads no Node.
 */
export const onGkeNode = (nodeName: string | undefined): boolean => nodeName !== undefined && /^gk[e3]-/.test(nodeName);

/** What the kubelet reported about one image of the pod, from its events (image_manager.go's messages). */
export interface KubeletReport {
    /** A pull the registry refused (401, 403): the event's message. */
    refused?: string;
    /** The kubelet pulled the image ("Successfully pulled image"). */
    pulled: boolean;
    /** It started the pod from the node's copy: "verified" by KubeletEnsureSecretPulledImages, or "unverified" (gate off). */
    present?: "verified" | "unverified";
    /** `ErrImageNeverPull`: absent, or present but not this pod's to use (the same message for both). */
    neverPull: boolean;
}

/**
 * The kubelet's events that name `image` as the container writes it (the kubelet quotes it so). Events
 * are taken by shape (./cluster-reads.ts `PullEvent` has it), and the verdicts below are plain
 * data ./pull-chain.ts takes as its own: this module imports neither, so no import circle forms.
 */
export function kubeletReportOf(image: string, events: readonly { reason: string; message: string }[]): KubeletReport {
    const quoted = `"${image}"`;
    const about = events.filter((e) => e.message.includes(quoted));
    const refused = about.find(
        (e) =>
            e.reason === "Failed" &&
            e.message.includes(`Failed to pull image ${quoted}`) &&
            /\b40[13]\b|unauthorized|forbidden|denied/i.test(e.message),
    );
    const pulled = about.filter((e) => e.reason === "Pulled");
    const present = pulled.find((e) => e.message.includes("already present on machine"));
    return {
        refused: refused?.message,
        pulled: pulled.some((e) => e.message.includes(`Successfully pulled image ${quoted}`)),
        present:
            present === undefined
                ? undefined
                : present.message.includes("and can be accessed by the pod")
                  ? "verified"
                  : "unverified",
        neverPull: about.some((e) => e.reason === "ErrImageNeverPull"),
    };
}

/** Where the pod is and what the kubelet said about this image. */
export interface NodeView {
    nodeName?: string;
    report: KubeletReport;
}

/**
 * A kubelet message as the report prints it: at most about 300 characters, its head and its tail
 * (containerd's errors run long, and end with what the registry answered: "403 Forbidden").
 */
export const clipMessage = (message: string): string =>
    message.length > 300 ? `${message.slice(0, 140)} ... ${message.slice(-150)}` : message;

/** A verdict of the node's link, in ./pull-chain.ts's `Verdict` shape. */
export interface NodeVerdict {
    kind: "ok" | "node-credential-refused";
    link: "node";
    evidence: string[];
    fix?: string;
}

/**
 * How the node's own credential bears on an image no pull Secret matches and the registry refuses
 * anonymously: a verdict when the kubelet's events say what the node's pull did, a line of what could
 * not be checked when they do not, and nothing for a host the node's credential does not answer for.
 */
export function nodeCredentialJudgement(
    image: ImageReference,
    node: NodeView,
): { verdict: NodeVerdict; fails: boolean } | { unchecked: string } | undefined {
    if (!nodeCredentialCovers(image)) return undefined;
    const where = node.nodeName === undefined ? "the node" : `node ${node.nodeName}`;
    if (node.report.pulled) {
        return {
            fails: false,
            verdict: {
                kind: "ok",
                link: "node",
                evidence: [
                    `no pull Secret matches ${image.domain} and the registry refuses an anonymous pull, but the kubelet on ${where} pulled ${repositoryOf(image)}: a credential the node holds did (on GKE its node pool's service account: gcp.credential "gkeNode"); a node of another pool may hold another account or other scopes`,
                ],
            },
        };
    }
    if (node.report.refused !== undefined && onGkeNode(node.nodeName)) {
        return {
            fails: true,
            verdict: {
                kind: "node-credential-refused",
                link: "node",
                evidence: [
                    `no pull Secret matches ${image.domain}, so the kubelet on GKE ${where} pulled with the node's own service account (GKE's credential provider answers for ${nodeCredentialHosts.join(", ")}), and the registry refused it`,
                    `the kubelet reported: ${clipMessage(node.report.refused)}`,
                    "the node pool needs the scope devstorage.read_only (or cloud-platform) and its account roles/artifactregistry.reader on the repository; the doctor reads neither (no Node, no Google API)",
                ],
                fix: nodeCredentialFix(image, node.nodeName),
            },
        };
    }
    if (onGkeNode(node.nodeName) || node.nodeName === undefined) {
        return {
            unchecked: `the node's own credential: on GKE (gcp.credential "gkeNode") the kubelet pulls ${image.domain} images with the node pool's service account, which the doctor cannot read, and the kubelet has not reported a pull of this image yet; to check: ${nodeCredentialFix(image, node.nodeName)}`,
        };
    }
    return undefined;
}

/** The commands that show a node pool's account, its scopes and its grant, and the fix for each. */
export function nodeCredentialFix(image: ImageReference, nodeName: string | undefined): string {
    const at = artifactRegistryRepositoryOf(image.domain, image.path);
    const [repository, where] = at
        ? [at.repository, `--project=${at.project} --location=${at.location}`]
        : ["REPOSITORY", "--project=PROJECT --location=LOCATION"];
    const pool = `kubectl get node ${nodeName ?? "NODE"} -o jsonpath='{.metadata.labels.cloud\\.google\\.com/gke-nodepool}'`;
    return [
        `1) the node pool and its account and scopes: ${pool}; gcloud container node-pools describe POOL --cluster=CLUSTER --location=CLUSTER_LOCATION --format="value(config.serviceAccount,config.oauthScopes)" (an account "default" is PROJECT_NUMBER-compute@developer.gserviceaccount.com)`,
        `2) the scopes must include https://www.googleapis.com/auth/devstorage.read_only or https://www.googleapis.com/auth/cloud-platform; a node pool's scopes cannot be changed: create a pool with --scopes=gke-default (or cloud-platform) and move the workloads there`,
        `3) the grant: gcloud artifacts repositories get-iam-policy ${repository} ${where} --flatten="bindings[].members" --filter="bindings.role=roles/artifactregistry.reader" --format="value(bindings.members)" must list serviceAccount:NODE_ACCOUNT; if not: gcloud artifacts repositories add-iam-policy-binding ${repository} ${where} --member=serviceAccount:NODE_ACCOUNT --role=roles/artifactregistry.reader, or the component with gcp.credential "gkeNode" and gcp.serviceAccountEmail NODE_ACCOUNT (IAM takes up to 7 minutes)`,
    ].join("; ");
}

/**
 * Notes on what the node's image cache did for this pod when it differs from what a pull would do:
 * the same pod can run on one node and fail on another (KubeletEnsureSecretPulledImages, above).
 */
export function nodeCacheNotes(fails: boolean | undefined, node: NodeView): string[] {
    const where = node.nodeName === undefined ? "its node" : `node ${node.nodeName}`;
    const notes: string[] = [];
    if (fails === true && node.report.present === "verified") {
        notes.push(
            `the kubelet on ${where} started this image from the copy it had ("already present on machine and can be accessed by the pod"): KubeletEnsureSecretPulledImages let this pod use it (that copy was pulled anonymously, by the node's own credential, or with a credential this pod has too, or the node's imagePullCredentialsVerificationPolicy exempts it); a node without the image, or this one after image garbage collection, pulls with the pod's credentials, and that pull fails as this verdict says`,
        );
    }
    if (fails === true && node.report.present === "unverified") {
        notes.push(
            `the kubelet on ${where} started this image from the copy it had without checking the pod's credentials ("already present on machine": KubeletEnsureSecretPulledImages is off there, as before Kubernetes 1.35 by default); another node, or a kubelet with the gate on, pulls with the pod's credentials, and that pull fails as this verdict says`,
        );
    }
    if (fails === true && node.report.pulled) {
        notes.push(
            `yet the kubelet on ${where} pulled this image: a credential the node holds (a kubelet credential provider, /var/lib/kubelet/config.json, GKE's node account), which the doctor cannot see, or a credential that changed since`,
        );
    }
    if (fails === false && node.report.neverPull) {
        notes.push(
            `the kubelet on ${where} reported the image "not present with pull policy of Never": with KubeletEnsureSecretPulledImages it says so also when the node has the image but this pod's credentials did not pull it there; imagePullPolicy: IfNotPresent lets the kubelet pull it with the pod's credential, which works`,
        );
    }
    return notes;
}
