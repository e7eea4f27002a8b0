import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import fc from "fast-check";
import { basicAuth, dockerConfigJson, type DockerRegistryEntry } from "../../components/rules/docker-config";

/** What `kubectl create secret docker-registry --dry-run=client -o json` stores, decoded. */
function kubectlDockerConfig(entry: DockerRegistryEntry): string {
    const args = [
        "create",
        "secret",
        "docker-registry",
        "regcred",
        "--dry-run=client",
        "-o",
        "json",
        `--docker-server=${entry.server}`,
        `--docker-username=${entry.username}`,
        `--docker-password=${entry.password}`,
        ...(entry.email ? [`--docker-email=${entry.email}`] : []),
    ];
    const secret = JSON.parse(
        execFileSync("kubectl", args, { encoding: "utf8", env: { ...process.env, KUBECONFIG: "/dev/null" } }),
    );
    assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
    return Buffer.from(secret.data[".dockerconfigjson"], "base64").toString("utf8");
}

// Characters Go's encoder treats specially, mixed into arbitrary Unicode (lone surrogates included).
// argv cannot carry NUL, and kubectl refuses an empty server, username or password.
const awkward = fc.constantFrom(
    "<",
    ">",
    "&",
    "\u2028",
    "\u2029",
    '"',
    "\\",
    "\b",
    "\f",
    "\n",
    "\r",
    "\t",
    "\u0001",
    "\u001f",
    "\u007f",
    ":",
    "é",
    "😀",
    "\ud800",
    "/",
);
const text = fc
    .array(
        fc.oneof(
            awkward,
            fc.string({ unit: "binary", minLength: 1, maxLength: 4 }),
            fc.string({ unit: "grapheme-ascii", maxLength: 8 }),
        ),
        { minLength: 1, maxLength: 8 },
    )
    .map((parts) => parts.join("").replace(/\0/g, ""))
    .filter((value) => value.length > 0);
const entry: fc.Arbitrary<DockerRegistryEntry> = fc.record({
    server: fc.oneof(
        fc.constantFrom("gcr.io", "asia.gcr.io", "asia-northeast1-docker.pkg.dev", "127.0.0.1:5000", "*.gcr.io"),
        text,
    ),
    username: fc.oneof(fc.constantFrom("_json_key", "_json_key_base64", "oauth2accesstoken"), text),
    password: text,
    email: fc.option(text, { nil: undefined }),
});

describe("dockerConfigJson", () => {
    it("writes byte-for-byte what kubectl create secret docker-registry stores, for any single entry", () => {
        fc.assert(
            fc.property(entry, (e) => {
                assert.equal(dockerConfigJson([e]), kubectlDockerConfig(e));
            }),
            { numRuns: 60 },
        );
    });

    it("matches kubectl for a real service-account key as a _json_key password (newlines, quotes, slashes)", () => {
        const keyJson = JSON.stringify(
            {
                type: "service_account",
                private_key: "-----BEGIN PRIVATE KEY-----\nMII+/=\n-----END PRIVATE KEY-----\n",
                client_email: "a@b.iam.gserviceaccount.com",
            },
            null,
            2,
        );
        const e = { server: "asia.gcr.io", username: "_json_key", password: keyJson, email: "ops@example.com" };
        assert.equal(dockerConfigJson([e]), kubectlDockerConfig(e));
    });

    it("writes several entries as kubectl's single entries merged under auths, keys sorted by their UTF-8 bytes", () => {
        fc.assert(
            fc.property(
                fc.uniqueArray(entry, { minLength: 2, maxLength: 4, selector: (e) => e.server.toWellFormed() }),
                (entries) => {
                    const inner = (json: string) => json.slice('{"auths":{'.length, -"}}".length);
                    const singles = entries
                        .map((e) => ({
                            key: Buffer.from(e.server.toWellFormed(), "utf8"),
                            json: inner(kubectlDockerConfig(e)),
                        }))
                        .sort((a, b) => Buffer.compare(a.key, b.key));
                    assert.equal(dockerConfigJson(entries), `{"auths":{${singles.map((s) => s.json).join(",")}}}`);
                },
            ),
            { numRuns: 15 },
        );
    });

    it("gives the same bytes for the same entries in any order, so a second pulumi up shows no diff", () => {
        fc.assert(
            fc.property(
                fc.uniqueArray(entry, { minLength: 1, maxLength: 5, selector: (e) => e.server.toWellFormed() }),
                (entries) => {
                    assert.equal(dockerConfigJson([...entries].reverse()), dockerConfigJson(entries));
                },
            ),
        );
    });

    it("parses back to one entry per server whose auth agrees with its username and password", () => {
        fc.assert(
            fc.property(
                fc.uniqueArray(entry, { minLength: 1, maxLength: 5, selector: (e) => e.server.toWellFormed() }),
                (entries) => {
                    const auths = JSON.parse(dockerConfigJson(entries)).auths;
                    assert.equal(Object.keys(auths).length, entries.length);
                    for (const e of entries) {
                        const written = auths[e.server.toWellFormed()];
                        const decoded = Buffer.from(written.auth, "base64").toString("utf8");
                        assert.equal(decoded, `${written.username}:${written.password}`);
                        assert.equal(written.password, e.password.toWellFormed());
                    }
                },
            ),
        );
    });

    it("refuses a server listed twice instead of silently keeping one credential", () => {
        const e = { server: "gcr.io", username: "u", password: "p" };
        assert.throws(() => dockerConfigJson([e, { ...e, password: "q" }]), /server "gcr.io" is listed twice/);
    });

    it("omits email when empty, as kubectl's omitempty does", () => {
        assert.equal(
            dockerConfigJson([{ server: "r", username: "u", password: "p", email: "" }]),
            `{"auths":{"r":{"username":"u","password":"p","auth":"${basicAuth("u", "p")}"}}}`,
        );
    });
});
