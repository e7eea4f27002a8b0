/**
 * An Artifact Registry FRONT, a double: a small HTTP server before Debian's docker-registry
 * (test/support/real-registry.ts) that lets a pull through only when Google, as the Google Cloud
 * double's state file stands for it (test/support/google-cloud-double/state.ts), would. It speaks the
 * Docker token protocol, as Artifact Registry does (distribution/distribution docs/spec/auth/token.md,
 * v2.8.3, "How to authenticate"):
 *
 * 1. a request without a token it issued (none, Basic, an unknown or expired Bearer) gets 401 and
 *    `WWW-Authenticate: Bearer realm="<front>/v2/token"`, with `service="<host>"` for the `gcr.io`
 *    hosts and no `service` for `LOCATION-docker.pkg.dev`, as the real hosts answer
 *    (`Bearer realm="https://gcr.io/v2/token",service=gcr.io`; `Bearer realm="https://europe-docker.pkg.dev/v2/token"`
 *    without `service`: apple/containerization Tests/ContainerizationOCITests/ArtifactRegistryLoginTests.swift
 *    and AuthChallengeTests, seqeralabs/wave ProxyClientTest for europe-southwest1-docker.pkg.dev);
 *    a resource request's challenge names its `scope="repository:NAME:pull"` (the spec's example);
 * 2. `GET /v2/token?scope=repository:NAME:pull` with the credential as Basic proves who the caller is
 *    and answers `{"token": ..., "access_token": ..., "expires_in": 3600, "issued_at": ...}`; a
 *    credential that proves nothing gets 401 UNAUTHORIZED here, at the token endpoint: so a key Google
 *    does not accept yet is refused where real Artifact Registry refuses it. No credential at all gets an
 *    anonymous token (`allUsers`), as the real endpoint gives one for public repositories.
 *    `POST /v2/token` (OAuth2 password grant) answers 404: "As of September 2017, GCR is known to return
 *    404", containerd `core/remotes/docker/authorizer.go`, which then GETs;
 * 3. a manifest, blob or tag request with a Bearer token is let through when the token's scope names
 *    the repository and, as Google sees it at that moment, the token's principal may pull there: 401
 *    `insufficient_scope` otherwise for the scope, 403 DENIED for the grant, with Artifact Registry's
 *    words (`Permission "artifactregistry.repositories.downloadArtifacts" denied on resource ... (or it may
 *    not exist)`; for an anonymous token `Unauthenticated request. Unauthenticated requests do not have
 *    permission ...`, as quoted in Zipstack/unstract#269). IAM is checked on each request, not when the
 *    token is issued, so a grant that takes effect later lets the same token through.
 *
 * Who a credential is:
 * - username `_json_key` (password: the key file's JSON) or `_json_key_base64` (its base64): the key's
 *   account exists and is enabled, the key (`private_key_id`) still exists, has signed in since its
 *   propagation delay passed and not past its `validBefore` (google-cloud-double/propagation.ts), and the
 *   caller holds its private key (a signature made with it verifies against the certificate Google keeps);
 * - username `oauth2accesstoken`: a token issuer (below) vouches for the token and names its member;
 * - then the member (`serviceAccount:EMAIL`, `principal://...`) must hold a role with
 *   `artifactregistry.repositories.downloadArtifacts` on the repository the pulled name belongs to, as
 *   the data plane sees the policy: a grant or revocation only once its propagation delay has passed.
 *   The token endpoint's refusal is 401 UNAUTHORIZED "not authenticated: No valid credential was
 *   supplied." (Artifact Registry's words, as quoted in gitpod-io/gitpod#11454); its reason, e.g.
 *   Google's OAuth `invalid_grant` "Invalid JWT Signature." for a key not known yet, is kept in
 *   `decisions`.
 *
 * A token is re-judged on every request with the credential it was issued for: a key deleted,
 * disabled or expired after the token was issued, or an access token past its expiry, stops the very
 * next request. Whether Google itself still honours an issued token then is not known here; the double
 * takes the harder answer, so a rotation that passes here cannot lean on a token outliving its key.
 *
 * Which repository a pull reads follows the host the front stands for (docs/facts.md#registries-and-the-reader-role):
 * `gcr.io`, `asia.gcr.io`, `eu.gcr.io`, `us.gcr.io` are repositories named after the host in `us`,
 * `asia`, `europe`, `us`, with names `PROJECT/IMAGE`; `LOCATION-docker.pkg.dev` names
 * `PROJECT/REPOSITORY/IMAGE` in LOCATION. Each host it stands for gets its own port on 127.0.0.1.
 *
 * Token issuers (the API other tests plug their token doubles into): a `TokenIssuer` is a function
 * from an access token to `{ member }` when that issuer issued it and it has not expired, else
 * undefined. `issuedBy(double, member, now)` makes one from a double of test/support/google-token-doubles.ts.
 * Pass them as `tokenIssuers`, or later with `front.addTokenIssuer(issuer)`.
 *
 * Not modelled: pushes, project-level grants, IAM conditions, `allAuthenticatedUsers`, the real
 * token's format (here an opaque random string). Nothing is logged; `decisions` records who was let
 * through or refused, never a credential or a token. It listens on 127.0.0.1, or on `address` (a test
 * network's host end, which a node's pods reach), over plain HTTP, or over HTTPS with `tls`, as
 * Artifact Registry serves (a pod asks any address that is not loopback over HTTPS, as the readiness
 * proof and Docker do).
 */
