/**
 * Secrets and attachments go to one cluster: an explicit Kubernetes provider that reaches the
 * component (its `provider`, its `providers`, or a parent's) needs `kubeconfig` for the "merge"
 * attachments; `kubeconfig` alone becomes one child Kubernetes provider for the Secrets and "patch"
 * attachments.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { claimWarning, startMocks, settled, isSecretValue, reveal, type Registration } from "./support/mocks";
const registrations = startMocks();
import { Provider } from "@pulumi/kubernetes/provider";
import { RegistryPullSecret, type RegistryPullSecretArgs } from "../components";
import { registeredBy, sampleArgs } from "./support/component";

const kubeconfig = "apiVersion: v1\nkind: Config\n";
const secretType = "kubernetes:core/v1:Secret";
const entryType = "pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry";
const patchType = "kubernetes:core/v1:ServiceAccountPatch";
const providerType = "pulumi:providers:kubernetes";

const explicit = new Provider("explicit", { kubeconfig: "elsewhere" });
const explicitRef = async () => {
    await settled();
    const [urn, id] = await Promise.all([
        new Promise<string>((resolve) => explicit.urn.apply(resolve)),
        new Promise<string>((resolve) => explicit.id.apply(resolve)),
    ]);
    return `${urn}::${id}`;
};

class Platform extends pulumi.ComponentResource {
    constructor(name: string, opts: pulumi.ComponentResourceOptions) {
        super("test:index:Platform", name, {}, opts);
    }
}

/** Constructs the component; returns its children, or the error it threw and what registered under its name. */
async function declare(name: string, args: RegistryPullSecretArgs, opts: pulumi.ComponentResourceOptions = {}) {
    try {
        return { children: (await registeredBy(new RegistryPullSecret(name, args, opts), registrations)).children };
    } catch (error) {
        await settled();
        const own = registrations.filter(
            (r: Registration) => r.name === name || r.name.startsWith(`${name}-`) || r.name.startsWith(`${name}/`),
        );
        return { error: error as Error, registered: own.map((r) => r.type) };
    }
}

const ofType = (children: Registration[], type: string) => children.filter((r) => r.type === type);

describe("an explicit Kubernetes provider without kubeconfig", () => {
    const ways: [string, (name: string) => pulumi.ComponentResourceOptions][] = [
        ["provider", () => ({ provider: explicit })],
        ["providers", () => ({ providers: { kubernetes: explicit } })],
        [
            "a parent's providers",
            (name) => ({ parent: new Platform(`platform-of-${name}`, { providers: [explicit] }) }),
        ],
    ];
    for (const [way, opts] of ways) {
        it(`via ${way}: fails on kubeconfig, saying why and what to pass, and declares no child`, async () => {
            const name = `via-${way.replace(/\W+/g, "-")}`;
            const result = await declare(name, sampleArgs(), opts(name));
            assert.ok(result.error instanceof pulumi.InputPropertyError, String(result.error));
            assert.equal(result.error.propertyPath, "kubeconfig");
            assert.match(result.error.reason, /^kubeconfig must be given when a Kubernetes provider reaches/);
            assert.match(result.error.reason, /kubeconfig: cluster\.kubeconfig/);
            // The component itself may be registered by super() before its provider is known; no child is.
            assert.deepEqual(
                result.registered?.filter((t) => t !== "registry-pull-secret:index:RegistryPullSecret"),
                [],
            );
        });
    }

    it('is accepted with attachMode "patch": Secrets and patches use that provider', async () => {
        const { children } = await declare("patch-explicit", sampleArgs({ attachMode: "patch" }), {
            provider: explicit,
        });
        const ref = await explicitRef();
        assert.equal(ofType(children!, providerType).length, 0);
        for (const child of [...ofType(children!, secretType), ...ofType(children!, patchType)]) {
            assert.equal(child.provider, ref, child.name);
        }
    });
});

describe("kubeconfig", () => {
    it("alone: one child Kubernetes provider from it, used by the Secrets; merge entries carry it", async () => {
        const { children } = await declare("only", sampleArgs({ namespaces: ["a", "b"], kubeconfig }));
        const [cluster] = ofType(children!, providerType);
        assert.equal(ofType(children!, providerType).length, 1);
        assert.equal(cluster.name, "only-cluster");
        assert.ok(isSecretValue(cluster.inputs.kubeconfig));
        assert.equal(reveal(cluster.inputs.kubeconfig), kubeconfig);
        assert.equal(cluster.inputs.enableSecretMutable, "true", "Secrets are updated in place, never replaced");
        const secrets = ofType(children!, secretType);
        assert.equal(secrets.length, 2);
        for (const secret of secrets) assert.ok(secret.provider.startsWith(`${cluster.urn}::`), secret.name);
        for (const entry of ofType(children!, entryType)) {
            assert.equal(reveal(entry.inputs.kubeconfig), kubeconfig);
            assert.equal(entry.provider, "", "an entry reaches the cluster through kubeconfig, not the provider");
        }
    });

    it('alone with attachMode "patch": the patches use the same child provider', async () => {
        const { children } = await declare("only-patch", sampleArgs({ attachMode: "patch", kubeconfig }));
        const [cluster] = ofType(children!, providerType);
        const patches = ofType(children!, patchType);
        assert.equal(patches.length, 1);
        for (const child of [...patches, ...ofType(children!, secretType)]) {
            assert.ok(child.provider.startsWith(`${cluster.urn}::`), child.name);
        }
    });

    it("with an explicit provider: the Secrets get a provider of their own from kubeconfig, entries carry the kubeconfig", async () => {
        const { children } = await declare("both", sampleArgs({ kubeconfig }), { provider: explicit });
        const [secrets] = ofType(children!, providerType);
        assert.deepEqual(
            ofType(children!, providerType).map((p) => p.name),
            ["both-secrets"],
        );
        assert.equal(reveal(secrets.inputs.kubeconfig), kubeconfig);
        assert.ok(isSecretValue(secrets.inputs.kubeconfig));
        assert.ok(ofType(children!, secretType)[0].provider.startsWith(`${secrets.urn}::`));
        assert.equal(reveal(ofType(children!, entryType)[0].inputs.kubeconfig), kubeconfig);
    });

    it("and no explicit provider (neither): the stack's connection, for the Secrets through a provider of their own", async () => {
        const { children } = await declare("neither", sampleArgs());
        const [secrets] = ofType(children!, providerType);
        assert.equal(secrets.name, "neither-secrets");
        assert.equal(
            "kubeconfig" in secrets.inputs,
            false,
            "no kubeconfig: the stack's, as the default provider finds it",
        );
        assert.ok(ofType(children!, secretType)[0].provider.startsWith(`${secrets.urn}::`));
        assert.equal("kubeconfig" in ofType(children!, entryType)[0].inputs, false);
    });
});

