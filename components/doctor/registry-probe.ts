/**
 * Asks a registry, read-only, whether a credential may pull an image, the way containerd's resolver
 * does before it pulls (containerd `core/remotes/docker/resolver.go`, `authorizer.go`): `GET /v2/`
 * for the challenge; for `Bearer`, the token from the challenge's realm (`service`, and
 * `scope=repository:PATH:pull`, with the credential as Basic: the Docker token protocol,
 * https://distribution.github.io/distribution/spec/auth/token/); for `Basic`, the credential on each
 * request; then `HEAD` of the manifest. A 404 is told apart with `GET /v2/PATH/tags/list`: a registry
 * that answers it has the repository, so the tag or digest is what is missing.
 *
 * What it returns quotes nothing the registry sent but a status and an error code of the
 * distribution spec's form (`DENIED`, `MANIFEST_UNKNOWN`); the credential is sent, never returned.
 */
import http from "node:http";
import https from "node:https";
import { manifestReferenceOf, type ImageReference } from "./image-reference";

/** What the registry answered, or how the connection failed. */
export type RegistryAnswer =
    | {
          /** Which request gave the status: the challenge, the token endpoint, or the manifest. */
          step: "ping" | "token" | "manifest";
          status: number;
          /** The first error code of the body, when the registry sent one (never its message). */
          code?: string;
          /** For a 404 of the manifest: whether the repository's tag list exists. */
          repositoryExists?: boolean;
      }
    | { network: string; kind: "dns" | "tls" | "connect"; host: string };

export interface ProbeOptions {
    /** Registry hosts the node's runtime reaches over plain HTTP (containerd `hosts.toml` `server = "http://..."`). */
    plainHttp?: string[];
    /** Per request; 10 s unless given. */
    timeoutMs?: number;
}

/** The manifest media types containerd accepts (`core/images/mediatypes.go`), newest first. */
const manifestTypes = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Where a registry domain's API is: Docker Hub's is `registry-1.docker.io` (containerd's default host). */
function endpointOf(domain: string, options: ProbeOptions): URL {
    const host = domain === "docker.io" ? "registry-1.docker.io" : domain;
    const loopback = /^(localhost|127\.0\.0\.1|\[::1\])(:[0-9]+)?$/.test(host);
    const plain = loopback || (options.plainHttp ?? []).includes(domain);
    return new URL(`${plain ? "http" : "https"}://${host}`);
}

interface Answer {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

class NetworkFailure extends Error {
    constructor(
        readonly code: string,
        readonly host: string,
    ) {
        super(code);
    }
}

const dnsCodes = ["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME"];
const isTlsCode = (code: string) =>
    /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_|EPROTO$|HOSTNAME_MISMATCH$)/.test(code);

function request(
    url: URL,
    method: "GET" | "HEAD",
    headers: Record<string, string>,
    timeoutMs: number,
): Promise<Answer> {
    const client = url.protocol === "http:" ? http : https;
    return new Promise((resolve, reject) => {
        const req = client.request(url, { method, headers, agent: false, timeout: timeoutMs }, (response) => {
            const chunks: Buffer[] = [];
            let size = 0;
            response.on("data", (chunk: Buffer) => {
                size += chunk.length;
                // A token or error body is small; nothing else is read.
                if (size <= 64 * 1024) chunks.push(chunk);
            });
            response.on("end", () =>
                resolve({
                    status: response.statusCode ?? 0,
                    headers: response.headers,
                    body: Buffer.concat(chunks).toString("utf8"),
                }),
            );
            response.on("error", (error) => reject(failure(error, url)));
        });
        req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
        req.on("error", (error) => reject(failure(error, url)));
        req.end();
    });
}

function failure(error: unknown, url: URL): NetworkFailure {
    const code = (error as { code?: unknown }).code;
    return new NetworkFailure(typeof code === "string" && /^[A-Z0-9_]{2,60}$/.test(code) ? code : "network", url.host);
}

/** The first error code of a distribution-spec error body (`{"errors":[{"code":"DENIED",...}]}`). */
function codeOf(body: string): string | undefined {
    try {
        const code = (JSON.parse(body) as { errors?: { code?: unknown }[] } | null)?.errors?.[0]?.code;
        return typeof code === "string" && /^[A-Z_]{1,40}$/.test(code) ? code : undefined;
    } catch {
        return undefined;
    }
}

/** RFC 7235 challenge parameters: `Bearer realm="...",service="..."`. */
export function parseChallenge(
    header: string | undefined,
): { scheme: string; params: Record<string, string> } | undefined {
    if (header === undefined) return undefined;
    const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
    if (match === null) return undefined;
    const params: Record<string, string> = {};
    for (const param of match[2].matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
        params[param[1].toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, "$1") : param[3];
    }
    return { scheme: match[1].toLowerCase(), params };
}

const basic = (credential: { username: string; password: string }) =>
    `Basic ${Buffer.from(`${credential.username}:${credential.password}`, "utf8").toString("base64")}`;

/** Whether `credential` (or an anonymous client, without one) may pull `image`, as the registry answers it. */
export async function probePull(
    image: ImageReference,
    credential: { username: string; password: string } | undefined,
    options: ProbeOptions = {},
): Promise<RegistryAnswer> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const endpoint = endpointOf(image.domain, options);
    try {
        const ping = await request(new URL("/v2/", endpoint), "GET", {}, timeoutMs);
        let authorization: string | undefined;
        if (ping.status === 401) {
            const challenge = parseChallenge(ping.headers["www-authenticate"]);
            if (challenge?.scheme === "bearer" && challenge.params.realm !== undefined) {
                const realm = new URL(challenge.params.realm, endpoint);
                if (challenge.params.service !== undefined) realm.searchParams.set("service", challenge.params.service);
                realm.searchParams.set("scope", `repository:${image.path}:pull`);
                const answer = await request(
                    realm,
                    "GET",
                    credential ? { authorization: basic(credential) } : {},
                    timeoutMs,
                );
                if (answer.status !== 200) return { step: "token", status: answer.status, code: codeOf(answer.body) };
                const token = tokenOf(answer.body);
                if (token === undefined) return { step: "token", status: 502 };
                authorization = `Bearer ${token}`;
            } else if (credential !== undefined) {
                authorization = basic(credential);
            }
        } else if (ping.status !== 200) {
            return { step: "ping", status: ping.status, code: codeOf(ping.body) };
        }
        const headers: Record<string, string> = { accept: manifestTypes, ...(authorization ? { authorization } : {}) };
        const manifest = await request(
            new URL(`/v2/${image.path}/manifests/${manifestReferenceOf(image)}`, endpoint),
            "HEAD",
            headers,
            timeoutMs,
        );
        if (manifest.status !== 404) return { step: "manifest", status: manifest.status };
        const tags = await request(new URL(`/v2/${image.path}/tags/list`, endpoint), "GET", headers, timeoutMs);
        return { step: "manifest", status: 404, repositoryExists: tags.status === 200 };
    } catch (error) {
        if (!(error instanceof NetworkFailure)) throw error;
        const kind = dnsCodes.includes(error.code) ? "dns" : isTlsCode(error.code) ? "tls" : "connect";
        return { network: error.code, kind, host: error.host };
    }
}

/** The token of a token endpoint's answer (`token`, or OAuth's `access_token`). */
function tokenOf(body: string): string | undefined {
    try {
        const parsed = JSON.parse(body) as { token?: unknown; access_token?: unknown } | null;
        const token = parsed?.token ?? parsed?.access_token;
        return typeof token === "string" && token !== "" ? token : undefined;
    } catch {
        return undefined;
    }
}
