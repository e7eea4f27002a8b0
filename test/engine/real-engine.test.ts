/**
 * The REAL Pulumi engine (pulumi CLI v3.274.1 and pulumi-resource-kubernetes built from Go modules
 * by test/engine/build.sh) against a REAL kube-apiserver (test/support/real-cluster.ts), driven
 * through the Automation API of a separate project that installed this package from its `npm pack`
 * tarball, as another stack would (test/support/engine-project.ts). Stacks use `credentials`
 * mode: no Google Cloud. The steps run in order on one stack.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type * as automation from "@pulumi/pulumi/automation";
import {
    assertStateHoldsNone,
    dockerConfigOf,
    plannedResources,
    previewedResources,
    clusterState,
    withContextLeadingNowhere,
} from "../support/engine-checks";
import { installEngineProject, type EngineProject } from "../support/engine-project";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";
import { pullByKubelet, startRealNode, type RealNode } from "../support/real-node";
import { image, RealRegistry } from "../support/real-registry";

const namespaces = ["e2e-a", "e2e-b"];
const serviceAccounts = ["default", "builder"];
const username = "e2e-user";
const firstPassword = "first-password-4f1c9d";
const secondPassword = "second-password-8a2e7b";

let cluster: RealCluster;
let core: CoreV1Api;
let inCluster: ReturnType<typeof clusterState>;
/** Debian's docker-registry on 127.0.0.1, accepting `username` with the current password. */
let registry: RealRegistry;
/** A kubelet with containerd, pulling for pods as any node does. */
let node: RealNode;
/** A namespace the component does not target. */
const outside = "e2e-outside";
let project: EngineProject;
let stack: automation.Stack;

/** The program another project writes: the component with its args, the password from stack config. */
function program(project: EngineProject) {
    return () => {
        const pulumi = project.require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
        const { RegistryPullSecret } = project.require("registry-pull-secret") as typeof import("../../components");
        const config = new pulumi.Config();
        const pull = new RegistryPullSecret("regcred", {
            namespaces,
            registries: [registry.host],
            serviceAccounts,
            credentials: { username, password: config.requireSecret("registryPassword") },
        });
        return Promise.resolve({ secretName: pull.secretName });
    };
}

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    inCluster = clusterState(core);
    registry = await RealRegistry.start([{ user: username, password: firstPassword }]);
    node = await startRealNode(cluster);
    node.trustPlainHttp(registry.host);
    await core.createNamespace({ body: { metadata: { name: outside } } });
    for (const namespace of namespaces) {
        await core.createNamespace({ body: { metadata: { name: namespace } } });
        await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "builder" } } });
    }
    project = await installEngineProject();
    // A kubeconfig whose current context is wrong: only `kubernetes:context` leads to the cluster.
    const kubeconfig = withContextLeadingNowhere(cluster.kubeconfig);
    stack = await project.automation.LocalWorkspace.createOrSelectStack(
        { stackName: "e2e", projectName: "registry-pull-secret", program: program(project) },
        {
            workDir: project.dir,
            pulumiCommand: project.pulumi,
            envVars: project.env,
            projectSettings: { name: "registry-pull-secret", runtime: "nodejs" },
            secretsProvider: "passphrase",
        },
    );
    await stack.setAllConfig({
        "kubernetes:kubeconfig": { value: kubeconfig, secret: true },
        "kubernetes:context": { value: "real" },
        // Without it the Kubernetes provider replaces a Secret whose data changes: with a fixed name,
        // delete and then create, a gap in which pulls fail (pulumi-kubernetes pkg/provider/diff.go).
        "kubernetes:enableSecretMutable": { value: "true" },
        registryPassword: { value: firstPassword, secret: true },
    });
});
after(async () => {
    await node?.stop();
    await cluster?.stop();
    await registry?.remove();
    project?.remove();
});

it("preview shows every resource the offline plan shows for the same config (same types and names)", async () => {
    const stackFile = [
        "config:",
        `  registry-pull-secret:namespaces: ${JSON.stringify(namespaces)}`,
        `  registry-pull-secret:registries: ${JSON.stringify([registry.host])}`,
        `  registry-pull-secret:serviceAccounts: ${JSON.stringify(serviceAccounts)}`,
        `  registry-pull-secret:registryUsername: ${username}`,
        `  registry-pull-secret:registryPassword: ${firstPassword}`,
        "",
    ].join("\n");
    assert.deepEqual(await previewedResources(stack), plannedResources("e2e", stackFile));
});

