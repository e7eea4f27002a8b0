import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    emailProblem,
    firstDuplicateIndex,
    isPinnedByDigest,
    namespaceNameProblem,
    objectNameProblem,
    projectIdProblem,
    registryHostProblem,
    repositoryIdProblem,
    repositoryLocationProblem,
    serviceAccountIdProblem,
} from "../../components/rules/rules";
import { defaultRefresherNamespace } from "../../components/names";

const alnum = "abcdefghijklmnopqrstuvwxyz0123456789".split("");
const label = fc
    .tuple(
        fc.constantFrom(...alnum),
        fc.string({ unit: fc.constantFrom(...alnum, "-"), maxLength: 40 }),
        fc.constantFrom(...alnum),
    )
    .map(([first, middle, last]) => `${first}${middle}${last}`.slice(0, 63).replace(/-+$/, "") || "a");

describe("namespace names (RFC 1123 labels)", () => {
    it("accepts every RFC 1123 label up to 63 characters", () => {
        fc.assert(fc.property(label, (name) => assert.equal(namespaceNameProblem(name), undefined)));
    });
    it("refuses uppercase, dots, leading or trailing '-', empty and over-long names", () => {
        for (const name of ["Team-a", "team.a", "-team", "team-", "", "a".repeat(64), "team_a"]) {
            assert.notEqual(namespaceNameProblem(name), undefined, name);
        }
        assert.match(namespaceNameProblem("a".repeat(64))!, /at most 63 characters/);
    });
});

describe("Secret and ServiceAccount names (RFC 1123 subdomains)", () => {
    it("accepts dot-joined labels up to 253 characters", () => {
        fc.assert(
            fc.property(fc.array(label, { minLength: 1, maxLength: 4 }), (labels) => {
                const name = labels.join(".");
                fc.pre(name.length <= 253);
                assert.equal(objectNameProblem(name), undefined);
            }),
        );
    });
    it("refuses empty labels, uppercase, underscores and names over 253 characters", () => {
        for (const name of [
            "regcred.",
            ".regcred",
            "reg..cred",
            "RegCred",
            "reg_cred",
            "",
            `${"a".repeat(63)}.`.repeat(4) + "a",
        ]) {
            assert.notEqual(objectNameProblem(name), undefined, name);
        }
    });
});

describe("registry hosts (kubelet keyring keys)", () => {
    it("accepts host, host:port and globbed hosts", () => {
        for (const host of [
            "gcr.io",
            "asia.gcr.io",
            "asia-northeast1-docker.pkg.dev",
            "*.gcr.io",
            "127.0.0.1:5000",
            "localhost:65535",
            "registry-?.example.com",
        ]) {
            assert.equal(registryHostProblem(host), undefined, host);
        }
        fc.assert(
            fc.property(
                fc.array(label, { minLength: 1, maxLength: 4 }),
                fc.option(fc.integer({ min: 1, max: 65535 })),
                (labels, port) => {
                    assert.equal(registryHostProblem(labels.join(".") + (port === null ? "" : `:${port}`)), undefined);
                },
            ),
        );
    });
    it("refuses schemes, paths, bad ports, uppercase and empty labels with a reason that says which", () => {
        assert.match(registryHostProblem("https://gcr.io")!, /without a scheme/);
        assert.match(registryHostProblem("gcr.io/my-project")!, /without a path/);
        assert.match(registryHostProblem("gcr.io:0")!, /port must be a number from 1 to 65535/);
        assert.match(registryHostProblem("gcr.io:65536")!, /port must be a number from 1 to 65535/);
        assert.match(registryHostProblem("gcr.io:5000:1")!, /host or host:port/);
        assert.match(registryHostProblem("GCR.io")!, /lowercase/);
        assert.match(registryHostProblem("gcr..io")!, /dot-separated labels/);
        assert.match(registryHostProblem("")!, /must not be empty/);
    });
    it("refuses globs broader than one registry domain: the credential would go to any host they match", () => {
        for (const host of ["*", "*.*", "*.io", "gcr.*", "*.*.io", "asia.gcr.*", "?.io", "*:5000"]) {
            assert.match(registryHostProblem(host) ?? "", /globs only left of a registry domain/, host);
        }
        for (const host of ["*.gcr.io", "*.pkg.dev", "asia-*.pkg.dev", "*.*.gcr.io"]) {
            assert.equal(registryHostProblem(host), undefined, host);
        }
    });
});

