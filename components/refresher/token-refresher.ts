/**
 * The token refresher: the program that runs in the cluster for `gcp.credential: "accessToken"`.
 * It obtains a short-lived Google access token and writes it, as username `oauth2accesstoken`
 * (docs/facts.md#access-tokens), into each target namespace's `kubernetes.io/dockerconfigjson` Secret with the
 * kubectl-identical encoder of ../rules/docker-config, well before the token expires.
 *
 * It ships compiled (bin/components/refresher/token-refresher.js, rules/docker-config.js and
 * rules/ownership.js) in a ConfigMap and runs on the official Node.js image with Node built-ins only:
 * nothing is installed when it starts. No Pulumi import may appear here, nor in what it imports
 * (test/refresher/refresher-imports.test.ts). The container runs {@link main}; tests run
 * {@link startRefresher} with doubles of Google's endpoints and of the API server. Endpoints can be
 * chosen only through that function, never through the environment, a flag or the ConfigMap: a
 * changed config cannot send a token anywhere but Google and the cluster's own API server.
 *
 * Readiness (`GET /readyz`, what the Deployment's readiness probe asks; {@link isReady}):
 * - 200 when no Secret waits for its first token from this process and every token this process
 *   wrote is still valid, counting a Secret its namespace has broken as settled;
 * - a Secret is broken when the API server refuses it for a reason of that namespace's making: it
 *   was deleted (404), it is not the component's any more (type, managed-by or owner label changed),
 *   writing is forbidden (403: its Role or RoleBinding was removed) or rejected (422: made immutable).
 *   A broken Secret is reported (a log line, a Warning Event on the refresher's Deployment, and
 *   `GET /status`) and retried, but never holds the other Secrets, the rollout or Pulumi back;
 * - a token is written only once one of this process's tokens has pulled: before its first write, it
 *   asks every listed registry host for pull on every listed repository with the token, as the
 *   kubelet will ({@link RefresherConfig.probes}, components/rules/pull-proof.ts), and until they all
 *   let it pull it writes nothing, says what refuses (a log line every 20 s, an Event on its
 *   Deployment) and asks again after 1, 2, 4, 8, then every 10 s. So a Secret never holds a token that
 *   cannot pull yet because a grant has not taken effect; one that already held a token keeps it;
 * - 503 while a Secret waits for its first token (just created by Pulumi, or this process just
 *   started) and the last attempt failed for any other reason (Google, a 5xx, no answer, a token that
 *   does not pull yet), and once a written token has expired (the refresher cannot get or write new
 *   ones). So Pulumi, which waits for the Deployment's readiness before listing the Secrets in
 *   `imagePullSecrets`, still waits for the FIRST token of every Secret it just created, unless that
 *   Secret's namespace broke it.
 * `GET /status` answers JSON: `{ready, states: {pending, written, expired, broken}, tokenPulls}`, counts
 * and whether a token of this process pulled, nothing more: any pod may reach it, so no namespace or
 * Secret name (logs and Events name them). It listens on every address, IPv6 and IPv4 (`::`,
 * dual-stack; `0.0.0.0` where the node has no IPv6), so an IPv6 single-stack cluster's probe reaches it.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { dockerConfigJson } from "../rules/docker-config";
import { isSecretOwnedBy, ownershipKeys } from "../rules/ownership";
import { probeHost } from "../rules/pull-proof";
import {
    progressEveryMs,
    retryDelayMs as proofRetryDelayMs,
    waitingMessage,
    type ReadinessProbe,
    type Refusal,
} from "../rules/readiness";

/** One Secret the refresher keeps fresh. */
export interface RefresherTarget {
    namespace: string;
    secretName: string;
}

/** Where the Google token comes from. */
export type RefresherIdentity =
    /** GKE Workload Identity: the metadata server answers for the pod's Kubernetes ServiceAccount. */
    | { source: "gkeMetadata" }
    /** Workload Identity Federation: a projected ServiceAccount token exchanged at Google's STS. */
    | { source: "federation"; audience: string; tokenFile: string };

/** What the refresher does: the `config.json` of its ConfigMap, written by the component. */
export interface RefresherConfig {
    targets: RefresherTarget[];
    registries: string[];
    /**
     * What the first token must pull from before any is written (components/rules/readiness.ts
     * `readinessProbes`, the gate of the key modes): on Google a new grant takes minutes, and a token
     * written before then pulls nothing. `[]`: written unproved (`readiness.wait: false`).
     */
    probes: ReadinessProbe[];
    email?: string;
    identity: RefresherIdentity;
    /** Impersonate this Google service account (IAM Credentials `generateAccessToken`). */
    impersonate?: string;
    /** The port of the readiness endpoint (`GET /readyz`, `GET /status`). */
    port: number;
    /** The owner id of the component (components/rules/ownership.ts): only Secrets carrying it are written. */
    owner: string;
    /** The refresher's own Deployment: Kubernetes Events about broken Secrets are reported on it. */
    deployment: { namespace: string; name: string };
}

