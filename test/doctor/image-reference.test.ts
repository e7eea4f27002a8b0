/**
 * Image references as the kubelet reads them (components/doctor/image-reference.ts), against the cases
 * of github.com/distribution/reference v0.6.0 `normalize_test.go` `TestValidateReferenceName`, the
 * normalization `ParseNormalizedNamed` does (Docker Hub, `library/`, `latest`), and a property: a
 * reference built from generated parts parses back to those parts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseImageReference, repositoryOf } from "../../components/doctor/image-reference";

describe("parseImageReference: distribution/reference TestValidateReferenceName", () => {
    const valid = [
        "docker/docker",
        "library/debian",
        "debian",
        "localhost/library/debian",
        "localhost/debian",
        "LOCALDOMAIN/library/debian",
        "LOCALDOMAIN/debian",
        "docker.io/docker/docker",
        "docker.io/library/debian",
        "docker.io/debian",
        "index.docker.io/docker/docker",
        "index.docker.io/library/debian",
        "index.docker.io/debian",
        "127.0.0.1:5000/docker/docker",
        "127.0.0.1:5000/library/debian",
        "127.0.0.1:5000/debian",
        "192.168.0.1",
        "192.168.0.1:80",
        "192.168.0.1:8/debian",
        "192.168.0.2:25000/debian",
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "[fc00::1]:5000/docker",
        "[fc00::1]:5000/docker/docker",
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "Docker/docker",
        "DOCKER/docker",
    ];
    const invalid = [
        "https://github.com/docker/docker",
        "docker/Docker",
        "-docker",
        "-docker/docker",
        "-docker.io/docker/docker",
        "docker///docker",
        "docker.io/docker/Docker",
        "docker.io/docker///docker",
        "[fc00::1]",
        "[fc00::1]:5000",
        "fc00::1:5000/debian",
        "[fe80::1%eth0]:5000/debian",
        "[2001:db8:3:4::192.0.2.33]:5000/debian",
        "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "",
        "asia.gcr.io/p/i@sha256:abc",
        `asia.gcr.io/p/i@md5:${"a".repeat(32)}`,
    ];
    for (const name of valid) it(`accepts ${name}`, () => assert.ok(!("invalid" in parseImageReference(name))));
    for (const name of invalid)
        it(`refuses ${JSON.stringify(name)}`, () => assert.ok("invalid" in parseImageReference(name)));
});

describe("parseImageReference: the normalization the kubelet looks credentials up with", () => {
    const cases: [string, string, string | undefined, string | undefined][] = [
        ["nginx", "docker.io/library/nginx", "latest", undefined],
        ["index.docker.io/nginx:1.27", "docker.io/library/nginx", "1.27", undefined],
        ["bitnami/redis", "docker.io/bitnami/redis", "latest", undefined],
        ["asia.gcr.io/my-project/app:v1", "asia.gcr.io/my-project/app", "v1", undefined],
        ["localhost:5000/app", "localhost:5000/app", "latest", undefined],
        [
            `us-docker.pkg.dev/p/r/i:1@sha256:${"b".repeat(64)}`,
            "us-docker.pkg.dev/p/r/i",
            "1",
            `sha256:${"b".repeat(64)}`,
        ],
        [`gcr.io/p/i@sha256:${"c".repeat(64)}`, "gcr.io/p/i", undefined, `sha256:${"c".repeat(64)}`],
    ];
    for (const [reference, repository, tag, digest] of cases) {
        it(`${reference} is ${repository} ${tag ?? ""}${digest ? `@${digest.slice(0, 12)}` : ""}`, () => {
            const parsed = parseImageReference(reference);
            assert.ok(!("invalid" in parsed));
            assert.equal(repositoryOf(parsed), repository);
            assert.equal(parsed.tag, tag);
            assert.equal(parsed.digest, digest);
        });
    }
});

describe("parseImageReference over generated references", () => {
    const component = fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/).filter((c) => c.length <= 20);
    const domain = fc
        .tuple(
            fc.array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/), { minLength: 2, maxLength: 4 }),
            fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        )
        .map(([labels, port]) => `${labels.join(".")}${port === undefined ? "" : `:${port}`}`);
    const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
    it("a reference DOMAIN/PATH[:TAG][@DIGEST] parses back to its parts", () => {
        fc.assert(
            fc.property(
                domain,
                fc.array(component, { minLength: 1, maxLength: 3 }),
                fc.option(tag, { nil: undefined }),
                fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined }),
                (d, path, t, hex) => {
                    const reference = `${d}/${path.join("/")}${t ? `:${t}` : ""}${hex ? `@sha256:${hex}` : ""}`;
                    const parsed = parseImageReference(reference);
                    assert.ok(!("invalid" in parsed), reference);
                    assert.deepEqual(parsed, {
                        domain: d,
                        path: path.join("/"),
                        ...(t !== undefined ? { tag: t } : hex === undefined ? { tag: "latest" } : {}),
                        ...(hex !== undefined ? { digest: `sha256:${hex}` } : {}),
                    });
                },
            ),
            { numRuns: 300 },
        );
    });
});
