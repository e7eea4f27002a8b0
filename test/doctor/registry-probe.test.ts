/**
 * The registry probe (components/doctor/registry-probe.ts) through the Docker token flow, against a
 * TOKEN REGISTRY DOUBLE written here: it answers as the distribution token spec says a registry and its
 * token server do (https://distribution.github.io/distribution/spec/auth/token/): `GET /v2/` is 401
 * with `Bearer realm,service`; the realm gives a token for `scope=repository:NAME:pull` to a Basic
 * credential it knows (401 otherwise) and an access-less token to an anonymous client (as Docker Hub
 * does); a manifest request with a token lacking the scope is 401, an unknown manifest 404, and a
 * client over its limit 429 (`TOOMANYREQUESTS`, Docker Hub's rate limit). It records each request's
 * method, so the probe is shown to be read-only. Also: a port nothing listens on.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { parseImageReference, type ImageReference } from "../../components/doctor/image-reference";
import { parseChallenge, probePull } from "../../components/doctor/registry-probe";
import { freePort } from "../support/real-cluster";

const password = randomBytes(16).toString("hex");
const tokens = new Map<string, string[]>();
const requests: { method: string; path: string }[] = [];
let rateLimited = false;
let server: http.Server;
let host = "";

before(async () => {
    server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://double");
        requests.push({ method: req.method ?? "", path: url.pathname });
        const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
            res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
        if (url.pathname === "/v2/") {
            return json(
                401,
                { errors: [{ code: "UNAUTHORIZED" }] },
                {
                    "www-authenticate": `Bearer realm="http://${host}/token",service="registry.double"`,
                },
            );
        }
        if (url.pathname === "/token") {
            const authorization = req.headers.authorization;
            const scope = url.searchParams.get("scope") ?? "";
            if (url.searchParams.get("service") !== "registry.double") return json(400, {});
            let access: string[] = [];
            if (authorization !== undefined) {
                if (authorization !== `Basic ${Buffer.from(`puller:${password}`).toString("base64")}`) {
                    return json(401, { errors: [{ code: "UNAUTHORIZED" }] });
                }
                access = [scope];
            }
            const token = randomBytes(12).toString("hex");
            tokens.set(token, access);
            return json(200, { token, expires_in: 300 });
        }
        const manifest = /^\/v2\/(.+)\/(manifests|tags)\/(.+)$/.exec(url.pathname);
        const granted = tokens.get((req.headers.authorization ?? "").replace(/^Bearer /, ""));
        if (manifest === null) return json(404, {});
        if (granted === undefined || !granted.includes(`repository:${manifest[1]}:pull`)) {
            return json(
                401,
                { errors: [{ code: "UNAUTHORIZED" }] },
                {
                    "www-authenticate": `Bearer realm="http://${host}/token",service="registry.double",scope="repository:${manifest[1]}:pull",error="insufficient_scope"`,
                },
            );
        }
        if (rateLimited) return json(429, { errors: [{ code: "TOOMANYREQUESTS" }] });
        if (manifest[1] !== "team/app") return json(404, { errors: [{ code: "NAME_UNKNOWN" }] });
        if (manifest[2] === "tags") return json(200, { name: "team/app", tags: ["1"] });
        return manifest[3] === "1" ? res.writeHead(200).end() : json(404, { errors: [{ code: "MANIFEST_UNKNOWN" }] });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const ref = (name: string): ImageReference => {
    const parsed = parseImageReference(`${host}/${name}`);
    assert.ok(!("invalid" in parsed));
    return parsed;
};
const puller = () => ({ username: "puller", password });

describe("probePull through the token flow (token registry double)", () => {
    it("a known credential gets a token for the repository's pull scope, and the manifest answers 200", async () => {
        assert.deepEqual(await probePull(ref("team/app:1"), puller()), { step: "manifest", status: 200 });
    });
    it("a wrong password is refused at the token endpoint (401)", async () => {
        assert.deepEqual(await probePull(ref("team/app:1"), { username: "puller", password: "wrong" }), {
            step: "token",
            status: 401,
            code: "UNAUTHORIZED",
        });
    });
    it("an anonymous client gets a token without access: the manifest answers 401", async () => {
        assert.deepEqual(await probePull(ref("team/app:1"), undefined), { step: "manifest", status: 401 });
    });
    it("a missing tag is a 404 of a repository that exists; a missing repository's tag list is 404 too", async () => {
        assert.deepEqual(await probePull(ref("team/app:2"), puller()), {
            step: "manifest",
            status: 404,
            repositoryExists: true,
        });
        assert.deepEqual(await probePull(ref("team/other:1"), puller()), {
            step: "manifest",
            status: 404,
            repositoryExists: false,
        });
    });
    it("a rate limit is a 429", async () => {
        rateLimited = true;
        try {
            assert.deepEqual(await probePull(ref("team/app:1"), puller()), { step: "manifest", status: 429 });
        } finally {
            rateLimited = false;
        }
    });
    it("only reads: every request it made was a GET or a HEAD", () => {
        assert.ok(requests.length > 10);
        assert.deepEqual([...new Set(requests.map((r) => r.method))].sort(), ["GET", "HEAD"]);
    });
    it("a port nothing listens on is a connection failure, not a registry answer", async () => {
        const closed = parseImageReference(`127.0.0.1:${await freePort()}/team/app:1`);
        assert.ok(!("invalid" in closed));
        assert.deepEqual(await probePull(closed, puller()), {
            network: "ECONNREFUSED",
            kind: "connect",
            host: closed.domain,
        });
    });
});

describe("parseChallenge (RFC 7235)", () => {
    it("reads the scheme and quoted or bare parameters", () => {
        assert.deepEqual(
            parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope=x'),
            {
                scheme: "bearer",
                params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "x" },
            },
        );
        assert.deepEqual(parseChallenge('Basic realm="e2e"'), { scheme: "basic", params: { realm: "e2e" } });
    });
});