/** The username Artifact Registry expects with an OAuth access token (docs/facts.md#access-tokens). */
export const tokenUsername = "oauth2accesstoken";
/** Its field manager in `managedFields`. */
export const fieldManager = "registry-pull-secret-token-refresher";

/**
 * The scope of every token written into a Secret: the narrowest Artifact Registry accepts for pulls.
 * Google documents that pulling needs the read-only Cloud Storage scope and that pushing needs
 * `devstorage.read_write`, `cloud-platform` or `full-control` (Artifact Registry, "Deploying to
 * Compute Engine", cloud.google.com/artifact-registry/docs/integrate-compute; GKE, "Migrating from
 * legacy access scopes": `storage-ro` covers "pulling private container images from Artifact
 * Registry", cloud.google.com/kubernetes-engine/docs/how-to/access-scopes). A leaked token reads what
 * the principal's IAM grants allow in Cloud Storage and Artifact Registry, and calls no other API.
 */
export const artifactRegistryScope = "https://www.googleapis.com/auth/devstorage.read_only";
/**
 * The scope of the token that only calls IAM Credentials to impersonate (never written anywhere):
 * `generateAccessToken` accepts `cloud-platform` or `iam` (IAM Credentials API reference).
 */
export const impersonationCallerScope = "https://www.googleapis.com/auth/cloud-platform";

/** How the refresher paces itself. */
export const timing = {
    /**
     * A token with less than this left is never written: the metadata server can hand out a cached
     * token about to expire (docs/facts.md#access-tokens), and asking again shortly gets a fresh one.
     */
    minimumLifetimeMs: 60_000,
    /**
     * A token is taken to live at most this long, whatever its issuer says: Google's access tokens live
     * an hour, at most 12 hours where an organization allows longer ones
     * (`constraints/iam.allowServiceAccountCredentialLifetimeExtension`, IAM Credentials
     * `generateAccessToken`). A longer answer (a broken or hostile metadata server) must not schedule a
     * refresh past what a timer can hold: Node.js runs a `setTimeout` above 2^31-1 ms after 1 ms.
     */
    maximumLifetimeMs: 12 * 3_600_000,
    /** First pause after a failure; doubled each time up to `maxRetryMs`. */
    firstRetryMs: 1_000,
    maxRetryMs: 60_000,
    /** The whole of any single HTTP request, answer included: a deadline, not an idle timeout. */
    requestTimeoutMs: 10_000,
    /**
     * How many Secrets are written at once, over as many kept-alive connections: memory and the API
     * server's load stay flat however many namespaces there are (bench/refresher-memory.ts measures it).
     */
    concurrentWrites: 8,
    /** The most of any answer read: a Secret, a token or an error is a few KiB; more is a broken peer. */
    maxAnswerBytes: 1_048_576,
};

/** When to get the next token after writing one that lives `lifetimeMs` more: at a third of it. */
export function refreshDelayMs(lifetimeMs: number): number {
    return Math.floor(lifetimeMs / 3);
}

/** The pause before attempt `failures + 1`, never later than the planned refresh would have been. */
export function retryDelayMs(failures: number, refreshDueInMs = Infinity): number {
    const backoff = Math.min(timing.firstRetryMs * 2 ** Math.max(0, failures - 1), timing.maxRetryMs);
    return Math.max(0, Math.min(backoff, refreshDueInMs));
}

/** Why a Secret's namespace keeps it from being written: reported, never waited for. */
export type BrokenReason = "missing" | "notOurs" | "forbidden" | "rejected";

/** Where one Secret stands, as this process knows it. */
export type TargetStatus =
    /** Not written by this process yet; the last attempt (if any) failed for a reason that may pass. */
    | { state: "pending" }
    /** Holds a token this process wrote, valid until `expiresAtMs` (this process's clock). */
    | { state: "written"; expiresAtMs: number }
    /** Its namespace broke it; retried, reported, not waited for. */
    | { state: "broken"; reason: BrokenReason };

/**
 * Ready when no Secret is pending and every written token is still valid; broken Secrets count as
 * settled. Never ready without targets.
 */
export function isReady(targets: readonly TargetStatus[], nowMs: number): boolean {
    return (
        targets.length > 0 &&
        targets.every((t) => t.state === "broken" || (t.state === "written" && t.expiresAtMs > nowMs))
    );
}