describe("Google Cloud identifiers", () => {
    it("service account ids are 6-30 characters of [a-z][-a-z0-9]*[a-z0-9]", () => {
        assert.equal(serviceAccountIdProblem("image-puller"), undefined);
        assert.match(serviceAccountIdProblem("short")!, /6 to 30 characters, got 5/);
        assert.match(serviceAccountIdProblem("a".repeat(31))!, /6 to 30 characters, got 31/);
        for (const id of ["1mage-puller", "image-puller-", "Image-puller", "image_puller"]) {
            assert.match(serviceAccountIdProblem(id)!, /lowercase letter/, id);
        }
    });
    it("project ids follow the same shape and may be domain-scoped", () => {
        assert.equal(projectIdProblem("my-project"), undefined);
        assert.equal(projectIdProblem("example.com:my-project"), undefined);
        assert.notEqual(projectIdProblem("My-Project"), undefined);
        assert.notEqual(projectIdProblem("proj"), undefined);
    });
    it("emails need one '@' and a dotted domain", () => {
        assert.equal(emailProblem("image-puller@my-project.iam.gserviceaccount.com"), undefined);
        for (const email of ["no-at.example.com", "a@b", "a@@b.com", "a b@c.com", "a@b."]) {
            assert.notEqual(emailProblem(email), undefined, email);
        }
    });
    it("repositories are a location and an id; gcr.io hosts are ids with dots", () => {
        assert.equal(repositoryLocationProblem("asia"), undefined);
        assert.equal(repositoryLocationProblem("asia-northeast1"), undefined);
        assert.notEqual(repositoryLocationProblem("Asia"), undefined);
        assert.equal(repositoryIdProblem("asia.gcr.io"), undefined);
        assert.equal(repositoryIdProblem("images"), undefined);
        assert.notEqual(repositoryIdProblem("Images"), undefined);
        assert.notEqual(repositoryIdProblem(""), undefined);
    });
});

describe("firstDuplicateIndex", () => {
    it("finds the first repeat, and nothing in a list of distinct values", () => {
        fc.assert(
            fc.property(fc.uniqueArray(fc.string()), (values) => assert.equal(firstDuplicateIndex(values), undefined)),
        );
        assert.equal(firstDuplicateIndex(["a", "b", "a", "b"]), 2);
    });
});

describe("the refresher's default namespace and image pinning", () => {
    it("is a valid RFC 1123 label of at most 51 characters for any component name, stack and project", () => {
        fc.assert(
            fc.property(
                fc.string(),
                fc.string({ minLength: 1 }),
                fc.string({ minLength: 1 }),
                (name, stack, project) => {
                    const namespace = defaultRefresherNamespace(project, stack, name);
                    assert.equal(namespaceNameProblem(namespace), undefined, namespace);
                    assert.ok(namespace.length <= 51, namespace);
                    assert.equal(defaultRefresherNamespace(project, stack, name), namespace, "stable");
                },
            ),
        );
    });

    it("differs between stacks, projects and components, and reads as the component's name", () => {
        const dev = defaultRefresherNamespace("shop", "dev", "regcred");
        assert.match(dev, /^regcred-refresher-[0-9a-f]{8}$/);
        assert.notEqual(defaultRefresherNamespace("shop", "prod", "regcred"), dev);
        assert.notEqual(defaultRefresherNamespace("other", "dev", "regcred"), dev);
        assert.notEqual(defaultRefresherNamespace("shop", "dev", "regcred-2"), dev);
        assert.match(
            defaultRefresherNamespace("shop", "dev", "Pull Secrets_EU"),
            /^pull-secrets-eu-refresher-[0-9a-f]{8}$/,
        );
        assert.match(defaultRefresherNamespace("shop", "dev", "---"), /^refresher-[0-9a-f]{8}$/);
    });

    it("an image is pinned only by a full sha256 digest", () => {
        assert.equal(isPinnedByDigest(`node@sha256:${"a".repeat(64)}`), true);
        assert.equal(isPinnedByDigest(`registry.example.com/node:24-alpine@sha256:${"0".repeat(64)}`), true);
        for (const image of ["node:24-alpine", "node", `node@sha256:${"a".repeat(63)}`, "node@sha256:latest"]) {
            assert.equal(isPinnedByDigest(image), false, image);
        }
    });
});