import http from "node:http";
import https from "node:https";
import { createHash, createVerify, randomBytes, sign, X509Certificate } from "node:crypto";
import type { AddressInfo } from "node:net";
import { artifactRegistryRepositoryOf } from "../../components/rules/artifact-registry";
import { findAccount, holdsRole } from "./google-cloud-double/google-apis";
import { seenHolding } from "./google-cloud-double/propagation";
import { pullRoles } from "./google-cloud-double/rules";
import { readGoogleCloud, type GoogleCloud } from "./google-cloud-double/state";
import type { TokenDouble } from "./google-token-doubles";

export type TokenIssuer = (accessToken: string) => { member: string } | undefined;

/** A token issuer for the tokens `double` issued to `member`, each valid until its expiry by `now`. */
export function issuedBy(double: TokenDouble, member: string, now: () => number = Date.now): TokenIssuer {
    return (accessToken) => {
        const issued = double.issued.find((t) => t.token === accessToken);
        return issued && issued.expiresAtMs > now() ? { member } : undefined;
    };
}

/** The repository a pull of `name` reads through a host standing for `registryHost`, or undefined. */
export const repositoryOfPull = artifactRegistryRepositoryOf;

/**
 * Private keys already shown to match their key's certificate, by key id: the proof of possession
 * is a signature per key, not per request (the key's existence and its account are checked on every
 * request).
 */
const provenKeys = new Map<string, string>();

/**
 * Google's OAuth token endpoint's answer to a JWT signed with a key it does not accept (not known yet,
 * deleted or expired): google-github-actions/setup-gcloud#76 quotes it for a rotated key.
 */
export const invalidJwtSignature = "invalid_grant: Invalid JWT Signature.";

/** The member a key file proves at `nowMs`, or why it proves nothing. */
export function memberOfKey(
    google: GoogleCloud,
    keyFileJson: string,
    nowMs: number = Date.now(),
): { member: string } | { refused: string } {
    let file: Record<string, unknown>;
    try {
        file = JSON.parse(keyFileJson);
    } catch {
        return { refused: "not a key file" };
    }
    const { client_email: email, private_key_id: keyId, private_key: privateKey } = file;
    if (file.type !== "service_account" || typeof email !== "string" || typeof keyId !== "string") {
        return { refused: "not a service account key file" };
    }
    const found = findAccount(google, `projects/-/serviceAccounts/${email}`);
    if (!found) return { refused: "no such service account" };
    if (found.account.disabled) return { refused: "service account disabled" };
    const stored = found.account.keys[keyId];
    if (!stored) return { refused: `${invalidJwtSignature} (no such key)` };
    if (nowMs < (stored.signsInAfterMs ?? 0))
        return { refused: `${invalidJwtSignature} (the new key has not propagated yet)` };
    if (nowMs >= Date.parse(stored.validBeforeTime)) return { refused: `${invalidJwtSignature} (the key expired)` };
    // Possession of the private key: what Google checks when a signed JWT is exchanged for a token.
    const fingerprint = createHash("sha256").update(String(privateKey)).digest("hex");
    if (provenKeys.get(keyId) !== fingerprint) {
        const challenge = randomBytes(32);
        try {
            const signature = sign("sha256", challenge, String(privateKey));
            const verifier = createVerify("sha256").update(challenge);
            if (!verifier.verify(new X509Certificate(stored.publicKeyCertificate).publicKey, signature)) {
                return { refused: "private key does not match" };
            }
        } catch {
            return { refused: "private key unreadable" };
        }
        provenKeys.set(keyId, fingerprint);
    }
    return { member: `serviceAccount:${found.email}` };
}

/** The member IAM names "anyone on the internet, with or without credentials". */
export const allUsers = "allUsers";

/**
 * Whether `member` (or anyone, through `allUsers`) holds a pull role on the repository at `nowMs`, as
 * the data plane sees the policy: changes whose propagation delay has not passed are not seen yet.
 */
