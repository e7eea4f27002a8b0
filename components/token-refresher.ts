/**
 * The token refresher: the program that runs in the cluster for `gcp.credential: "accessToken"`.
 * It obtains a short-lived Google access token and writes it, as username `oauth2accesstoken`
 * (docs/facts.md#access-tokens), into each target namespace's `kubernetes.io/dockerconfigjson` Secret with the
 * kubectl-identical encoder of ./docker-config, well before the token expires.
 *
 * It ships compiled (bin/components/token-refresher.js and docker-config.js) in a ConfigMap and runs on
 * the official Node.js image with Node built-ins only: nothing is installed when it starts. No Pulumi
 * import may appear here. The container runs {@link main}; tests run {@link startRefresher} with
 * doubles of Google's endpoints and of the API server. Endpoints can be chosen only through that
 * function, never through the environment, a flag or the ConfigMap: a changed config cannot send a
 * token anywhere but Google and the cluster's own API server.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { dockerConfigJson } from "./docker-config";

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
    email?: string;
    identity: RefresherIdentity;
    /** Impersonate this Google service account (IAM Credentials `generateAccessToken`). */
    impersonate?: string;
    /** The port of the readiness endpoint (`GET /readyz`). */
    port: number;
}

/** The username Artifact Registry expects with an OAuth access token (docs/facts.md#access-tokens). */
export const tokenUsername = "oauth2accesstoken";
/** The label on the Secrets the component creates for the refresher; it writes no other Secret. */
export const managedByLabel = { key: "app.kubernetes.io/managed-by", value: "registry-pull-secret" };
/** The annotation where the refresher records when the written token expires (not a secret). */
export const expiresAtAnnotation = "registry-pull-secret/token-expires-at";
/** Its field manager in `managedFields`. */
export const fieldManager = "registry-pull-secret-token-refresher";
const scope = "https://www.googleapis.com/auth/cloud-platform";

