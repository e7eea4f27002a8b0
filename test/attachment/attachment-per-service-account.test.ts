import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSecretValue, reveal, startMocks } from "../support/mocks";
const registrations = startMocks();
import { RegistryPullSecret } from "../../components";
import { registeredBy, sampleArgs } from "../support/component";

const entryType = "pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry";
const patchType = "kubernetes:core/v1:ServiceAccountPatch";

describe("attachments under mocks", () => {
    it("registers one PullSecretEntry per (namespace, account), each depending on its own Secret", async () => {
        const component = new RegistryPullSecret(
            "pairs",
            sampleArgs({ namespaces: ["a", "b"], serviceAccounts: ["default", "ci"] }),
        );
        const { children } = await registeredBy(component, registrations);
        const entries = children.filter((c) => c.type === entryType);
        assert.deepEqual(
            entries.map((e) => [e.name, e.inputs.namespace, e.inputs.serviceAccount, e.inputs.secretName]),
            [
                ["pairs/a/default", "a", "default", "regcred"],
                ["pairs/a/ci", "a", "ci", "regcred"],
                ["pairs/b/default", "b", "default", "regcred"],
                ["pairs/b/ci", "b", "ci", "regcred"],
            ],
        );
        for (const entry of entries) {
            const secret = children.find(
                (c) => c.type === "kubernetes:core/v1:Secret" && c.name === `pairs/${String(entry.inputs.namespace)}`,
            )!;
            assert.deepEqual(entry.propertyDependencies.secretName, [secret.urn]);
            assert.ok(entry.dependencies.includes(secret.urn));
            const other = children.find((c) => c.type === "kubernetes:core/v1:Secret" && c.urn !== secret.urn)!;
            assert.ok(!entry.dependencies.includes(other.urn), "namespaces stay independent");
            assert.equal(entry.parent, (await registeredBy(component, registrations)).component.urn);
            assert.deepEqual(entry.additionalSecretOutputs, ["kubeconfig"]);
            assert.equal(entry.inputs.kubeconfig, undefined);
            assert.equal(typeof entry.inputs.__provider, "string", "the provider was serialized");
        }
        assert.equal(children.filter((c) => c.type === patchType).length, 0);
    });

    it("passes a kubeconfig arg to every attachment as a secret, and nowhere else in plain text", async () => {
        const kubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\n";
        const component = new RegistryPullSecret("conn", sampleArgs({ namespaces: ["a", "b"], kubeconfig }));
        const { children } = await registeredBy(component, registrations);
        const entries = children.filter((c) => c.type === entryType);
        assert.equal(entries.length, 2);
        for (const entry of entries) {
            assert.ok(isSecretValue(entry.inputs.kubeconfig));
            assert.equal(reveal(entry.inputs.kubeconfig), kubeconfig);
        }
        for (const child of children) {
            const plain = JSON.stringify(child.inputs, (_k, v) => (isSecretValue(v) ? "<secret>" : v));
            assert.ok(!plain.includes("kind: Config"), `${child.name} carries the kubeconfig in plain text`);
        }
    });

    it('attachMode "patch" still declares a server-side-apply ServiceAccountPatch per (namespace, account)', async () => {
        const component = new RegistryPullSecret(
            "ssa",
            sampleArgs({ namespaces: ["a"], serviceAccounts: ["default", "ci"], attachMode: "patch" }),
        );
        const { children } = await registeredBy(component, registrations);
        const patches = children.filter((c) => c.type === patchType);
        assert.deepEqual(
            patches.map((p) => [p.name, p.inputs.metadata, p.inputs.imagePullSecrets]),
            [
                ["ssa/a/default", { name: "default", namespace: "a" }, [{ name: "regcred" }]],
                ["ssa/a/ci", { name: "ci", namespace: "a" }, [{ name: "regcred" }]],
            ],
        );
        assert.equal(children.filter((c) => c.type === entryType).length, 0);
    });
});