/** What each reason means, for logs, Events and `/status`. */
const brokenDetail: Record<BrokenReason, string> = {
    missing: "deleted (404); `pulumi refresh` then `pulumi up` declares it again",
    notOurs: "not the component's any more (its type, managed-by or owner label changed)",
    forbidden: "writing it is forbidden (403): its Role or RoleBinding is missing",
    rejected: "the API server rejects the write (422): the Secret was made immutable or invalid",
};

/** Where requests go. Only {@link main} and tests build one. */
export interface Endpoints {
    metadataServer: string;
    sts: string;
    iamCredentials: string;
    kubernetes: { url: string; ca?: string; token: () => string | undefined };
}

/** The production endpoints (Google's documented hosts and the in-cluster API server). */
export function inClusterEndpoints(env: NodeJS.ProcessEnv = process.env): Endpoints {
    const serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount";
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? "443";
    if (!host) throw new Error("KUBERNETES_SERVICE_HOST is not set: the refresher runs only in a cluster");
    return {
        // The link-local address GKE's metadata server answers on (no DNS needed).
        metadataServer: "http://169.254.169.254",
        sts: "https://sts.googleapis.com",
        iamCredentials: "https://iamcredentials.googleapis.com",
        kubernetes: {
            url: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
            ca: fs.readFileSync(`${serviceAccount}/ca.crt`, "utf8"),
            // Read on every request: the kubelet rotates the projected token file.
            token: () => fs.readFileSync(`${serviceAccount}/token`, "utf8").trim(),
        },
    };
}

/** Time, injectable so tests can move it. `sleep` resolves early when `signal` aborts. */
export interface Clock {
    now(): number;
    sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The longest delay a Node.js timer holds; a longer one fires after 1 ms. */
const maxTimerMs = 2 ** 31 - 1;

export const systemClock: Clock = {
    now: () => Date.now(),
    sleep: (ms, signal) =>
        new Promise((resolve) => {
            if (signal.aborted) return resolve();
            const wake = () => {
                clearTimeout(timer);
                signal.removeEventListener("abort", wake);
                resolve();
            };
            const timer = setTimeout(wake, Math.min(Math.max(0, ms), maxTimerMs));
            signal.addEventListener("abort", wake, { once: true });
        }),
};

/** One log line's fields. Never a token, a response body or a Secret's data. */
export type LogFields = Record<string, string | number | boolean | undefined>;
export type Log = (event: string, fields?: LogFields) => void;
const stdoutLog: Log = (event, fields = {}) =>
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);

/** A failed step, described without anything a response carried except its status and error code. */
class StepError extends Error {
    constructor(
        readonly step: string,
        readonly status: number | undefined,
        readonly code: string,
    ) {
        super(`${step} failed: ${status ?? "no answer"} ${code}`);
    }
}

interface Answer {
    status: number;
    body: string;
    /** The `Date` header: the server's clock, to the second. */
    date?: string;
}

type RequestOptions = { method: string; headers?: Record<string, string>; body?: string; ca?: string };

/** One kept-alive agent per scheme for all of a refresher's requests: one TLS handshake per connection, not per call. */
interface Agents {
    http: http.Agent;
    https: https.Agent;
}

function keptAlive(): Agents {
    const options = { keepAlive: true, maxSockets: timing.concurrentWrites };
    return { http: new http.Agent(options), https: new https.Agent(options) };
}

/**
 * One request, abandoned when the whole of it (connect, send, answer) takes longer than `deadlineMs`
 * or its answer grows past {@link timing}.maxAnswerBytes.
 */
function request(url: string, options: RequestOptions, deadlineMs: number, agents: Agents): Promise<Answer> {
    const target = new URL(url);
    const secure = target.protocol === "https:";
    const transport = secure ? https : http;
    return new Promise((resolve, reject) => {
        const req = transport.request(
            target,
            {
                method: options.method,
                agent: secure ? agents.https : agents.http,
                headers: {
                    ...options.headers,
                    ...(options.body === undefined ? {} : { "content-length": Buffer.byteLength(options.body) }),
                },
                ...(options.ca === undefined ? {} : { ca: options.ca }),
            },
            (res) => {
                const chunks: Buffer[] = [];
                let size = 0;
                res.on("data", (chunk: Buffer) => {
                    size += chunk.length;
                    if (size > timing.maxAnswerBytes) {
                        clearTimeout(deadline);
                        req.destroy(Object.assign(new Error("answer too large"), { code: "answer_too_large" }));
                        return;
                    }
                    chunks.push(chunk);
                });
                res.on("end", () => {
                    clearTimeout(deadline);
                    resolve({
                        status: res.statusCode ?? 0,
                        body: Buffer.concat(chunks).toString(),
                        date: res.headers.date,
                    });
                });
                res.on("error", reject);
            },
        );
        const deadline = setTimeout(
            () => req.destroy(Object.assign(new Error("deadline"), { code: "timeout" })),
            deadlineMs,
        );
        req.on("error", (error) => {
            clearTimeout(deadline);
            reject(error);
        });
        req.end(options.body);
    });
}

