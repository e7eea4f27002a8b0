/**
 * Config keys nothing reads (components/rules/config-keys.ts): the typos a stack file can hold that
 * would otherwise fall back to a default in silence, each with its fix; keys of other namespaces and
 * every key the sample declares or the Kubernetes provider reads pass.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kubernetesConfigKeys, unreadKeyProblem, unreadKeys } from "../../components/rules/config-keys";

const project = "registry-pull-secret";
const declared = ["namespaces", "registries", "keyRotationDays", "takeOver"].map((k) => `${project}:${k}`);
declared.push("kubernetes:enableSecretMutable");

describe("config keys nothing reads", () => {
    it("a typo of an optional key of the project: not declared, with the nearest declared key", () => {
        assert.deepEqual(unreadKeys([`${project}:keyRotationDay`], project, declared), [
            { key: `${project}:keyRotationDay`, why: "undeclared", nearest: `${project}:keyRotationDays` },
        ]);
    });

    it("a typo in the project's namespace or in kubernetes: the namespace is named, with the key meant", () => {
        assert.deepEqual(unreadKeys(["registry-pul-secret:takeOver", "kubernets:kubeconfig"], project, declared), [
            { key: "registry-pul-secret:takeOver", why: "namespace", nearest: `${project}:takeOver` },
            { key: "kubernets:kubeconfig", why: "namespace", nearest: "kubernetes:kubeconfig" },
        ]);
    });

    it("a typo of a Kubernetes provider key: not one of its keys, with the one meant", () => {
        const [unread] = unreadKeys(["kubernetes:enableSecretMutabel"], project, declared);
        assert.equal(
            unreadKeyProblem("Pulumi.dev.yaml", unread),
            "Pulumi.dev.yaml: kubernetes:enableSecretMutabel is not a config key of the Kubernetes provider, so nothing reads it; did you mean kubernetes:enableSecretMutable?",
        );
    });

    it("declared keys, every Kubernetes provider key and other namespaces (gcp:, pulumi:) pass", () => {
        const keys = [...declared, ...kubernetesConfigKeys.map((k) => `kubernetes:${k}`), "gcp:project", "pulumi:tags"];
        assert.deepEqual(unreadKeys(keys, project, declared), []);
    });
});