/** How the refresher paces itself. */
export const timing = {
    /**
     * A token with less than this left is never written: the metadata server can hand out a cached
     * token about to expire (docs/facts.md#access-tokens), and asking again shortly gets a fresh one.
     */
    minimumLifetimeMs: 60_000,
    /** First pause after a failure; doubled each time up to `maxRetryMs`. */
    firstRetryMs: 1_000,
    maxRetryMs: 60_000,
    /** Any single HTTP request. */
    requestTimeoutMs: 10_000,
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

/** Ready when every Secret holds a token that has not expired. */
export function isReady(written: readonly (number | undefined)[], nowMs: number): boolean {
    return written.length > 0 && written.every((expiresAt) => expiresAt !== undefined && expiresAt > nowMs);
}

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

export const systemClock: Clock = {
    now: () => Date.now(),
    sleep: (ms, signal) =>
        new Promise((resolve) => {
            const wake = () => {
                clearTimeout(timer);
                signal.removeEventListener("abort", wake);
                resolve();
            };
            const timer = setTimeout(wake, ms);
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
}

function request(
    url: string,
    options: { method: string; headers?: Record<string, string>; body?: string; ca?: string },
): Promise<Answer> {
    const target = new URL(url);
    const transport = target.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
        const req = transport.request(
            target,
            {
                method: options.method,
                headers: {
                    ...options.headers,
                    ...(options.body === undefined ? {} : { "content-length": Buffer.byteLength(options.body) }),
                },
                ...(options.ca === undefined ? {} : { ca: options.ca }),
                timeout: timing.requestTimeoutMs,
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (chunk: Buffer) => chunks.push(chunk));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
                res.on("error", reject);
            },
        );
        req.on("timeout", () => req.destroy(new Error("timed out")));
        req.on("error", reject);
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

async function call(step: string, url: string, options: Parameters<typeof request>[1]): Promise<Answer> {
    let answer: Answer;
    try {
        answer = await request(url, options);
    } catch (error) {
        throw new StepError(step, undefined, String((error as NodeJS.ErrnoException).code ?? "network"));
    }
    if (answer.status < 200 || answer.status > 299) throw new StepError(step, answer.status, errorCode(answer.body));
    return answer;
}

/** A token and when it expires (ms since the epoch, by the refresher's clock). */
interface GoogleToken {
    token: string;
    expiresAtMs: number;
}

/** `{access_token, expires_in}` as the metadata server and STS answer it. */
function oauthToken(step: string, body: string, nowMs: number): GoogleToken {
    const parsed = JSON.parse(body) as { access_token?: unknown; expires_in?: unknown };
    if (typeof parsed.access_token !== "string" || parsed.access_token === "") {
        throw new StepError(step, 200, "no_access_token");
    }
    if (typeof parsed.expires_in !== "number" || !(parsed.expires_in > 0)) {
        throw new StepError(step, 200, "no_expires_in");
    }
    return { token: parsed.access_token, expiresAtMs: nowMs + parsed.expires_in * 1000 };
}

async function metadataServerToken(endpoints: Endpoints, clock: Clock): Promise<GoogleToken> {
    const answer = await call(
        "metadata-server",
        `${endpoints.metadataServer}/computeMetadata/v1/instance/service-accounts/default/token`,
        { method: "GET", headers: { "metadata-flavor": "Google" } },
    );
    return oauthToken("metadata-server", answer.body, clock.now());
}

/** RFC 8693 token exchange at Google's STS with the pod's projected ServiceAccount token. */
async function federatedToken(
    identity: Extract<RefresherIdentity, { source: "federation" }>,
    endpoints: Endpoints,
    clock: Clock,
): Promise<GoogleToken> {
    let subjectToken: string;
    try {
        subjectToken = fs.readFileSync(identity.tokenFile, "utf8").trim();
    } catch (error) {
        throw new StepError("projected-token", undefined, String((error as NodeJS.ErrnoException).code ?? "read"));
    }
    const answer = await call("sts", `${endpoints.sts}/v1/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
            grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
            audience: identity.audience,
            scope,
            requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
            subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
            subject_token: subjectToken,
        }).toString(),
    });
    return oauthToken("sts", answer.body, clock.now());
}

/** IAM Credentials `generateAccessToken` for `email`, authorized by the token we already hold. */
async function impersonate(email: string, caller: GoogleToken, endpoints: Endpoints): Promise<GoogleToken> {
    const answer = await call(
        "iam-credentials",
        `${endpoints.iamCredentials}/v1/projects/-/serviceAccounts/${encodeURIComponent(email)}:generateAccessToken`,
        {
            method: "POST",
            headers: { authorization: `Bearer ${caller.token}`, "content-type": "application/json" },
            body: JSON.stringify({ scope: [scope], lifetime: "3600s" }),
        },
    );
    const parsed = JSON.parse(answer.body) as { accessToken?: unknown; expireTime?: unknown };
    // An RFC 3339 time (Google's clock): the only expiry this API reports.
    const expiresAtMs = typeof parsed.expireTime === "string" ? Date.parse(parsed.expireTime) : NaN;
    if (typeof parsed.accessToken !== "string" || parsed.accessToken === "") {
        throw new StepError("iam-credentials", 200, "no_accessToken");
    }
    if (!Number.isFinite(expiresAtMs)) throw new StepError("iam-credentials", 200, "no_expireTime");
    return { token: parsed.accessToken, expiresAtMs };
}

async function googleToken(config: RefresherConfig, endpoints: Endpoints, clock: Clock): Promise<GoogleToken> {
    const first =
        config.identity.source === "gkeMetadata"
            ? await metadataServerToken(endpoints, clock)
            : await federatedToken(config.identity, endpoints, clock);
    return config.impersonate === undefined ? first : impersonate(config.impersonate, first, endpoints);
}

/** What writing one Secret came to. */
type WriteOutcome = "written" | "missing" | "forbidden" | "notOurs" | "failed";

/** Writes the docker config into one Secret: only a Secret the component created (its label and type). */
async function writeSecret(
    target: RefresherTarget,
    dockerConfig: string,
    expiresAtMs: number,
    endpoints: Endpoints,
    log: Log,
): Promise<WriteOutcome> {
    const { url, ca, token } = endpoints.kubernetes;
    const bearer = token();
    const headers: Record<string, string> = bearer ? { authorization: `Bearer ${bearer}` } : {};
    const path = `${url}/api/v1/namespaces/${encodeURIComponent(target.namespace)}/secrets/${encodeURIComponent(target.secretName)}`;
    const where = { namespace: target.namespace, secret: target.secretName };
    try {
        const current = JSON.parse((await call("get-secret", path, { method: "GET", headers, ca })).body) as {
            type?: string;
            metadata?: { labels?: Record<string, string> };
        };
        if (
            current.type !== "kubernetes.io/dockerconfigjson" ||
            current.metadata?.labels?.[managedByLabel.key] !== managedByLabel.value
        ) {
            log("secret-not-ours", { ...where, detail: "not a dockerconfigjson Secret created by the component" });
            return "notOurs";
        }
        await call("patch-secret", `${path}?fieldManager=${fieldManager}`, {
            method: "PATCH",
            headers: { ...headers, "content-type": "application/merge-patch+json" },
            ca,
            body: JSON.stringify({
                metadata: { annotations: { [expiresAtAnnotation]: new Date(expiresAtMs).toISOString() } },
                data: { ".dockerconfigjson": Buffer.from(dockerConfig, "utf8").toString("base64") },
            }),
        });
        log("secret-written", { ...where, expiresAt: new Date(expiresAtMs).toISOString() });
        return "written";
    } catch (error) {
        if (error instanceof SyntaxError) {
            log("secret-write-failed", { ...where, code: "malformed_answer" });
            return "failed";
        }
        if (!(error instanceof StepError)) throw error;
        const outcome = error.status === 404 ? "missing" : error.status === 403 ? "forbidden" : "failed";
        log(outcome === "missing" ? "secret-missing" : "secret-write-failed", {
            ...where,
            step: error.step,
            status: error.status,
            code: error.code,
            ...(outcome === "missing"
                ? { detail: "the Secret was deleted; `pulumi refresh` then `pulumi up` declares it again" }
                : {}),
        });
        return outcome;
    }
}

export interface RefresherOptions {
    config: RefresherConfig;
    endpoints: Endpoints;
    clock?: Clock;
    log?: Log;
    /** Where the readiness endpoint listens. Default `0.0.0.0` (the kubelet probes the pod's IP). */
    host?: string;
}

export interface Refresher {
    /** The port the readiness endpoint listens on. */
    port: number;
    /** Whether every Secret holds a token that has not expired. */
    ready(): boolean;
    /** When each Secret's written token expires (ms), `undefined` when none is known to be there. */
    written(): Map<string, number | undefined>;
    stop(): Promise<void>;
}

/** Starts the refresh loop and the readiness endpoint. */
export async function startRefresher(options: RefresherOptions): Promise<Refresher> {
    const { config, endpoints } = options;
    const clock = options.clock ?? systemClock;
    const log = options.log ?? stdoutLog;
    const key = (t: RefresherTarget) => `${t.namespace}/${t.secretName}`;
    const written = new Map<string, number | undefined>(config.targets.map((t) => [key(t), undefined]));
    const ready = () => isReady([...written.values()], clock.now());

    const server = http.createServer((req, res) => {
        const ok = req.url === "/readyz" && ready();
        res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ready\n" : "not ready\n");
    });
    await new Promise<void>((resolve) => server.listen(config.port, options.host ?? "0.0.0.0", resolve));

    /** One round: a token, then every Secret. Returns how long to wait before the next round. */
    let failures = 0;
    const round = async (): Promise<number> => {
        let token: GoogleToken;
        try {
            token = await googleToken(config, endpoints, clock);
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
        const dockerConfig = dockerConfigJson(
            config.registries.map((server) => ({
                server,
                username: tokenUsername,
                password: token.token,
                email: config.email,
            })),
        );
        const outcomes = await Promise.all(
            config.targets.map((target) => writeSecret(target, dockerConfig, token.expiresAtMs, endpoints, log)),
        );
        config.targets.forEach((target, i) => {
            if (outcomes[i] === "written") written.set(key(target), token.expiresAtMs);
            // A Secret that is gone, or not ours any more, holds none of our tokens.
            else if (outcomes[i] === "missing" || outcomes[i] === "notOurs") written.set(key(target), undefined);
        });
        const refreshIn = refreshDelayMs(lifetimeMs);
        if (outcomes.every((outcome) => outcome === "written")) {
            failures = 0;
            log("refresh-scheduled", { inSeconds: Math.round(refreshIn / 1000), ready: ready() });
            return refreshIn;
        }
        failures++;
        const delay = retryDelayMs(failures, refreshIn);
        log("retry-scheduled", { inSeconds: delay / 1000, ready: ready() });
        return delay;
    };

    const stopping = new AbortController();
    const loop = (async () => {
        while (!stopping.signal.aborted) {
            const delay = await round();
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
        written: () => new Map(written),
        async stop() {
            stopping.abort();
            await loop.catch(() => undefined);
            await new Promise<void>((resolve) => server.close(() => resolve()));
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