/** A short error identifier from a JSON error body (`error`, `error.status`, `reason`), never its text. */
function errorCode(body: string): string {
    let parsed: unknown;
    try {
        parsed = JSON.parse(body);
    } catch {
        return "";
    }
    const p = parsed as { error?: unknown; reason?: unknown };
    const candidate =
        typeof p.error === "string" ? p.error : ((p.error as { status?: unknown } | undefined)?.status ?? p.reason);
    return typeof candidate === "string" && /^[A-Za-z_.]{1,64}$/.test(candidate) ? candidate : "";
}

/** Sends requests with a deadline; a failure becomes a {@link StepError}. */
type Call = (step: string, url: string, options: RequestOptions) => Promise<Answer>;

function caller(deadlineMs: number, agents: Agents): Call {
    return async (step, url, options) => {
        let answer: Answer;
        try {
            answer = await request(url, options, deadlineMs, agents);
        } catch (error) {
            throw new StepError(step, undefined, String((error as NodeJS.ErrnoException).code ?? "network"));
        }
        if (answer.status < 200 || answer.status > 299)
            throw new StepError(step, answer.status, errorCode(answer.body));
        return answer;
    };
}

/** Reads a credential file; a failure is a step that failed, never an escape from the round. */
function readFile(step: string, file: () => string | undefined): string | undefined {
    try {
        return file();
    } catch (error) {
        throw new StepError(step, undefined, String((error as NodeJS.ErrnoException).code ?? "read"));
    }
}

/**
 * A token and when it expires: `expiresAtMs` by this process's clock (for scheduling and readiness),
 * `issuerExpiresAt` by the issuer's (what the Secret's annotation says).
 */
interface GoogleToken {
    token: string;
    expiresAtMs: number;
    issuerExpiresAt: string;
}

/**
 * An expiry the issuer stated on its own clock, moved onto ours with the answer's `Date` header (the
 * issuer's now): a pod whose clock runs ahead or behind still refreshes on time. Without a usable
 * `Date`, the clocks are taken to agree.
 */
function fromIssuerClock(issuerExpiresAtMs: number, answer: Answer, nowMs: number): GoogleToken["expiresAtMs"] {
    const issuerNow = answer.date === undefined ? NaN : Date.parse(answer.date);
    return Number.isFinite(issuerNow) ? nowMs + (issuerExpiresAtMs - issuerNow) : issuerExpiresAtMs;
}

/**
 * An answer's body as a JSON object; anything else (`null`, a list, a number, text) is a malformed
 * answer of `step`, which the loop retries like any failed request.
 */
function jsonObject(step: string, body: string): Record<string, unknown> {
    let parsed: unknown;
    try {
        parsed = JSON.parse(body);
    } catch {
        throw new StepError(step, 200, "malformed_answer");
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new StepError(step, 200, "malformed_answer");
    }
    return parsed as Record<string, unknown>;
}

/** `{access_token, expires_in}` as the metadata server and STS answer it (`expires_in`: seconds from the answer). */
function oauthToken(step: string, answer: Answer, nowMs: number): GoogleToken {
    const parsed = jsonObject(step, answer.body);
    if (typeof parsed.access_token !== "string" || parsed.access_token === "") {
        throw new StepError(step, 200, "no_access_token");
    }
    if (typeof parsed.expires_in !== "number" || !(parsed.expires_in > 0)) {
        throw new StepError(step, 200, "no_expires_in");
    }
    const issuerNow = answer.date === undefined ? NaN : Date.parse(answer.date);
    const lifetimeMs = Math.min(parsed.expires_in * 1000, timing.maximumLifetimeMs);
    return {
        token: parsed.access_token,
        expiresAtMs: nowMs + lifetimeMs,
        issuerExpiresAt: new Date((Number.isFinite(issuerNow) ? issuerNow : nowMs) + lifetimeMs).toISOString(),
    };
}

export interface RefresherOptions {
    config: RefresherConfig;
    endpoints: Endpoints;
    clock?: Clock;
    log?: Log;
    /**
     * Where the readiness endpoint listens. Default: every address, IPv6 and IPv4 (Node's `::`
     * dual-stack socket, or `0.0.0.0` where there is no IPv6): the kubelet probes the pod's IP, an
     * IPv6 one on single-stack IPv6 clusters.
     */
    host?: string;
    /** The deadline of each HTTP request. Default {@link timing}.requestTimeoutMs. */
    requestTimeoutMs?: number;
}