export function mayPull(
    google: GoogleCloud,
    member: string,
    at: { project: string; location: string; repository: string },
    nowMs: number = Date.now(),
): boolean {
    const policy = google.projects[at.project]?.repositories[`${at.location}/${at.repository}`]?.iamPolicy;
    if (policy === undefined) return false;
    const holds = (who: string) =>
        pullRoles.some((role) => {
            const written = holdsRole(policy, [role], who);
            return seenHolding(policy, role, who, written, nowMs);
        });
    return holds(member) || holds(allUsers);
}

export interface FrontDecision {
    registryHost: string;
    /** The request's path: `/v2/token` for the token endpoint. */
    path: string;
    username: string;
    member?: string;
    status: number;
    /** Why a credential proved nothing (never the credential). */
    refused?: string;
}

export interface ArtifactRegistryFront {
    /** `ADDRESS:PORT` of the front standing for each registry host given. */
    hosts: Record<string, string>;
    decisions: FrontDecision[];
    addTokenIssuer(issuer: TokenIssuer): void;
    close(): Promise<void>;
}

const registryError = (code: string, message: string) => JSON.stringify({ errors: [{ code, message }] });

/** How long a token lives, in seconds: Google's access tokens live an hour. */
const tokenLifetimeSeconds = 3600;

/** The repository names a token request's `scope` parameters grant pull on (`repository:NAME:pull[,push]`). */
export function pullScopes(scopes: string[]): string[] {
    return scopes
        .flatMap((scope) => scope.split(" "))
        .map((scope) => /^repository:(.+):([a-z*,]+)$/.exec(scope))
        .filter((m): m is RegExpExecArray => m !== null && m[2].split(",").some((a) => a === "pull" || a === "*"))
        .map((m) => m[1]);
}

/** A token the front issued: the credential it was issued for stays in this process's memory only. */
interface IssuedToken {
    authorization: string | undefined;
    repositories: string[];
    expiresAtMs: number;
}

