import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, mergeStackConfig } from "../tools/stack-config-files";

const project = {
    name: "p",
    config: {
        names: { type: "array", items: { type: "string" }, default: ["a"] },
        label: { type: "string" },
        count: { type: "integer", default: 2 },
        plain: "given",
        "other:setting": { default: true },
    },
};

function errorOf(run: () => unknown): ConfigError {
    try {
        run();
    } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error;
    }
    assert.fail("no error");
}

describe("mergeStackConfig", () => {
    it("qualifies keys with the project, keeps other namespaces, and stores every value as the engine does", () => {
        assert.deepEqual(mergeStackConfig(project, { config: { "p:label": "x" } }, "dev"), {
            project: "p",
            main: "index.ts",
            stack: "dev",
            config: { "p:names": '["a"]', "p:label": "x", "p:count": "2", "p:plain": "given", "other:setting": "true" },
            undeclared: [],
        });
    });

    it("lists keys of the project's namespace that Pulumi.yaml does not declare, with the nearest declared key", () => {
        const { undeclared, config } = mergeStackConfig(
            project,
            {
                config: {
                    "p:label": "x",
                    "p:name": ["b"],
                    lable: "y",
                    "p:zzzzzzzzzzz": "z",
                    "kubernetes:context": "c",
                },
            },
            "dev",
        );
        assert.deepEqual(undeclared, [
            { key: "p:name", why: "undeclared", nearest: "p:names" },
            { key: "p:lable", why: "undeclared", nearest: "p:label" },
            { key: "p:zzzzzzzzzzz", why: "undeclared", nearest: undefined },
        ]);
        // Still passed on, as the Pulumi CLI would: the program just never reads it.
        assert.equal(config["p:name"], '["b"]');
    });

    it("lets the stack file override a default", () => {
        const { config } = mergeStackConfig(
            project,
            { config: { "p:label": "x", "p:names": ["b", "c"], "p:count": 5 } },
            "dev",
        );
        assert.equal(config["p:names"], '["b","c"]');
        assert.equal(config["p:count"], "5");
    });

    it("takes a project-level value of another namespace (`value:`) as that key's value, which the stack file overrides", () => {
        const withValue = {
            ...project,
            config: { ...project.config, "kubernetes:enableSecretMutable": { value: true } },
        };
        assert.equal(
            mergeStackConfig(withValue, { config: { "p:label": "x" } }, "dev").config["kubernetes:enableSecretMutable"],
            "true",
        );
        const overridden = { config: { "p:label": "x", "kubernetes:enableSecretMutable": false } };
        assert.equal(mergeStackConfig(withValue, overridden, "dev").config["kubernetes:enableSecretMutable"], "false");
    });

    it("reads main from the project", () => {
        assert.equal(
            mergeStackConfig({ ...project, main: "bin/index.js" }, { config: { "p:label": "x" } }, "dev").main,
            "bin/index.js",
        );
    });

    it("names a declared key without default that the stack does not set", () => {
        const error = errorOf(() => mergeStackConfig(project, {}, "dev"));
        assert.equal(error.key, "p:label");
        assert.equal(
            error.message,
            "Stack 'dev' is missing configuration value 'p:label' (declared in Pulumi.yaml without a default)",
        );
    });

    it("names the typo that replaced a missing key, and its fix, inside the missing-key error", () => {
        const error = errorOf(() =>
            mergeStackConfig(project, { config: { "p:lable": "x", "p:zzzzzzzzzzz": 1 } }, "typo"),
        );
        assert.equal(error.key, "p:label");
        assert.equal(
            error.message,
            "Stack 'typo' is missing configuration value 'p:label' (declared in Pulumi.yaml without a default); Pulumi.typo.yaml: p:lable is not declared in Pulumi.yaml, so the program never reads it; did you mean p:label?",
        );
    });

    it("names a key whose value is not of its declared type", () => {
        const cases: Array<[Record<string, unknown>, string, string]> = [
            [{ "p:names": "a" }, "p:names", "must be of type 'array'"],
            [{ "p:names": ["a", 1] }, "p:names", "must be an array of 'string'"],
            [{ "p:count": 1.5 }, "p:count", "must be of type 'integer'"],
            [{ "p:count": "many" }, "p:count", "must be of type 'integer'"],
        ];
        for (const [config, key, problem] of cases) {
            const error = errorOf(() => mergeStackConfig(project, { config: { "p:label": "x", ...config } }, "dev"));
            assert.equal(error.key, key);
            assert.equal(error.message, `Stack 'dev' configuration value '${key}' ${problem}`);
        }
    });

    it("refuses an encrypted value rather than inventing one", () => {
        const error = errorOf(() => mergeStackConfig(project, { config: { "p:label": { secure: "v1:xyz" } } }, "dev"));
        assert.equal(error.key, "p:label");
        assert.match(error.message, /is encrypted \(secure:\); the offline plan cannot decrypt it/);
    });
});