describe("claimed Secrets go through a provider that adopts what exists (pulumi-kubernetes v4.29+ creates plainly otherwise)", () => {
    it("with the stack's connection: a provider with upsertExistingObjects for the Secrets alone, which keeps the state of the former takeover provider", async () => {
        const { children } = await declare("adopt", sampleArgs({ namespaces: ["a", "b"], takeOver: true }));
        const providers = ofType(children!, providerType);
        assert.deepEqual(
            providers.map((p) => [p.name, p.aliases.map((a) => (a as { name?: string }).name)]),
            [["adopt-secrets", ["adopt-takeover"]]],
        );
        const [adopting] = providers;
        assert.equal(adopting.inputs.upsertExistingObjects, "true");
        assert.equal(adopting.inputs.enableSecretMutable, "true", "Secrets are updated in place, never replaced");
        const secrets = ofType(children!, secretType);
        assert.equal(secrets.length, 2);
        for (const secret of secrets) assert.ok(secret.provider.startsWith(`${adopting.urn}::`), secret.name);
        const others = children!.filter((c) => c.type !== secretType && c.provider.startsWith(`${adopting.urn}::`));
        assert.deepEqual(others, [], "only the Secrets upsert");
    });

    it('with kubeconfig: its child provider adopts, and carries only the Secrets and "patch" attachments', async () => {
        const { children } = await declare("adopt-kc", sampleArgs({ kubeconfig, attachMode: "patch" }));
        const [cluster] = ofType(children!, providerType);
        assert.deepEqual(
            ofType(children!, providerType).map((p) => p.name),
            ["adopt-kc-cluster"],
        );
        assert.equal(cluster.inputs.upsertExistingObjects, "true");
        const on = children!.filter((c) => c.provider.startsWith(`${cluster.urn}::`)).map((c) => c.type);
        assert.deepEqual([...new Set(on)].sort(), [secretType, patchType]);
    });

    it('an explicit provider without kubeconfig (no claims, attachMode "patch"): nothing adopts, the Secrets keep that provider', async () => {
        const { children } = await declare("plain", sampleArgs({ attachMode: "patch" }), { provider: explicit });
        assert.deepEqual(ofType(children!, providerType), []);
        assert.equal(ofType(children!, secretType)[0].provider, await explicitRef());
    });
});

describe('gcp.credential "accessToken": the refresher and its Secrets on the same one cluster', () => {
    const accessToken = (overrides: Partial<RegistryPullSecretArgs> = {}) =>
        sampleArgs({
            gcp: {
                project: "example-project",
                credential: "accessToken",
                projectNumber: "123456789012",
                repositories: [{ location: "asia", repository: "asia.gcr.io" }],
            },
            ...overrides,
        });

    it('an explicit provider without kubeconfig fails even with attachMode "patch": its Secrets reach the cluster through kubeconfig', async () => {
        const result = await declare("token-explicit", accessToken({ attachMode: "patch" }), { provider: explicit });
        assert.ok(result.error instanceof pulumi.InputPropertyError, String(result.error));
        assert.equal(result.error.propertyPath, "kubeconfig");
    });

    it("kubeconfig alone: every Kubernetes resource of the refresher uses the child provider, the Secrets carry the kubeconfig", async () => {
        const { children } = await declare("token-only", accessToken({ kubeconfig }));
        const [cluster] = ofType(children!, providerType);
        const kubernetes = children!.filter((r) => r.type.startsWith("kubernetes:"));
        assert.ok(kubernetes.length >= 6, kubernetes.map((r) => r.type).join());
        for (const child of kubernetes) assert.ok(child.provider.startsWith(`${cluster.urn}::`), child.name);
        const secrets = ofType(children!, "pulumi-nodejs:dynamic/registry-pull-secret:RefreshedSecret");
        assert.equal(secrets.length, 1);
        assert.equal(reveal(secrets[0].inputs.kubeconfig), kubeconfig);
        assert.equal(secrets[0].provider, "", "it reaches the cluster through kubeconfig, not the provider");
        claimWarning(/^gcp\.credential "accessToken" on GKE: .*names no cluster/);
        claimWarning(/^gcp\.refresher\.image "node:24-alpine" is not pinned by digest/);
    });
});
