/**
 * DOUBLES of Google's token endpoints, not Google: plain HTTP servers on 127.0.0.1 that answer the
 * requests the token refresher sends the way Google documents them, and check what they receive.
 * - metadata server double: `GET /computeMetadata/v1/instance/service-accounts/default/token` with
 *   `Metadata-Flavor: Google`, optionally `?scopes=A,B` -> `{access_token, expires_in, token_type}`;
 *   without `scopes` the token gets `cloud-platform` (what the GKE metadata server does for Workload
 *   Identity, as Google's auth library maintainers describe it: googleapis/google-auth-library-java#458);
 * - STS double: `POST /v1/token`, an RFC 8693 form with the expected audience, subject token and a
 *   scope -> `{access_token, issued_token_type, token_type, expires_in}`;
 * - IAM Credentials double: `POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken` with a
 *   bearer token the double trusts, issued with a scope that may call the API, and a `scope` list ->
 *   `{accessToken, expireTime}`.
 * Each answers with a `Date` header on its own clock (which a test may set apart from the
 * refresher's), issues fresh random tokens with the scopes asked for, can answer the next requests
 * with error statuses, and records every token it issued so tests can prove which one a Secret holds
 * and that no log line has one.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";

export interface IssuedToken {
    token: string;
    /** When it expires, by the clock the double was given (ms). */
    expiresAtMs: number;
    /** The OAuth scopes it was issued with. */
    scopes: string[];
}

export interface TokenDouble {
    url: string;
    /** Tokens issued so far, oldest first. */
    issued: IssuedToken[];
    /** Lifetime of the next tokens, in seconds (what `expires_in` says). */
    lifetimeSeconds: number;
    /** The next requests are answered with these statuses, one each. */
    failNext(...statuses: number[]): void;
    /** The next tokens issued are these, in order (then random ones again). */
    issueNext(...tokens: string[]): void;
    /** Why requests were refused (the double's own checks), for assertions. */
    refusals: string[];
    requests: number;
    close(): Promise<void>;
}

interface Handler {
    /** The answer's JSON, or a refusal reason (400/401/403 with a Google-style error body). */
    (req: http.IncomingMessage, body: string, issue: (scopes: string[]) => IssuedToken): [number, unknown];
}

const cloudPlatform = "https://www.googleapis.com/auth/cloud-platform";

/** A token of the shape the doubles issue: `ya29.double-` and 48 hex digits. */
export function doubleToken(): string {
    return `ya29.double-${randomBytes(24).toString("hex")}`;
}

/** Where a double serves: starts serving `listener` and answers its base URL and how to stop. */
export type Serve = (listener: http.RequestListener) => Promise<{ url: string; close(): Promise<void> }>;

/** Plain HTTP on 127.0.0.1, a free port (the default of every double). */
export const serveOnLoopback: Serve = async (listener) => {
    const server = http.createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
};

async function startDouble(
    now: () => number,
    lifetimeSeconds: number,
    handle: Handler,
    serve: Serve = serveOnLoopback,
): Promise<TokenDouble> {
    const faults: number[] = [];
    const planned: string[] = [];
    const double: Omit<TokenDouble, "url" | "close"> = {
        issued: [],
        lifetimeSeconds,
        failNext: (...statuses) => void faults.push(...statuses),
        issueNext: (...tokens) => void planned.push(...tokens),
        refusals: [],
        requests: 0,
    };
    const issue = (scopes: string[]) => {
        const token = {
            token: planned.shift() ?? doubleToken(),
            expiresAtMs: now() + double.lifetimeSeconds * 1000,
            scopes,
        };
        double.issued.push(token);
        return token;
    };
    const served = await serve((req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
            double.requests++;
            const fault = faults.shift();
            const [code, answer] =
                fault !== undefined
                    ? [fault, { error: { code: fault, status: "UNAVAILABLE", message: "injected by the test" } }]
                    : handle(req, body, issue);
            if (code >= 400 && fault === undefined) double.refusals.push(JSON.stringify(answer));
            // RFC 9110 Date: the double's clock, to the second.
            res.writeHead(code, { "content-type": "application/json", date: new Date(now()).toUTCString() }).end(
                JSON.stringify(answer),
            );
        });
    });
    return Object.assign(double, served);
}

const refuse = (code: number, error: string, description: string): [number, unknown] => [
    code,
    { error, error_description: description },
];

/** The GKE metadata server double. */
export function startMetadataServerDouble(
    now: () => number,
    lifetimeSeconds = 3600,
    serve?: Serve,
): Promise<TokenDouble> {
    return startDouble(
        now,
        lifetimeSeconds,
        (req, _body, issue) => {
            const url = new URL(req.url ?? "", "http://metadata");
            if (
                req.method !== "GET" ||
                url.pathname !== "/computeMetadata/v1/instance/service-accounts/default/token"
            ) {
                return refuse(404, "not_found", "not served by the double");
            }
            // The metadata server refuses requests without this header (a guard against SSRF).
            if (req.headers["metadata-flavor"] !== "Google") return refuse(403, "forbidden", "Metadata-Flavor missing");
            const scopes = url.searchParams.get("scopes");
            const issued = issue(scopes === null ? [cloudPlatform] : scopes.split(","));
            return [
                200,
                {
                    access_token: issued.token,
                    expires_in: Math.round((issued.expiresAtMs - now()) / 1000),
                    token_type: "Bearer",
                },
            ];
        },
        serve,
    );
}