export interface Refresher {
    /** The port the readiness endpoint listens on. */
    port: number;
    /** What `GET /readyz` answers: see the module comment. */
    ready(): boolean;
    /** Each Secret's state (`namespace/secretName` to its status). */
    status(): Map<string, TargetStatus>;
    /** Each Secret's state as the logs and Events tell it (`GET /status` gives only the counts). */
    targets(): PublicTargetStatus[];
    stop(): Promise<void>;
}

/** One Secret's state as the refresher tells it in its logs and Events. */
export interface PublicTargetStatus {
    namespace: string;
    secretName: string;
    state: "pending" | "written" | "expired" | "broken";
    reason?: string;
    detail?: string;
    expiresAt?: string;
}

/** How many Secrets are in each state: all `GET /status` says. */
export function countStates(targets: readonly PublicTargetStatus[]): Record<PublicTargetStatus["state"], number> {
    const counts = { pending: 0, written: 0, expired: 0, broken: 0 };
    for (const target of targets) counts[target.state]++;
    return counts;
}

/** `work` for every item, at most `width` at once, the results in the items' order. */
export async function inTurns<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await work(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
    return results;
}

/** Starts the refresh loop and the readiness endpoint. */
export async function startRefresher(options: RefresherOptions): Promise<Refresher> {
    const { config, endpoints } = options;
    const clock = options.clock ?? systemClock;
    const log = options.log ?? stdoutLog;
    const agents = keptAlive();
    const call = caller(options.requestTimeoutMs ?? timing.requestTimeoutMs, agents);
    const key = (t: RefresherTarget) => `${t.namespace}/${t.secretName}`;
    const statuses = new Map<string, TargetStatus>(config.targets.map((t) => [key(t), { state: "pending" }]));
    const ready = () => isReady([...statuses.values()], clock.now());

    const kubernetes = (() => {
        const { url, ca } = endpoints.kubernetes;
        const headers = (): Record<string, string> => {
            const bearer = readFile("service-account-token", endpoints.kubernetes.token);
            return bearer ? { authorization: `Bearer ${bearer}` } : {};
        };
        return {
            get: (step: string, path: string) => call(step, `${url}${path}`, { method: "GET", headers: headers(), ca }),
            send: (step: string, method: string, path: string, contentType: string, body: unknown) =>
                call(step, `${url}${path}`, {
                    method,
                    headers: { ...headers(), "content-type": contentType },
                    ca,
                    body: JSON.stringify(body),
                }),
        };
    })();

    // ---- Google ----
    async function metadataServerToken(scope: string | undefined): Promise<GoogleToken> {
        const query = scope === undefined ? "" : `?scopes=${encodeURIComponent(scope)}`;
        const answer = await call(
            "metadata-server",
            `${endpoints.metadataServer}/computeMetadata/v1/instance/service-accounts/default/token${query}`,
            { method: "GET", headers: { "metadata-flavor": "Google" } },
        );
        return oauthToken("metadata-server", answer, clock.now());
    }

    /** RFC 8693 token exchange at Google's STS with the pod's projected ServiceAccount token. */
    async function federatedToken(
        identity: Extract<RefresherIdentity, { source: "federation" }>,
        scope: string,
    ): Promise<GoogleToken> {
        const subjectToken = readFile("projected-token", () => fs.readFileSync(identity.tokenFile, "utf8").trim());
        const answer = await call("sts", `${endpoints.sts}/v1/token`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({
                grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
                audience: identity.audience,
                scope,
                requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
                subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
                subject_token: subjectToken ?? "",
            }).toString(),
        });
        return oauthToken("sts", answer, clock.now());
    }

    /** IAM Credentials `generateAccessToken` for `email`, authorized by the token we already hold. */
    async function impersonate(email: string, callerToken: GoogleToken): Promise<GoogleToken> {
        const answer = await call(
            "iam-credentials",
            `${endpoints.iamCredentials}/v1/projects/-/serviceAccounts/${encodeURIComponent(email)}:generateAccessToken`,
            {
                method: "POST",
                headers: { authorization: `Bearer ${callerToken.token}`, "content-type": "application/json" },
                body: JSON.stringify({ scope: [artifactRegistryScope], lifetime: "3600s" }),
            },
        );
        const parsed = jsonObject("iam-credentials", answer.body);
        // An RFC 3339 time on Google's clock: the only expiry this API reports.
        const issuerExpiresAtMs = typeof parsed.expireTime === "string" ? Date.parse(parsed.expireTime) : NaN;
        if (typeof parsed.accessToken !== "string" || parsed.accessToken === "") {
            throw new StepError("iam-credentials", 200, "no_accessToken");
        }
        if (!Number.isFinite(issuerExpiresAtMs)) throw new StepError("iam-credentials", 200, "no_expireTime");
        const nowMs = clock.now();
        const latestMs = nowMs + timing.maximumLifetimeMs;
        return {
            token: parsed.accessToken,
            expiresAtMs: Math.min(fromIssuerClock(issuerExpiresAtMs, answer, nowMs), latestMs),
            issuerExpiresAt: new Date(Math.min(issuerExpiresAtMs, latestMs)).toISOString(),
        };
    }

    async function googleToken(): Promise<GoogleToken> {
        // The token written into Secrets carries the narrow scope; one that only impersonates, the broad one.
        const scope = config.impersonate === undefined ? artifactRegistryScope : impersonationCallerScope;
        const first =
            config.identity.source === "gkeMetadata"
                ? await metadataServerToken(config.impersonate === undefined ? scope : undefined)
                : await federatedToken(config.identity, scope);
        return config.impersonate === undefined ? first : impersonate(config.impersonate, first);
    }

    // ---- Kubernetes ----
    type WriteOutcome = "written" | "failed" | BrokenReason;

    /** Writes the docker config into one Secret: only a dockerconfigjson Secret carrying our managed-by and owner labels. */
    async function writeSecret(
        target: RefresherTarget,
        dockerConfig: string,
        token: GoogleToken,
    ): Promise<WriteOutcome> {
        const path = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/secrets/${encodeURIComponent(target.secretName)}`;
        const where = { namespace: target.namespace, secret: target.secretName };
        try {
            const current = jsonObject("get-secret", (await kubernetes.get("get-secret", path)).body) as {
                type?: string;
                metadata?: { labels?: Record<string, string> };
            };
            if (current.type !== "kubernetes.io/dockerconfigjson" || !isSecretOwnedBy(current, config.owner)) {
                return "notOurs";
            }
            await kubernetes.send(
                "patch-secret",
                "PATCH",
                `${path}?fieldManager=${fieldManager}`,
                "application/merge-patch+json",
                {
                    metadata: { annotations: { [ownershipKeys.tokenExpiresAt]: token.issuerExpiresAt } },
                    data: { ".dockerconfigjson": Buffer.from(dockerConfig, "utf8").toString("base64") },
                },
            );
            log("secret-written", { ...where, expiresAt: token.issuerExpiresAt });
            return "written";
        } catch (error) {
            if (error instanceof SyntaxError) {
                log("secret-write-failed", { ...where, code: "malformed_answer" });
                return "failed";
            }
            if (!(error instanceof StepError)) throw error;
            const broken: BrokenReason | undefined =
                error.status === 404
                    ? "missing"
                    : error.status === 403
                      ? "forbidden"
                      : error.status === 422
                        ? "rejected"
                        : undefined;
            if (broken === undefined) {
                log("secret-write-failed", { ...where, step: error.step, status: error.status, code: error.code });
            }
            return broken ?? "failed";
        }
    }

    /** The Deployment's uid, for Events `kubectl describe deployment` shows; read once. */
    let deploymentUid: string | undefined;
    /** A Kubernetes Event on the refresher's Deployment; a failure to report is logged, nothing more. */
    async function reportEvent(type: "Warning" | "Normal", reason: string, message: string): Promise<void> {
        const { namespace, name } = config.deployment;
        const ns = encodeURIComponent(namespace);
        try {
            if (deploymentUid === undefined) {
                const read = await kubernetes.get(
                    "get-deployment",
                    `/apis/apps/v1/namespaces/${ns}/deployments/${encodeURIComponent(name)}`,
                );
                const uid = (jsonObject("get-deployment", read.body).metadata as { uid?: unknown } | null)?.uid;
                deploymentUid = typeof uid === "string" ? uid : undefined;
            }
            const now = new Date(clock.now()).toISOString();
            await kubernetes.send("create-event", "POST", `/api/v1/namespaces/${ns}/events`, "application/json", {
                apiVersion: "v1",
                kind: "Event",
                metadata: { generateName: `${name}.`, namespace },
                involvedObject: { apiVersion: "apps/v1", kind: "Deployment", name, namespace, uid: deploymentUid },
                type,
                reason,
                message,
                source: { component: fieldManager },
                reportingComponent: fieldManager,
                reportingInstance: process.env.HOSTNAME ?? fieldManager,
                firstTimestamp: now,
                lastTimestamp: now,
                count: 1,
            });
        } catch (error) {
            const fields =
                error instanceof StepError ? { step: error.step, status: error.status, code: error.code } : {};
            log("event-failed", { reason, ...fields });
        }
    }

    /** Records a Secret's new state; a Secret turning broken, or back, is reported once per change. */
    async function settle(target: RefresherTarget, outcome: WriteOutcome, token: GoogleToken): Promise<void> {
        const before = statuses.get(key(target))!;
        const where = `Secret ${target.namespace}/${target.secretName}`;
        if (outcome === "written") {
            statuses.set(key(target), { state: "written", expiresAtMs: token.expiresAtMs });
            if (before.state === "broken") {
                log("secret-recovered", { namespace: target.namespace, secret: target.secretName });
                await reportEvent("Normal", "PullSecretRecovered", `${where}: written again`);
            }
            return;
        }
        if (outcome === "failed") {
            // A written token stays until it expires (then the Secret counts as expired); pending stays pending.
            return;
        }
        statuses.set(key(target), { state: "broken", reason: outcome });
        if (before.state === "broken" && before.reason === outcome) return;
        log("secret-broken", {
            namespace: target.namespace,
            secret: target.secretName,
            reason: outcome,
            detail: brokenDetail[outcome],
        });
        await reportEvent(
            "Warning",
            "PullSecretBroken",
            `${where}: ${brokenDetail[outcome]}. The refresher keeps the other Secrets fresh and stays ready.`,
        );
    }

    // ---- the first token's proof ----
    /** While no token of this process has pulled: since when it waits, how often it asked, what it said. */
    let proof: { sinceMs: number; attempts: number; loggedAtMs: number; reported: boolean } | undefined =
        config.probes.length > 0
            ? { sinceMs: clock.now(), attempts: 0, loggedAtMs: -Infinity, reported: false }
            : undefined;

    /** Every refusal the registries give `token` now: none once it pulls from every probe. */
    async function refusalsOf(token: GoogleToken): Promise<Refusal[]> {
        const asked = await Promise.all(config.probes.map((p) => probeHost({ fetch }, p, tokenUsername, token.token)));
        return asked.flat();
    }

    /**
     * `undefined` once a token of this process pulls (asked until one does), else how long to wait
     * before asking again (never past the token's planned refresh).
     */
    async function unproved(token: GoogleToken & { refreshAtMs: number }): Promise<number | undefined> {
        if (proof === undefined) return undefined;
        const refusals = await refusalsOf(token);
        const now = clock.now();
        const waitedSeconds = Math.round((now - proof.sinceMs) / 1000);
        if (refusals.length === 0) {
            log("token-pulls", { waitedSeconds });
            if (proof.reported) await reportEvent("Normal", "TokenPulls", `the token pulls after ${waitedSeconds} s`);
            proof = undefined;
            return undefined;
        }
        const delay = Math.max(0, Math.min(proofRetryDelayMs(proof.attempts++), token.refreshAtMs - now));
        if (now - proof.loggedAtMs >= progressEveryMs) {
            const [first] = refusals;
            log("token-does-not-pull-yet", {
                host: first.host,
                repository: first.repository,
                status: first.status,
                reason: first.reason,
                refusals: refusals.length,
                waitedSeconds,
                retryInSeconds: delay / 1000,
            });
            proof.loggedAtMs = now;
            if (!proof.reported) {
                proof.reported = true;
                await reportEvent(
                    "Warning",
                    "TokenDoesNotPullYet",
                    `${waitingMessage(first, now - proof.sinceMs)}. No Secret is written until the token pulls.`,
                );
            }
        }
        return delay;
    }

    // ---- the loop ----
    /** The token being written: fetched again once its refresh is due, reused by retries before that. */
    let held: (GoogleToken & { refreshAtMs: number; dockerConfig: string }) | undefined;
    /** Which Secrets hold the held token. */
    let holding = new Set<string>();
    let failures = 0;

    /** One round: a token when due, then every Secret that does not hold it. Returns how long to wait. */
    const round = async (): Promise<number> => {
        if (held === undefined || clock.now() >= held.refreshAtMs) {
            let token: GoogleToken;
            try {
                token = await googleToken();
            } catch (error) {
                if (!(error instanceof StepError) && !(error instanceof SyntaxError)) throw error;
                failures++;
                const delay = retryDelayMs(failures);
                const fields =
                    error instanceof StepError
                        ? { step: error.step, status: error.status, code: error.code }
                        : { code: "malformed_answer" };
                log("token-failed", { ...fields, retryInSeconds: delay / 1000 });
                return delay;
            }
            const lifetimeMs = token.expiresAtMs - clock.now();
            if (lifetimeMs < timing.minimumLifetimeMs) {
                failures++;
                const delay = retryDelayMs(failures);
                log("token-nearly-expired", {
                    expiresInSeconds: Math.floor(lifetimeMs / 1000),
                    retryInSeconds: delay / 1000,
                });
                return delay;
            }
            held = {
                ...token,
                refreshAtMs: clock.now() + refreshDelayMs(lifetimeMs),
                dockerConfig: dockerConfigJson(
                    config.registries.map((server) => ({
                        server,
                        username: tokenUsername,
                        password: token.token,
                        email: config.email,
                    })),
                ),
            };
            holding = new Set();
        }
        const token = held;
        const notYet = await unproved(token);
        if (notYet !== undefined) return notYet;
        const due = config.targets.filter((t) => !holding.has(key(t)));
        const outcomes = await inTurns(due, timing.concurrentWrites, (target) =>
            writeSecret(target, token.dockerConfig, token),
        );
        for (const [i, target] of due.entries()) {
            if (outcomes[i] === "written") holding.add(key(target));
            await settle(target, outcomes[i], token);
        }
        const refreshIn = Math.max(0, token.refreshAtMs - clock.now());
        if (holding.size === config.targets.length) {
            failures = 0;
            log("refresh-scheduled", { inSeconds: Math.round(refreshIn / 1000), ready: ready() });
            return refreshIn;
        }
        failures++;
        const delay = retryDelayMs(failures, refreshIn);
        log("retry-scheduled", { inSeconds: delay / 1000, ready: ready() });
        return delay;
    };

    const publicStatus = (): PublicTargetStatus[] =>
        config.targets.map((t): PublicTargetStatus => {
            const s = statuses.get(key(t))!;
            const state = s.state === "written" && s.expiresAtMs <= clock.now() ? "expired" : s.state;
            return {
                namespace: t.namespace,
                secretName: t.secretName,
                state,
                ...(s.state === "broken" ? { reason: s.reason, detail: brokenDetail[s.reason] } : {}),
                ...(s.state === "written" ? { expiresAt: new Date(s.expiresAtMs).toISOString() } : {}),
            };
        });

    // Unauthenticated, and any pod that can reach the pod's IP may ask: the answers name no namespace
    // and no Secret, only how many Secrets are in each state (the names are in the logs and the
    // Deployment's Events, which RBAC guards).
    const server = http.createServer((req, res) => {
        const states = countStates(publicStatus());
        if (req.url === "/status") {
            res.writeHead(200, { "content-type": "application/json" }).end(
                `${JSON.stringify({ ready: ready(), states, tokenPulls: proof === undefined })}\n`,
            );
            return;
        }
        const ok = req.url === "/readyz" && ready();
        res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(
            ok
                ? "ready\n"
                : `not ready: ${states.pending} pending, ${states.expired} expired${proof === undefined ? "" : ", the token does not pull yet"}\n`,
        );
    });
    await new Promise<void>((resolve) =>
        options.host === undefined
            ? server.listen(config.port, resolve)
            : server.listen(config.port, options.host, resolve),
    );

    const stopping = new AbortController();
    const loop = (async () => {
        while (!stopping.signal.aborted) {
            const delay = await round();
            // A stop during the round must not wait out the sleep (SIGTERM: the pod's grace period).
            if (stopping.signal.aborted) break;
            await clock.sleep(delay, stopping.signal);
        }
    })();
    loop.catch((error) => {
        // A bug, not a failed request: stop serving ready so the kubelet restarts nothing silently.
        log("crashed", { code: error instanceof Error ? error.name : "unknown" });
        server.close();
    });

    return {
        port: (server.address() as AddressInfo).port,
        ready,
        status: () => new Map(statuses),
        targets: publicStatus,
        async stop() {
            stopping.abort();
            await loop.catch(() => undefined);
            await new Promise<void>((resolve) => server.close(() => resolve()));
            agents.http.destroy();
            agents.https.destroy();
        },
    };
}

/** The container's entry point: the config from the ConfigMap, the in-cluster endpoints, stop on SIGTERM. */
export async function main(configFile = "/refresher/config.json"): Promise<void> {
    const config = JSON.parse(fs.readFileSync(configFile, "utf8")) as RefresherConfig;
    const refresher = await startRefresher({ config, endpoints: inClusterEndpoints() });
    stdoutLog("started", { targets: config.targets.length, identity: config.identity.source, port: refresher.port });
    process.once("SIGTERM", () => void refresher.stop().then(() => process.exit(0)));
}

if (require.main === module) {
    main().catch((error: unknown) => {
        stdoutLog("failed-to-start", { code: error instanceof Error ? error.message : "unknown" });
        process.exit(1);
    });
}
