/**
 * A user's own TypeScript project with the REAL engine: a fresh folder that `npm install`ed this
 * package's `npm pack` tarball and declares the component in its own `index.ts`
 * (test/fixtures/typescript-project, test/support/engine-project.ts), driven by the `pulumi` CLI as a
 * user's shell runs it (CLI v3.274.1, its Node.js language host, the Kubernetes provider), against a
 * REAL kube-apiserver (test/support/real-cluster.ts), a real registry and a real kubelet. Stacks use
 * `credentials`: no Google Cloud. The steps run in order on one stack.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
    assertStateHoldsNone,
    clusterState,
    dockerConfigOf,
    plannedResources,
    withContextLeadingNowhere,
} from "../support/engine-checks";
import { installTypeScriptProject, type TypeScriptProject } from "../support/engine-project";
import { changed, typeAndName, type PulumiCli } from "../support/pulumi-cli";
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
let project: TypeScriptProject;
let pulumi: PulumiCli;

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
    project = installTypeScriptProject();
    pulumi = project.cli;
    await pulumi.must(["stack", "init", "e2e"]);
    // A kubeconfig whose current context is wrong: only `kubernetes:context` leads to the cluster.
    await pulumi.must(
        ["config", "set", "--secret", "kubernetes:kubeconfig"],
        withContextLeadingNowhere(cluster.kubeconfig),
    );
    await pulumi.must(["config", "set", "kubernetes:context", "real"]);
    // Without it the Kubernetes provider replaces a Secret whose data changes: with a fixed name,
    // delete and then create, a gap in which pulls fail (pulumi-kubernetes pkg/provider/diff.go).
    await pulumi.must(["config", "set", "kubernetes:enableSecretMutable", "true"]);
    await pulumi.must(["config", "set", "namespaces", JSON.stringify(namespaces)]);
    await pulumi.must(["config", "set", "--path", "registries[0]", registry.host]);
    await pulumi.must(["config", "set", "serviceAccounts", JSON.stringify(serviceAccounts)]);
    await pulumi.must(["config", "set", "registryUsername", username]);
    await pulumi.must(["config", "set", "--secret", "registryPassword", firstPassword]);
});
after(async () => {
    await node?.stop();
    await cluster?.stop();
    await registry?.remove();
    project?.remove();
});

it("pulumi preview shows every resource the offline plan shows for the same config (same types and names)", async () => {
    const stackFile = [
        "config:",
        `  registry-pull-secret:namespaces: ${JSON.stringify(namespaces)}`,
        `  registry-pull-secret:registries: ${JSON.stringify([registry.host])}`,
        `  registry-pull-secret:serviceAccounts: ${JSON.stringify(serviceAccounts)}`,
        `  registry-pull-secret:registryUsername: ${username}`,
        `  registry-pull-secret:registryPassword: ${firstPassword}`,
        "",
    ].join("\n");
    assert.deepEqual(typeAndName(await pulumi.previewSteps()), plannedResources("e2e", stackFile));
});

it("pulumi up --yes creates the Secrets, which pull from the real registry, and our entries, keeping another owner's entry made before", async () => {
    await inCluster.setPullSecrets("e2e-a", "default", ["theirs-before"]);
    await pulumi.must(["up", "--yes"]);
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

it("a second pulumi up --expect-no-changes succeeds, and an entry another owner adds afterwards survives it", async () => {
    await inCluster.setPullSecrets("e2e-b", "default", ["regcred", "theirs-after"]);
    await pulumi.must(["up", "--yes", "--expect-no-changes"]);
    assert.deepEqual(await inCluster.pullSecrets("e2e-b", "default"), ["regcred", "theirs-after"]);
});

it("pulumi refresh --yes shows an entry removed by hand, and pulumi up puts it back once", async () => {
    await inCluster.setPullSecrets("e2e-a", "builder", []);
    await pulumi.must(["refresh", "--yes"]);
    assert.deepEqual(changed(await pulumi.lastUpdate()), { update: 1 });
    await pulumi.must(["up", "--yes"]);
    assert.deepEqual(changed(await pulumi.lastUpdate()), { update: 1 });
    assert.deepEqual(await inCluster.pullSecrets("e2e-a", "builder"), ["regcred"]);
    await pulumi.must(["up", "--yes", "--expect-no-changes"]);
});

it("a new password updates each Secret in place (same object, never deleted), and the written Secret pulls with it (skopeo and the kubelet) while the old one is refused", async () => {
    const before = await core.readNamespacedSecret({ name: "regcred", namespace: "e2e-a" });
    const oldConfig = registry.writeAuthfile("before-rotation", dockerConfigOf(before));
    // The registry's side of the rotation first, as an operator would: only the new password works now.
    await registry.restart([{ user: username, password: secondPassword }]);
    await registry.assertRefused(oldConfig);
    await pulumi.must(["config", "set", "--secret", "registryPassword", secondPassword]);
    await pulumi.must(["up", "--yes"]);
    assert.deepEqual(changed(await pulumi.lastUpdate()), { update: 2 }, "updated in place: nothing created or deleted");
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
    assertStateHoldsNone(project.stateDir, path.join(project.dir, "Pulumi.e2e.yaml"), {
        username,
        passwords: [firstPassword, secondPassword],
        others: [cluster.token],
    });
});

it("pulumi destroy --yes removes our Secrets and only our entries", async () => {
    await pulumi.must(["destroy", "--yes"]);
    for (const namespace of namespaces) {
        assert.deepEqual(await inCluster.secretNames(namespace), []);
        assert.deepEqual(await inCluster.pullSecrets(namespace, "builder"), []);
    }
    assert.deepEqual(await inCluster.pullSecrets("e2e-a", "default"), ["theirs-before"]);
    assert.deepEqual(await inCluster.pullSecrets("e2e-b", "default"), ["theirs-after"]);
});