export async function startArtifactRegistryFront(options: {
    stateFile: string;
    /** The registry behind the front, and the one user it lets the front in with. */
    upstream: { host: string; user: string; password: string };
    /** The hosts the front stands for, e.g. `asia.gcr.io`, `asia-northeast1-docker.pkg.dev`. */
    standsFor: string[];
    tokenIssuers?: TokenIssuer[];
    /** The address to listen on; 127.0.0.1 unless given. */
    address?: string;
    /** Serve HTTPS with this key and certificate (which must name `address`); plain HTTP unless given. */
    tls?: { key: string; cert: string };
    /** The clock propagation and expiry are judged by (ms); the system clock unless given. */
    now?: () => number;
}): Promise<ArtifactRegistryFront> {
    const now = options.now ?? Date.now;
    const address = options.address ?? "127.0.0.1";
    const scheme = options.tls ? "https" : "http";
    const issuers = [...(options.tokenIssuers ?? [])];
    const decisions: FrontDecision[] = [];
    const tokens = new Map<string, IssuedToken>();
    const upstreamAuth = `Basic ${Buffer.from(`${options.upstream.user}:${options.upstream.password}`).toString("base64")}`;

    function identify(
        google: GoogleCloud,
        authorization: string | undefined,
    ): { username: string; member?: string; refused?: string } {
        if (authorization === undefined) return { username: "", member: allUsers };
        const basic = /^Basic (.+)$/i.exec(authorization)?.[1];
        if (basic === undefined) return { username: "" };
        const text = Buffer.from(basic, "base64").toString("utf8");
        const colon = text.indexOf(":");
        const [username, password] = colon < 0 ? [text, ""] : [text.slice(0, colon), text.slice(colon + 1)];
        // What skopeo answers a challenge with when it holds no credential for the host.
        if (username === "" && password === "") return { username, member: allUsers };
        if (username === "_json_key" || username === "_json_key_base64") {
            const json = username === "_json_key" ? password : Buffer.from(password, "base64").toString("utf8");
            const proved = memberOfKey(google, json, now());
            return "member" in proved ? { username, member: proved.member } : { username, refused: proved.refused };
        }
        if (username === "oauth2accesstoken") {
            return { username, member: issuers.map((issuer) => issuer(password)).find((m) => m)?.member };
        }
        return { username };
    }

    function handle(registryHost: string, self: string, req: http.IncomingMessage, res: http.ServerResponse) {
        const url = new URL(req.url ?? "/", `${scheme}://${self}`);
        const path = url.pathname;
        const decide = (status: number, who: { username: string; member?: string; refused?: string }) =>
            decisions.push({
                registryHost,
                path,
                username: who.username,
                member: who.member,
                status,
                refused: who.refused,
            });
        const google = readGoogleCloud(options.stateFile);
        const service = /(^|\.)gcr\.io$/.test(registryHost) ? `,service="${registryHost}"` : "";
        const name = /^\/v2\/(.+)\/(manifests|blobs|tags)\//.exec(path)?.[1];
        const challenge = (message: string, error?: string) => {
            const scope = name === undefined ? "" : `,scope="repository:${name}:pull"`;
            res.writeHead(401, {
                "content-type": "application/json",
                "www-authenticate": `Bearer realm="${scheme}://${self}/v2/token"${service}${scope}${error ? `,error="${error}"` : ""}`,
                "docker-distribution-api-version": "registry/2.0",
            }).end(registryError("UNAUTHORIZED", message));
        };

        if (path === "/v2/token") {
            if (req.method === "POST") {
                res.writeHead(404, { "content-type": "application/json" }).end(registryError("NOT_FOUND", "not found"));
                return;
            }
            const who = identify(google, req.headers.authorization);
            if (who.member === undefined) {
                decide(401, who);
                res.writeHead(401, { "content-type": "application/json" }).end(
                    registryError("UNAUTHORIZED", "not authenticated: No valid credential was supplied."),
                );
                return;
            }
            decide(200, who);
            const token = randomBytes(24).toString("base64url");
            tokens.set(token, {
                authorization: req.headers.authorization,
                repositories: pullScopes(url.searchParams.getAll("scope")),
                expiresAtMs: now() + tokenLifetimeSeconds * 1000,
            });
            res.writeHead(200, { "content-type": "application/json" }).end(
                JSON.stringify({
                    token,
                    access_token: token,
                    expires_in: tokenLifetimeSeconds,
                    issued_at: new Date(now()).toISOString(),
                }),
            );
            return;
        }
        if (path !== "/v2/" && name === undefined) {
            res.writeHead(404, { "content-type": "application/json" }).end(registryError("NAME_UNKNOWN", "not found"));
            return;
        }
        const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
        const issued = bearer === undefined ? undefined : tokens.get(bearer);
        if (issued === undefined || issued.expiresAtMs <= now()) {
            if (bearer !== undefined) tokens.delete(bearer);
            return challenge("authentication required", bearer === undefined ? undefined : "invalid_token");
        }
        // The credential the token was issued for, judged again as Google sees it now.
        const who = identify(google, issued.authorization);
        if (who.member === undefined) {
            decide(401, who);
            return challenge("not authenticated: No valid credential was supplied.", "invalid_token");
        }
        if (name === undefined) {
            decide(200, who);
            res.writeHead(200, {
                "content-type": "application/json",
                "docker-distribution-api-version": "registry/2.0",
            }).end("{}");
            return;
        }
        if (!issued.repositories.includes(name)) {
            decide(401, who);
            return challenge("authentication required", "insufficient_scope");
        }
        const at = repositoryOfPull(registryHost, name);
        const allowed = at !== undefined && mayPull(google, who.member, at, now());
        if (!allowed || !["GET", "HEAD"].includes(req.method ?? "")) {
            decide(403, who);
            const resource = at
                ? `projects/${at.project}/locations/${at.location}/repositories/${at.repository}`
                : name;
            const permission = `"artifactregistry.repositories.downloadArtifacts"`;
            res.writeHead(403, { "content-type": "application/json" }).end(
                registryError(
                    "DENIED",
                    who.member === allUsers
                        ? `Unauthenticated request. Unauthenticated requests do not have permission ${permission} on resource "${resource}" (or it may not exist)`
                        : `Permission ${permission} denied on resource "${resource}" (or it may not exist)`,
                ),
            );
            return;
        }
        decide(200, who);
        const upstream = http.request(
            {
                host: "127.0.0.1",
                port: Number(options.upstream.host.split(":")[1]),
                method: req.method,
                path: req.url,
                headers: { ...req.headers, host: options.upstream.host, authorization: upstreamAuth },
            },
            (answer) => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(res);
            },
        );
        upstream.on("error", () => res.writeHead(502).end());
        req.pipe(upstream);
    }

    const servers = await Promise.all(
        options.standsFor.map(async (registryHost) => {
            const listener = (req: http.IncomingMessage, res: http.ServerResponse) =>
                handle(registryHost, `${address}:${(server.address() as AddressInfo).port}`, req, res);
            const server: http.Server = options.tls
                ? https.createServer(options.tls, listener)
                : http.createServer(listener);
            await new Promise<void>((resolve) => server.listen(0, address, resolve));
            return { registryHost, server };
        }),
    );
    return {
        hosts: Object.fromEntries(
            servers.map(({ registryHost, server }) => [
                registryHost,
                `${address}:${(server.address() as AddressInfo).port}`,
            ]),
        ),
        decisions,
        addTokenIssuer: (issuer) => void issuers.push(issuer),
        close: () =>
            Promise.all(
                servers.map(({ server }) => {
                    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
                    server.closeAllConnections();
                    return closed;
                }),
            ).then(() => undefined),
    };
}
