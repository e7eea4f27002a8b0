import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHash } from "node:crypto";
import {
    codeSummary,
    dependencyOrder,
    display,
    dockerConfigShape,
    kubernetesObjects,
    masked,
    resourceTree,
    unknown,
} from "../tools/plan-format";
import * as YAML from "yaml";
import { secretValue, unknownValue, type Registration } from "../tools/recording-monitor";

function registration(name: string, fields: Partial<Registration> = {}): Registration {
    return {
        type: "test:index:Thing",
        name,
        urn: `urn:${name}`,
        custom: true,
        provider: "",
        parent: "",
        dependencies: [],
        propertyDependencies: {},
        additionalSecretOutputs: [],
        deleteBeforeReplace: false,
        retainOnDelete: false,
        replaceOnChanges: [],
        aliases: [],
        version: "",
        errorHooks: [],
        inputs: {},
        ...fields,
    };
}

describe("display", () => {
    it("masks secrets at any depth, whatever they hold, and marks unknowns", () => {
        assert.deepEqual(
            display({
                a: secretValue("hunter2"),
                b: [unknownValue, "x", secretValue({ deep: "k" })],
                c: { d: unknownValue, e: 1 },
            }),
            { a: masked, b: [unknown, "x", masked], c: { d: unknown, e: 1 } },
        );
    });

    it("masks a secret whose value is unknown as a secret", () => {
        assert.equal(display(secretValue(unknownValue)), masked);
    });
});

describe("dependencyOrder", () => {
    it("puts a resource one step after the latest thing it waits for, and independent ones in the same step", () => {
        const regs = [
            registration("component", { custom: false }),
            registration("a"),
            registration("b", { dependencies: ["urn:a"] }),
            registration("c", { dependencies: ["urn:a", "urn:b", "urn:component"] }),
            registration("d"),
        ];
        assert.deepEqual(
            dependencyOrder(regs).map((s) => [s.step, s.registration.name, s.after]),
            [
                [1, "a", []],
                [1, "d", []],
                [2, "b", ["Thing a"]],
                [3, "c", ["Thing a", "Thing b"]],
            ],
        );
    });

    it("names each dependency with its kind, once: resources of several kinds may share a name", () => {
        const regs = [
            registration("x", { type: "kubernetes:core/v1:Namespace", urn: "urn:ns" }),
            registration("x", { type: "kubernetes:core/v1:ServiceAccount", urn: "urn:sa" }),
            registration("y", { dependencies: ["urn:sa", "urn:ns", "urn:sa"] }),
        ];
        assert.deepEqual(dependencyOrder(regs).find((s) => s.registration.name === "y")!.after, [
            "Namespace x",
            "ServiceAccount x",
        ]);
    });

    it("reports a cycle instead of looping", () => {
        assert.throws(
            () =>
                dependencyOrder([
                    registration("a", { dependencies: ["urn:b"] }),
                    registration("b", { dependencies: ["urn:a"] }),
                ]),
            /dependency cycle through/,
        );
    });
});

describe("resourceTree", () => {
    it("nests children under their parent in registration order", () => {
        const regs = [
            registration("root", { custom: false, type: "t:index:C" }),
            registration("x", { parent: "urn:root" }),
            registration("y", { parent: "urn:x" }),
            registration("z", { parent: "urn:root" }),
        ];
        assert.deepEqual(resourceTree(regs), [
            "t:index:C  root",
            "├─ test:index:Thing  x",
            "│  └─ test:index:Thing  y",
            "└─ test:index:Thing  z",
        ]);
    });
});

describe("dockerConfigShape", () => {
    const data = (document: unknown) =>
        secretValue({ ".dockerconfigjson": Buffer.from(JSON.stringify(document)).toString("base64") });

    it("shows hosts, usernames and emails, and masks every other field of every entry", () => {
        const document = {
            auths: {
                "gcr.io": { username: "_json_key_base64", password: "a2V5", email: "ops@example.com", auth: "eA==" },
                "ghcr.io": { username: "octocat", password: "hunter2", auth: "b2N0", identitytoken: "t", x: 1 },
            },
        };
        assert.deepEqual(dockerConfigShape(data(document)), {
            ".dockerconfigjson": {
                auths: {
                    "gcr.io": {
                        username: "_json_key_base64",
                        password: masked,
                        email: "ops@example.com",
                        auth: masked,
                    },
                    "ghcr.io": {
                        username: "octocat",
                        password: masked,
                        auth: masked,
                        identitytoken: masked,
                        x: masked,
                    },
                },
            },
        });
    });

    it("gives nothing for data that is unknown, not base64 JSON, or not a docker config", () => {
        assert.equal(dockerConfigShape(secretValue(unknownValue)), undefined);
        assert.equal(dockerConfigShape(secretValue({ ".dockerconfigjson": unknownValue })), undefined);
        assert.equal(dockerConfigShape(secretValue({ ".dockerconfigjson": "not base64 json" })), undefined);
        assert.equal(dockerConfigShape(data({ registry: "gcr.io" })), undefined);
        assert.equal(dockerConfigShape(secretValue({ token: "x" })), undefined);
    });
});

