/**
 * A double of a registry with Docker's token flow, as distribution/distribution docs/spec/auth/token.md
 * (v2.8.3) has it: `/v2/` and every request without a valid token challenge with `Bearer
 * realm,service`; the realm gives a token for the scope asked to a Basic credential it `accepts`; a
 * manifest request with a token for its repository answers 404 MANIFEST_UNKNOWN (the image is missing)
 * when `granted(path)` says the credential may pull that repository, else 403 DENIED. It counts what it
 * was asked.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface TokenRegistryDouble {
    host: string;
    /** The requests it answered, e.g. `GET /v2/`. */
    requests: string[];
    close(): void;
}

export async function startTokenRegistryDouble(options: {
    accepts: (username: string, password: string) => boolean;
    /** Whether pull is granted on the repository at `path` (e.g. `p/images`). */
    granted: (path: string) => boolean;
}): Promise<TokenRegistryDouble> {
    const scopes = new Map<string, string>();
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://x");
        requests.push(`${req.method} ${url.pathname}`);
        const base = `http://${req.headers.host}`;
        if (url.pathname === "/token") {
            const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
            const [username, ...rest] = Buffer.from(basic ?? "", "base64")
                .toString("utf8")
                .split(":");
            if (basic === undefined || !options.accepts(username, rest.join(":"))) {
                return void res.writeHead(401).end('{"details":"incorrect username or password"}');
            }
            const token = `token-${scopes.size}`;
            scopes.set(token, url.searchParams.get("scope") ?? "");
            return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token }));
        }
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
        if (token === undefined || !scopes.has(token)) {
            return void res
                .writeHead(401, { "www-authenticate": `Bearer realm="${base}/token",service="registry.test"` })
                .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        }
        if (url.pathname === "/v2/") return void res.writeHead(200).end("{}");
        const name = /^\/v2\/(.+)\/manifests\//.exec(url.pathname)?.[1] ?? "";
        const repository = name.split("/").slice(0, -1).join("/");
        if (scopes.get(token) !== `repository:${name}:pull` || !options.granted(repository)) {
            return void res
                .writeHead(403)
                .end(`{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`);
        }
        res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => server.close() };
}
