/**
 * The kubelet's docker-config matching (components/doctor/keyring.ts), against the cases of kubernetes
 * v1.37 `pkg/credentialprovider/keyring_test.go` `TestURLsMatch` and `config_test.go`, and as
 * properties over generated docker configs (written by the package's own kubectl-identical encoder) and
 * image names: each label globs on its own, a glob never spans a dot, ports must be equal, a key's path
 * is a plain prefix, and `Lookup` returns exactly the matching entries, longest key first.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { dockerConfigJson } from "../../components/rules/docker-config";
import {
    globMatches,
    keyringKey,
    lookupCredentials,
    parseDockerConfig,
    urlsMatch,
} from "../../components/doctor/keyring";

describe("urlsMatch: kubernetes keyring_test.go TestURLsMatch", () => {
    const cases: [string, string, boolean][] = [
        ["*.kubernetes.io", "prefix.kubernetes.io", true],
        ["prefix.*.io", "prefix.kubernetes.io", true],
        ["prefix.kubernetes.*", "prefix.kubernetes.io", true],
        ["*-good.kubernetes.io", "prefix-good.kubernetes.io", true],
        ["*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true],
        ["prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true],
        ["*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true],
        ["prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true],
        ["*.kubernetes.io", "kubernetes.io", false],
        ["*.*.kubernetes.io", "prefix.kubernetes.io", false],
        ["*.*.kubernetes.io", "kubernetes.io", false],
        ["*kubernetes.io", "a.kubernetes.io", false],
        ["*kubernetes.io", "kubernetes.io", true],
        ["*.*.*.kubernetes.io", "a.b.c.kubernetes.io", true],
        ["*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false],
        ["prefix.*.io/foo", "prefix.kubernetes.io/bar", false],
        ["*.kubernetes.io/blah", "prefix.kubernetes.io:1111/blah", false],
        ["prefix.*.io:1111/foo", "prefix.kubernetes.io/foo/bar", false],
        // The traps issue 32 names.
        ["*.gcr.io", "gcr.io/project/image", false],
        ["asia.gcr.io", "asia-docker.pkg.dev/project/repo/image", false],
        ["127.0.0.1", "127.0.0.1:5000/e2e/tiny", false],
        ["127.0.0.1:5000", "127.0.0.1:5000/e2e/tiny", true],
    ];
    for (const [glob, target, expected] of cases) {
        it(`${glob} ${expected ? "matches" : "does not match"} ${target}`, () => {
            assert.equal(urlsMatch(glob, target), expected);
        });
    }
});

describe("keyringKey: what BasicDockerKeyring.Add makes of a server", () => {
    it("drops the scheme and a /v1/ or /v2/ path, keeps any other path, ignores a server with a bad port", () => {
        assert.equal(keyringKey("https://index.docker.io/v1/"), "index.docker.io");
        assert.equal(keyringKey("http://gcr.io"), "gcr.io");
        assert.equal(keyringKey("gcr.io/v2/project"), "gcr.io/project");
        assert.equal(keyringKey("quay.io/coreos"), "quay.io/coreos");
        assert.equal(keyringKey("registry:abc"), undefined);
    });
});

describe("globMatches: Go's filepath.Match on one label", () => {
    it("handles *, ?, classes, ranges, negation and escapes; a malformed pattern matches nothing", () => {
        assert.ok(globMatches("a?c", "abc"));
        assert.ok(globMatches("[a-c]x", "bx"));
        assert.ok(!globMatches("[^a-c]x", "bx"));
        assert.ok(globMatches("\\*", "*"));
        assert.ok(!globMatches("\\*", "a"));
        assert.ok(!globMatches("[]", "a"));
        assert.ok(!globMatches("[a-", "a"));
        assert.ok(!globMatches("a\\", "a"));
    });
});

describe("parseDockerConfig: config.go DockerConfigEntry.UnmarshalJSON", () => {
    it("takes username and password from auth, and says when the fields disagree with it", () => {
        const config = JSON.stringify({
            auths: { "gcr.io": { username: "other", password: "p1", auth: Buffer.from("u:p2").toString("base64") } },
        });
        assert.deepEqual(parseDockerConfig(config), {
            entries: [
                { server: "gcr.io", username: "u", password: "p2", usernameField: "other", passwordFieldDiffers: true },
            ],
        });
    });
    it("refuses what the kubelet refuses (fails the whole pull), quoting nothing of the document", () => {
        assert.deepEqual(parseDockerConfig("{not json"), { unreadable: "it is not JSON" });
        const noColon = JSON.stringify({ auths: { h: { auth: Buffer.from("justuser").toString("base64") } } });
        assert.deepEqual(parseDockerConfig(noColon), {
            unreadable: "the auth of its entry for h is not base64 of username:password",
        });
        const notBase64 = JSON.stringify({ auths: { h: { auth: "!!!" } } });
        assert.ok("unreadable" in parseDockerConfig(notBase64));
        assert.ok("unreadable" in parseDockerConfig(JSON.stringify({ auths: { h: { username: 5 } } })));
    });
    it("decodes unpadded auth as RawStdEncoding does", () => {
        const raw = Buffer.from("ab:c").toString("base64").replace(/=+$/, "");
        assert.deepEqual(parseDockerConfig(JSON.stringify({ auths: { h: { auth: raw } } })), {
            entries: [{ server: "h", username: "ab", password: "c" }],
        });
    });
});

// Generated hosts: DNS-like labels, optional port, optional path.
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/);
const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join("."));
const port = fc.option(fc.integer({ min: 1, max: 65535 }).map(String), { nil: undefined });
const pathPart = fc.stringMatching(/^[a-z0-9]{1,6}$/);
const imagePath = fc.array(pathPart, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/"));
const withPort = (h: string, p: string | undefined) => (p === undefined ? h : `${h}:${p}`);

describe("host matching, as properties (the kubelet's rules, keyring.go URLsMatch)", () => {
    it("a key of the image's own host (and port) matches it, and so does any key with labels replaced by *", () => {
        fc.assert(
            fc.property(host, port, imagePath, fc.array(fc.boolean(), { maxLength: 4 }), (h, p, path, stars) => {
                const labels = h.split(".");
                const glob = labels.map((l, i) => (stars[i] ? "*" : l)).join(".");
                assert.ok(urlsMatch(withPort(h, p), `${withPort(h, p)}/${path}`));
                assert.ok(urlsMatch(withPort(glob, p), `${withPort(h, p)}/${path}`));
            }),
        );
    });
    it("a glob never spans a dot: a key with another number of labels never matches", () => {
        fc.assert(
            fc.property(host, port, imagePath, fc.integer({ min: 1, max: 2 }), (h, p, path, extra) => {
                const longer = `${"*.".repeat(extra)}${h}`;
                const shorter = h.split(".").slice(1).join(".");
                assert.ok(!urlsMatch(withPort(longer, p), `${withPort(h, p)}/${path}`));
                if (shorter !== "")
                    assert.ok(!urlsMatch(withPort(`*${shorter}`, p), `${withPort(`x.${h}`, p)}/${path}`));
            }),
        );
    });
    it("ports must be equal: a key with another port, or with one where the image has none, never matches", () => {
        fc.assert(
            fc.property(host, fc.integer({ min: 1, max: 65534 }), imagePath, (h, p, path) => {
                assert.ok(!urlsMatch(`${h}:${p}`, `${h}:${p + 1}/${path}`));
                assert.ok(!urlsMatch(`${h}:${p}`, `${h}/${path}`));
                assert.ok(!urlsMatch(h, `${h}:${p}/${path}`));
            }),
        );
    });
    it("a key's path matches as a plain string prefix of the image's path", () => {
        fc.assert(
            fc.property(host, imagePath, imagePath, (h, keyPath, path) => {
                assert.equal(urlsMatch(`${h}/${keyPath}`, `${h}/${path}`), `/${path}`.startsWith(`/${keyPath}`));
            }),
        );
    });
});

describe("lookupCredentials over generated docker configs (keyring.go Lookup)", () => {
    const server = fc.oneof(
        fc.tuple(host, port).map(([h, p]) => withPort(h, p)),
        fc.tuple(host, port).map(([h, p]) => `*.${withPort(h, p)}`),
        fc.tuple(host, imagePath).map(([h, path]) => `https://${h}/${path}`),
        fc.constantFrom("gcr.io", "*.gcr.io", "asia.gcr.io", "asia-docker.pkg.dev", "https://index.docker.io/v1/"),
    );
    const config = fc.uniqueArray(fc.record({ server, username: pathPart, password: pathPart }), {
        selector: (e) => e.server,
        maxLength: 5,
    });
    const image = fc.oneof(
        fc.tuple(host, port, imagePath).map(([h, p, path]) => `${withPort(h, p)}/${path}`),
        fc.constantFrom("gcr.io/p/i", "asia.gcr.io/p/i", "docker.io/library/nginx"),
    );

    it("returns exactly the entries whose key matches, longest key first, with auth decoded as written", () => {
        fc.assert(
            fc.property(fc.array(config, { minLength: 1, maxLength: 3 }), image, (configs, repository) => {
                const sources = configs.map((entries, i) => {
                    const parsed = parseDockerConfig(dockerConfigJson(entries));
                    assert.ok("entries" in parsed);
                    return { source: i, entries: parsed.entries };
                });
                const matches = lookupCredentials(sources, repository);
                const all = sources.flatMap((s) => s.entries.map((entry) => ({ s: s.source, entry })));
                const matching = all.filter(({ entry }) => urlsMatch(keyringKey(entry.server) ?? "", repository));
                if (matching.length > 0) {
                    assert.equal(matches.length, matching.length);
                    for (const m of matches) assert.ok(urlsMatch(m.key, repository));
                    const keys = matches.map((m) => m.key);
                    const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(b), Buffer.from(a)));
                    assert.deepEqual(keys, sorted);
                } else if (repository.startsWith("docker.io/") || !/[.:]/.test(repository.split("/")[0])) {
                    // isDefaultRegistryMatch: a first part without a dot or port is Docker Hub's.
                    assert.ok(matches.every((m) => m.key === "index.docker.io"));
                } else {
                    assert.deepEqual(matches, []);
                }
                for (const m of matches) {
                    // Two Secrets may hold the same server and username with different passwords.
                    const written = configs[m.source].find(
                        (e) => e.server === m.entry.server && e.username === m.entry.username,
                    );
                    assert.ok(written, "a match is an entry as written");
                    assert.equal(m.entry.password, written.password);
                }
            }),
            { numRuns: 300 },
        );
    });
});
