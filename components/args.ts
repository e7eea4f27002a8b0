import type * as pulumi from "@pulumi/pulumi";

/**
 * How the Google Cloud credential is made (`gcp.credential`). TypeScript accepts only these strings;
 * other languages see a string enum with these values.
 */
export const CredentialKind = {
    /** A service-account key in each Secret: created here (and rotated), or `existingKey`. The default. */
    key: "key",
    /**
     * On GKE: grant the node pool's service account (`serviceAccountEmail`) read access and declare
     * nothing in the cluster (no key, no Secret, no `imagePullSecrets` entry). EVERY pod on those
     * nodes can then pull.
     */
    gkeNode: "gkeNode",
    /** No key anywhere: a refresher in the cluster writes short-lived access tokens into each Secret. */
    accessToken: "accessToken",
} as const;
/** One of the `CredentialKind` values. */
export type CredentialKind = (typeof CredentialKind)[keyof typeof CredentialKind];

/**
 * How the Secret gets into the ServiceAccounts' `imagePullSecrets` (`attachMode`). TypeScript accepts
 * only these strings; other languages see a string enum with these values.
 */
export const AttachMode = {
    /**
     * Adds only our entry with a guarded JSON patch, leaves every other entry in its place, and on
     * destroy removes only our entry (and only if we added it). The default.
     */
    merge: "merge",
    /**
     * A server-side-apply `ServiceAccountPatch`, which owns the whole atomic list: it fails with a
     * field conflict when another manager wrote the list, and on destroy the whole list disappears,
     * other entries included.
     */
    patch: "patch",
} as const;
/** One of the `AttachMode` values. */
export type AttachMode = (typeof AttachMode)[keyof typeof AttachMode];

/** An Artifact Registry repository the credential must be able to pull from. */
export interface ArtifactRegistryRepository {
    /** The repository's location: `us`, `asia`, `europe` for the `gcr.io` hosts, or a region such as `asia-northeast1`. */
    location: string;
    /** The repository id: for `gcr.io`, `asia.gcr.io`, `eu.gcr.io`, `us.gcr.io` it is the host itself. */
    repository: string;
}

/**
 * Workload Identity Federation for a cluster outside GKE (EKS, AKS, on-premises): the token refresher
 * exchanges its projected ServiceAccount token at Google's STS through this pool and OIDC provider.
 */
export interface WorkloadIdentityFederationArgs {
    /** The workload identity pool id (4-32 characters: lowercase letters, digits, '-'), in `gcp.project`. */
    poolId: string;
    /** The OIDC provider id in that pool (4-32 characters: lowercase letters, digits, '-'). */
    providerId: string;
    /**
     * The cluster's ServiceAccount token issuer, an `https://` URL (`kubectl get --raw
     * /.well-known/openid-configuration`). Required unless `existing`.
     */
    issuerUri?: pulumi.Input<string>;
    /**
     * The issuer's JSON Web Key Set, for issuers Google cannot reach (`kubectl get --raw
     * /openid/v1/jwks`). Default: Google fetches the keys from the issuer.
     */
    jwksJson?: pulumi.Input<string>;
    /**
     * Use a pool and provider that already exist (by `poolId` and `providerId`) instead of declaring
     * them; then `issuerUri` and `jwksJson` are not given. Default: false (both are declared here).
     */
    existing?: boolean;
}

/** Where and how the token refresher of `gcp.credential: "accessToken"` runs. */
export interface TokenRefresherArgs {
    /**
     * The namespace created for the refresher (its Deployment, ServiceAccount and code), labelled for
     * Pod Security `restricted`; not one of `namespaces`. Default: `<component name>-refresher-<8 hex
     * digits>`, unique per component and stack (the digits hash project, stack and component name), so
     * two stacks never share the refresher's Google principal. Components created before this default
     * used `pull-token-refresher`: give that to keep it.
     */
    namespace?: string;
    /**
     * The container image: any Node.js 20 or later image with `node` on the PATH. Default:
     * `node:24-alpine` (the official Node.js LTS image), a tag: previews warn until the image is pinned
     * by digest (`name@sha256:...`), ideally in a registry you mirror it to.
     */
    image?: pulumi.Input<string>;
}

/**
 * The credential on Google Cloud: how it is made (`credential`: a service-account key, the GKE node
 * pool's own account, or short-lived access tokens) and the repositories it may read.
 */