it("up creates the Secrets, which pull from the real registry, and our entries, keeping another owner's entry made before", async () => {
    await inCluster.setPullSecrets("e2e-a", "default", ["theirs-before"]);
    const result = await stack.up();
    assert.equal(result.summary.result, "succeeded");
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
        await registry.assertPulls(registry.writeAuthfile(`first-${namespace}`, dockerConfigOf(secret)));
        assert.deepEqual(await inCluster.pullSecrets(namespace, "builder"), ["regcred"]);
    }
    assert.deepEqual(await inCluster.pullSecrets("e2e-a", "default"), ["theirs-before", "regcred"]);
    assert.deepEqual(await inCluster.pullSecrets("e2e-b", "default"), ["regcred"]);
});

it("a real kubelet pulls the image for a pod in a target namespace with what up wrote, and is refused in a namespace the component does not target", async () => {
    assert.deepEqual(await pullByKubelet(core, node, "e2e-a", "pulls", `${registry.host}/${image}`), { pulled: true });
    const refused = await pullByKubelet(core, node, outside, "refused", `${registry.host}/${image}`);
    assert.equal(refused.pulled, false);
    assert.match((refused as { reason: string }).reason, /authorization failed|unauthorized|401/i);
});

it("a second up changes nothing, and an entry another owner adds afterwards survives it", async () => {
    await inCluster.setPullSecrets("e2e-b", "default", ["regcred", "theirs-after"]);
    const result = await stack.up();
    assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
    assert.deepEqual(await inCluster.pullSecrets("e2e-b", "default"), ["regcred", "theirs-after"]);
});

it("refresh shows an entry removed by hand, and up puts it back once", async () => {
    await inCluster.setPullSecrets("e2e-a", "builder", []);
    const refreshed = await stack.refresh();
    assert.equal(refreshed.summary.resourceChanges?.update, 1, JSON.stringify(refreshed.summary.resourceChanges));
    const restored = await stack.up();
    assert.equal(restored.summary.resourceChanges?.update, 1, JSON.stringify(restored.summary.resourceChanges));
    assert.deepEqual(await inCluster.pullSecrets("e2e-a", "builder"), ["regcred"]);
    const again = await stack.up();
    assert.deepEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"]);
});

it("a new password updates each Secret in place (same object, never deleted), and the written Secret pulls with it (skopeo and the kubelet) while the old one is refused", async () => {
    const before = await core.readNamespacedSecret({ name: "regcred", namespace: "e2e-a" });
    const oldConfig = registry.writeAuthfile("before-rotation", dockerConfigOf(before));
    // The registry's side of the rotation first, as an operator would: only the new password works now.
    await registry.restart([{ user: username, password: secondPassword }]);
    await registry.assertRefused(oldConfig);
    await stack.setConfig("registryPassword", { value: secondPassword, secret: true });
    const result = await stack.up();
    assert.equal(result.summary.resourceChanges?.update, 2, JSON.stringify(result.summary.resourceChanges));
    assert.equal(result.summary.resourceChanges?.create, undefined);
    assert.equal(result.summary.resourceChanges?.delete, undefined);
    for (const namespace of namespaces) {
        const after = await core.readNamespacedSecret({ name: "regcred", namespace });
        if (namespace === "e2e-a") assert.equal(after.metadata?.uid, before.metadata?.uid, "the same Secret object");
        const written = registry.writeAuthfile(`after-${namespace}`, dockerConfigOf(after));
        assert.equal(registry.passwordIn(written), secondPassword);
        await registry.assertPulls(written);
    }
    const pulled = await pullByKubelet(core, node, "e2e-b", "after-rotation", `${registry.host}/${image}`);
    assert.deepEqual(pulled, { pulled: true }, "the kubelet pulls with the rotated Secret");
});

it("the state file holds no password, docker config or kubeconfig token in plain text", () => {
    assertStateHoldsNone(project.stateDir, path.join(project.dir, `Pulumi.${stack.name}.yaml`), {
        username,
        passwords: [firstPassword, secondPassword],
        others: [cluster.token],
    });
});

it("destroy removes our Secrets and only our entries", async () => {
    const result = await stack.destroy();
    assert.equal(result.summary.result, "succeeded");
    for (const namespace of namespaces) {
        assert.deepEqual(await inCluster.secretNames(namespace), []);
        assert.deepEqual(await inCluster.pullSecrets(namespace, "builder"), []);
    }
    assert.deepEqual(await inCluster.pullSecrets("e2e-a", "default"), ["theirs-before"]);
    assert.deepEqual(await inCluster.pullSecrets("e2e-b", "default"), ["theirs-after"]);
});
