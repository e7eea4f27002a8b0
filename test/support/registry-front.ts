/**
 * A DOUBLE of Artifact Registry's front door, not Artifact Registry: a read-only HTTP front to the
 * real Debian docker-registry (test/support/real-registry.ts) that lets a pull through only as
 * Artifact Registry would for an access token: Basic authentication with username
 * `oauth2accesstoken` and a password that is a token Google's doubles issued and that has not
 * expired (docs/facts.md#access-tokens). Repositories listed as public are read anonymously (an Artifact
 * Registry repository with `allUsers` as reader, or any public registry), which is how the cluster
 * gets the refresher's own image: the refresher's pod has no pull secret. Unauthorized answers follow
 * the distribution spec (401 with a `WWW-Authenticate: Basic` challenge and an `UNAUTHORIZED` error).
 * When the issue-18 registry front lands, this is the piece to swap for it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { RealRegistry } from "./real-registry";

export interface RegistryFront {
    /** `ADDRESS:PORT`, the key of a docker config and the host of image references. */
    host: string;
    /** Every request: its repository and whether it went through. */
    requests: { method: string; repository: string; allowed: boolean; why: string }[];
    close(): Promise<void>;
}

export interface FrontOptions {
    /** Where the front listens (the host end of the test network's veth). */
    address: string;
    backend: RealRegistry;
    /** Repositories anyone may read. */
    publicRepositories: string[];
    /** Whether `token` is one Google's doubles issued and that has not expired now. */
    isLiveToken(token: string): boolean;
}

/** The repository a distribution API path names (`/v2/<name>/manifests/...`), `""` for `/v2/`. */
export function repositoryOf(pathname: string): string {
    const match = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(pathname);
    return match?.[1] ?? "";
}

/** Whether a request with this Authorization header may read `repository`, and why (never the token). */
export function decide(
    authorization: string | undefined,
    repository: string,
    options: Pick<FrontOptions, "publicRepositories" | "isLiveToken">,
): { allowed: boolean; why: string } {
    if (repository !== "" && options.publicRepositories.includes(repository)) return { allowed: true, why: "public" };
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(authorization ?? "")?.[1];
    if (basic === undefined) return { allowed: false, why: "no credentials" };
    const decoded = Buffer.from(basic, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    if (colon < 0 || user !== "oauth2accesstoken") return { allowed: false, why: "not oauth2accesstoken" };
    if (!options.isLiveToken(password)) return { allowed: false, why: "not a live token of Google's doubles" };
    return { allowed: true, why: "live token" };
}

export async function startRegistryFront(options: FrontOptions): Promise<RegistryFront> {
    const requests: RegistryFront["requests"] = [];
    const backend = new URL(`http://${options.backend.host}`);
    const server = http.createServer((req, res) => {
        const pathname = new URL(req.url ?? "/", "http://front").pathname;
        const repository = repositoryOf(pathname);
        const method = req.method ?? "GET";
        const decision =
            method === "GET" || method === "HEAD"
                ? decide(req.headers.authorization, repository, options)
                : { allowed: false, why: "read-only" };
        requests.push({ method, repository, ...decision });
        if (!decision.allowed) {
            res.writeHead(method === "GET" || method === "HEAD" ? 401 : 405, {
                "content-type": "application/json",
                "www-authenticate": 'Basic realm="artifact-registry-double"',
                "docker-distribution-api-version": "registry/2.0",
            }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
            return;
        }
        const forwarded = http.request(
            {
                host: backend.hostname,
                port: backend.port,
                method,
                path: req.url,
                headers: {
                    accept: req.headers.accept ?? "*/*",
                    authorization: options.backend.backendAuthorization,
                },
            },
            (answer) => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(res);
            },
        );
        forwarded.on("error", () => res.writeHead(502).end());
        forwarded.end();
    });
    await new Promise<void>((resolve) => server.listen(0, options.address, resolve));
    return {
        host: `${options.address}:${(server.address() as AddressInfo).port}`,
        requests,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