export interface GoogleCloudCredentialArgs {
    /** The project that holds the repositories (and the service account, when one is created). */
    project: pulumi.Input<string>;
    /**
     * Create a service account with this id (6-30 characters). With `credential: "key"` and no
     * `existingKey`, exactly one of this and `serviceAccountEmail` is required.
     */
    serviceAccountId?: pulumi.Input<string>;
    /**
     * Use this existing service account. With `credential: "key"` and no `existingKey`, exactly one
     * of this and `serviceAccountId` is required. With `credential: "gkeNode"` the node pool's account
     * (required; `gcloud container node-pools describe POOL --cluster CLUSTER
     * --format='value(config.serviceAccount)'`, where `default` means the Compute Engine default
     * account `PROJECT_NUMBER-compute@developer.gserviceaccount.com`); with `"accessToken"` an account
     * the refresher impersonates (it gets `roles/iam.workloadIdentityUser` on it), default none.
     */
    serviceAccountEmail?: pulumi.Input<string>;
    /**
     * Repositories that get a non-authoritative `roles/artifactregistry.reader` grant for the service
     * account. Default: none, which is only allowed with `serviceAccountEmail` (an account that can
     * already read what it needs); a created account needs at least one.
     */
    repositories?: ArtifactRegistryRepository[];
    /**
     * Replace the key every this many days (1 to 3650): the first `pulumi up` at or after the time in
     * the `keyRotatesAfter` output creates a new key, updates every Secret in place and then deletes
     * the old key. No `--refresh` is needed. Periods count from 1970-01-01T00:00Z, so the first key
     * may live less than a full period. Default: no scheduled rotation.
     */
    keyRotationDays?: pulumi.Input<number>;
    /** Raise this whole number to replace the key now, in the same order as a scheduled rotation. Default: 0. */
    keyVersion?: pulumi.Input<number>;
    /**
     * Use this service-account key file instead of creating a key: its JSON or the base64 of it, as a
     * secret (`pulumi config set --secret`, Pulumi ESC). For organizations that enforce
     * `iam.disableServiceAccountKeyCreation`. Creates no service account and no key; the grants in
     * `repositories` go to the key's own account. Not with `serviceAccountId`, `keyRotationDays` or
     * `keyVersion`; `serviceAccountEmail`, when given, must be the key's account. Default: unset.
     */
    existingKey?: pulumi.Input<string>;
    /**
     * How the registry credential is made: `"key"` (the default), `"gkeNode"` or `"accessToken"`, each
     * described under `CredentialKind`. Known when the program runs: it decides which resources are
     * declared.
     */
    credential?: CredentialKind;
    /**
     * The number of `project` (`gcloud projects describe PROJECT --format='value(projectNumber)'`).
     * Required with `credential: "accessToken"`: Workload Identity principals and the STS audience name
     * the project by number.
     */
    projectNumber?: pulumi.Input<string>;
    /**
     * With `credential: "accessToken"` outside GKE: the workload identity pool and OIDC provider for the
     * cluster. Default: none, which means GKE Workload Identity (the pool `PROJECT.svc.id.goog`; the
     * cluster must be in `project`).
     */
    federation?: WorkloadIdentityFederationArgs;
    /** With `credential: "accessToken"`: where the token refresher runs. Default: see its fields. */
    refresher?: TokenRefresherArgs;
}

/** A username and password (or token) for any registry: Docker Hub, GHCR, a self-hosted registry. */
export interface RegistryCredentialsArgs {
    /** The registry username; must not contain ':'. */
    username: pulumi.Input<string>;
    /** The password or access token; always handled as a secret. */
    password: pulumi.Input<string>;
}

/**
 * The readiness gate: before the Secrets take a new credential (the first `up`, every key rotation,
 * a new password, a takeover), the component proves that it pulls, as a kubelet will pull with it, and
 * waits until it does. For the credentials Pulumi writes (`gcp.credential: "key"`, `gcp.existingKey`,
 * and, when asked, `credentials`), from the machine that runs `pulumi up`, which must reach the
 * registries; with `gcp.credential: "accessToken"`, from the refresher in the cluster, which writes no
 * token before one pulls (Pulumi waits for its Deployment's rollout up to `timeoutSeconds`).
 */