/** The STS double: accepts, for `audience`, only a subject token `acceptsSubjectToken` accepts. */
export function startStsDouble(
    now: () => number,
    expected: { audience: string; acceptsSubjectToken: (token: string) => boolean },
    lifetimeSeconds = 3600,
    serve?: Serve,
): Promise<TokenDouble> {
    return startDouble(
        now,
        lifetimeSeconds,
        (req, body, issue) => {
            if (req.method !== "POST" || req.url !== "/v1/token") return refuse(404, "not_found", "not served");
            const form = new URLSearchParams(body);
            const wanted: Record<string, string> = {
                grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
                requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
                subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
                audience: expected.audience,
            };
            for (const [field, value] of Object.entries(wanted)) {
                if (form.get(field) !== value) return refuse(400, "invalid_request", `${field} is not ${value}`);
            }
            // STS requires a scope when it issues a Google access token for an external credential.
            const scope = form.get("scope");
            if (!scope) return refuse(400, "invalid_request", "scope is required");
            if (!expected.acceptsSubjectToken(form.get("subject_token") ?? "")) {
                return refuse(400, "invalid_grant", "the subject token is not the projected token");
            }
            const issued = issue(scope.split(" "));
            return [
                200,
                {
                    access_token: issued.token,
                    issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
                    token_type: "Bearer",
                    expires_in: Math.round((issued.expiresAtMs - now()) / 1000),
                },
            ];
        },
        serve,
    );
}

/**
 * The IAM Credentials double: impersonates `email` for callers holding a token `trusted` returns,
 * issued with a scope that may call the API (`cloud-platform` or `iam`; otherwise Google answers 403
 * ACCESS_TOKEN_SCOPE_INSUFFICIENT).
 */
export function startIamCredentialsDouble(
    now: () => number,
    expected: { email: string; trusted: () => IssuedToken[] },
    lifetimeSeconds = 3600,
    serve?: Serve,
): Promise<TokenDouble> {
    return startDouble(
        now,
        lifetimeSeconds,
        (req, body, issue) => {
            const path = `/v1/projects/-/serviceAccounts/${encodeURIComponent(expected.email)}:generateAccessToken`;
            if (req.method !== "POST" || req.url !== path) return refuse(404, "not_found", "not served");
            const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
            const caller = expected.trusted().find((t) => t.token === bearer);
            if (caller === undefined) {
                return [401, { error: { code: 401, status: "UNAUTHENTICATED", message: "untrusted caller" } }];
            }
            if (
                !caller.scopes.some((scope) => [cloudPlatform, "https://www.googleapis.com/auth/iam"].includes(scope))
            ) {
                return [
                    403,
                    { error: { code: 403, status: "PERMISSION_DENIED", message: "ACCESS_TOKEN_SCOPE_INSUFFICIENT" } },
                ];
            }
            const request = JSON.parse(body) as { scope?: string[] };
            if (!request.scope?.length) {
                return [400, { error: { code: 400, status: "INVALID_ARGUMENT", message: "scope" } }];
            }
            const issued = issue(request.scope);
            return [200, { accessToken: issued.token, expireTime: new Date(issued.expiresAtMs).toISOString() }];
        },
        serve,
    );
}

/** A clock tests move by hand; sleepers wake when it passes their deadline (or when aborted). */
export class ManualClock {
    private sleepers: { until: number; wake: () => void }[] = [];
    constructor(private current = Date.parse("2026-01-01T00:00:00Z")) {}
    now = (): number => this.current;
    sleep = (ms: number, signal: AbortSignal): Promise<void> =>
        new Promise((resolve) => {
            if (signal.aborted) return resolve();
            const wake = () => {
                signal.removeEventListener("abort", wake);
                resolve();
            };
            this.sleepers.push({ until: this.current + ms, wake });
            signal.addEventListener("abort", wake, { once: true });
        });
    /** How many sleepers wait now (the refresher waits in exactly one between rounds). */
    get waiting(): number {
        return this.sleepers.length;
    }
    /** The earliest deadline a sleeper waits for, as ms from now. */
    get nextWakeInMs(): number | undefined {
        const next = Math.min(...this.sleepers.map((s) => s.until));
        return Number.isFinite(next) ? next - this.current : undefined;
    }
    advance(ms: number): void {
        this.current += ms;
        const due = this.sleepers.filter((s) => s.until <= this.current);
        this.sleepers = this.sleepers.filter((s) => s.until > this.current);
        for (const sleeper of due) sleeper.wake();
    }
}
