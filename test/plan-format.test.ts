import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dependencyOrder, display, kubernetesObjects, masked, resourceTree, unknown } from "../tools/plan-format";
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
        replaceOnChanges: [],
        version: "",
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
                [2, "b", ["a"]],
                [3, "c", ["a", "b"]],
            ],
        );
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

    it("writes apiVersion, kind and metadata first, as kubectl does", () => {
        const [{ yaml }] = kubernetesObjects([object("three", "kubernetes:core/v1:ServiceAccount", "ns")]);
        assert.equal(
            yaml,
            "# kubernetes:core/v1:ServiceAccount three\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  namespace: ns\n  name: default\n",
        );
    });
});