export interface ReadinessArgs {
    /**
     * Wait until the credential pulls. Default: true with `gcp` (a created key, `existingKey` or the
     * refresher's tokens), false with `credentials` (a registry password usually works at once, and
     * such registries are often out of the deployer's reach). Set false only for registries the prover
     * cannot reach (a private network; for the refresher, one its pod's network cannot reach): then
     * Secrets may hold a credential that cannot pull yet (on Google: for minutes after a grant or a new
     * key), and previews warn.
     */
    wait?: boolean;
    /** How long to wait before the `up` fails, naming what still refuses (1 to 3600). Default: 600. */
    timeoutSeconds?: number;
    /**
     * Listed registry hosts that are mirrors or proxies of an Artifact Registry host, e.g.
     * `{ "mirror.example.com:5000": "asia-northeast1-docker.pkg.dev" }`: the gate asks the mirror for
     * the repositories that Google host serves. A host that is neither Google's nor listed here is proved
     * for sign-in only. Default: none.
     */
    mirrorOf?: Record<string, string>;
}

/** The arguments of a {@link RegistryPullSecret}. */
export interface RegistryPullSecretArgs {
    /**
     * The namespaces that get the Secret, each existing already: at least one, except with
     * `gcp.credential: "gkeNode"`, which declares no Secret and takes none. A plain list known when the
     * program runs: one Secret is declared per namespace and named after it.
     */
    namespaces?: string[];
    /**
     * Registry hosts the credential is for, e.g. `gcr.io`, `asia.gcr.io`,
     * `asia-northeast1-docker.pkg.dev`: `host` or `host:port`, kubelet-style globs allowed
     * (`*.gcr.io`, which does not match `gcr.io` itself). At least one, except with
     * `gcp.credential: "gkeNode"`, which writes no docker config and takes none.
     */
    registries?: pulumi.Input<pulumi.Input<string>[]>;
    /** The Secret's name in every namespace. Default: `regcred`. */
    secretName?: pulumi.Input<string>;
    /**
     * ServiceAccounts in each namespace whose `imagePullSecrets` get the Secret. Default: `["default"]`.
     * An empty list creates the Secrets only, for manifests that list `imagePullSecrets` themselves.
     */
    serviceAccounts?: string[];
    /**
     * A Google Cloud credential: a service-account key, the GKE node pool's account or short-lived
     * access tokens (`gcp.credential`), and its repository grants. Exactly one of this and
     * `credentials` is required.
     */
    gcp?: GoogleCloudCredentialArgs;
    /**
     * A username and password for any registry instead of a Google Cloud credential. Exactly one of
     * this and `gcp` is required.
     */
    credentials?: RegistryCredentialsArgs;
    /** Written into each docker config entry, like kubectl's `--docker-email`. Default: none. */
    email?: pulumi.Input<string>;
    /**
     * How the Secret gets into `imagePullSecrets`: `"merge"` (the default) adds and removes only our
     * entry; `"patch"` is a server-side-apply `ServiceAccountPatch` that owns, and on destroy clears,
     * the whole list; each described under `AttachMode`. Known when the program runs: it decides which
     * resource type is declared.
     */
    attachMode?: AttachMode;
    /**
     * The cluster, as a kubeconfig document (a secret). Without an explicit Kubernetes provider it
     * becomes one child provider for the Secrets and `"patch"` attachments, and `"merge"` attachments
     * use it too, so everything goes to one cluster. With an explicit Kubernetes provider (`provider`,
     * `providers` or a parent's) it is required when `"merge"` attachments are declared, and must be
     * that provider's kubeconfig. Default: what the default Kubernetes provider uses:
     * `kubernetes:kubeconfig` and `kubernetes:context` stack config, then `KUBECONFIG`, then
     * `~/.kube/config`, then in-cluster.
     */
    kubeconfig?: pulumi.Input<string>;
    /**
     * Take over what the kubectl recipe made (docs/takeover.md#from-the-kubectl-recipe): in each namespace, a
     * `kubernetes.io/dockerconfigjson` Secret of `secretName` that only kubectl wrote becomes the
     * component's in place (the same object, holding the component's credential from then on; no
     * moment without it), and an `imagePullSecrets` entry of that name that no component claims
     * becomes ours; `destroy` then removes both. A Secret of another type, or one a Pulumi program,
     * another tool or another component wrote, is refused. Previews say what will be taken over.
     * Without it, a Secret of our name that kubectl made is an error naming it and this option. For
     * Secrets Pulumi writes (`gcp.credential: "key"` or `credentials`) with `attachMode: "merge"`.
     * Default: false.
     */
    takeOver?: boolean;
    /** The readiness gate, described under `ReadinessArgs`. Default: with `gcp`, wait up to 600 s; with `credentials`, no wait. */
    readiness?: ReadinessArgs;
}