describe("codeSummary", () => {
    it("gives the code's size in bytes and its sha256", () => {
        const code = "console.log('é');\n";
        assert.equal(
            codeSummary(code),
            `(code: 19 bytes, sha256 ${createHash("sha256").update(code).digest("hex")}; --out DIR writes the full text)`,
        );
    });
});

describe("kubernetesObjects", () => {
    const object = (name: string, type: string, namespace: string) =>
        registration(name, {
            type,
            inputs: { kind: "ServiceAccount", apiVersion: "v1", metadata: { namespace, name: "default" } },
        });

    it("leaves non-Kubernetes resources out and never reuses a file name", () => {
        const files = kubernetesObjects([
            registration("gcp"),
            object("one", "kubernetes:core/v1:ServiceAccountPatch", "ns"),
            object("two", "kubernetes:core/v1:ServiceAccountPatch", "ns"),
            object("three", "kubernetes:core/v1:ServiceAccount", "ns"),
        ]).map((o) => o.fileName);
        assert.deepEqual(files, [
            "ns_serviceaccount_default.patch.yaml",
            "ns_serviceaccount_default-2.patch.yaml",
            "ns_serviceaccount_default.yaml",
        ]);
    });

    it("prints a ConfigMap's program code as its summary, other data in full, and all of it with fullCode", () => {
        const code = "exports.main = () => 1;\n";
        const configMap = registration("code", {
            type: "kubernetes:core/v1:ConfigMap",
            inputs: {
                apiVersion: "v1",
                kind: "ConfigMap",
                metadata: { name: "c" },
                data: { "a.js": code, "b.json": "{}" },
            },
        });
        const data = (options?: { fullCode: boolean }) =>
            YAML.parse(kubernetesObjects([configMap], options)[0].yaml).data as Record<string, string>;
        assert.deepEqual(data(), { "a.js": codeSummary(code), "b.json": "{}" });
        assert.deepEqual(data({ fullCode: true }), { "a.js": code, "b.json": "{}" });
    });

    it("writes a docker config Secret's data as its shape, with a comment saying so; other Secrets stay masked", () => {
        const dockerConfig = JSON.stringify({ auths: { "gcr.io": { username: "u", password: "p", auth: "dTpw" } } });
        const secret = (name: string, secretData: Record<string, string>) =>
            registration(name, {
                type: "kubernetes:core/v1:Secret",
                inputs: { apiVersion: "v1", kind: "Secret", metadata: { name }, data: secretValue(secretData) },
            });
        const [shaped, opaque] = kubernetesObjects([
            secret("pull", { ".dockerconfigjson": Buffer.from(dockerConfig).toString("base64") }),
            secret("other", { token: Buffer.from("p").toString("base64") }),
        ]);
        assert.match(shaped.yaml, /^# kubernetes:core\/v1:Secret pull\n# data shown decoded, for review/);
        assert.deepEqual(YAML.parse(shaped.yaml).data, {
            ".dockerconfigjson": { auths: { "gcr.io": { username: "u", password: masked, auth: masked } } },
        });
        assert.doesNotMatch(shaped.yaml, /dTpw|: p\n/);
        assert.equal(YAML.parse(opaque.yaml).data, masked);
    });

    it("writes apiVersion, kind and metadata first, as kubectl does", () => {
        const [{ yaml }] = kubernetesObjects([object("three", "kubernetes:core/v1:ServiceAccount", "ns")]);
        assert.equal(
            yaml,
            "# kubernetes:core/v1:ServiceAccount three\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  namespace: ns\n  name: default\n",
        );
    });
});
