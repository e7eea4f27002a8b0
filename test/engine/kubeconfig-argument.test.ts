/**
 * The component's own `kubeconfig` argument with the REAL engine and a REAL kube-apiserver (as in
 * test/engine/typescript-project.test.ts, through the `pulumi` CLI): the user's program in a project
 * that installed the package's tarball passes the cluster's kubeconfig to the component, and the stack sets no `kubernetes:` config at all (in
 * particular not `kubernetes:enableSecretMutable`) while the engine's ambient kubeconfig leads nowhere.
 * So the Secrets reach the cluster only through the child Kubernetes provider the component makes from
 * the argument, the "merge" entries only through the argument itself, and an in-place rotation shows
 * the child provider's `enableSecretMutable`.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
    assertStateHoldsNone,
    dockerConfigOf,
    clusterState,
    withContextLeadingNowhere,
} from "../support/engine-checks";
import { installTypeScriptProject, type TypeScriptProject } from "../support/engine-project";
import { changed, type PulumiCli } from "../support/pulumi-cli";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";

const namespaces = ["arg-a", "arg-b"];
const registry = "registry.arg.example:5000";
const username = "arg-user";
const firstPassword = "first-password-0c7d31";
const secondPassword = "second-password-e5a9f2";

let cluster: RealCluster;
let core: CoreV1Api;
let inCluster: ReturnType<typeof clusterState>;
let project: TypeScriptProject;
let pulumi: PulumiCli;

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    inCluster = clusterState(core);
    for (const namespace of namespaces) await core.createNamespace({ body: { metadata: { name: namespace } } });
    project = installTypeScriptProject();
    pulumi = project.cli;
    // The engine's own kubeconfig, which the default Kubernetes provider would use, leads nowhere.
    pulumi.env.KUBECONFIG = path.join(project.dir, "ambient-kubeconfig");
    writeFileSync(pulumi.env.KUBECONFIG, withContextLeadingNowhere(cluster.kubeconfig));
    // Two stacks of the same program: `arg` names the cluster for the component, the control does not.
    for (const stack of ["no-argument", "arg"]) {
        await pulumi.must(["stack", "init", stack]);
        await pulumi.must(["config", "set", "namespaces", JSON.stringify(namespaces)]);
        await pulumi.must(["config", "set", "--path", "registries[0]", registry]);
        await pulumi.must(["config", "set", "registryUsername", username]);
        await pulumi.must(["config", "set", "--secret", "registryPassword", firstPassword]);
    }
    // A current context that is the cluster's own: the component's argument needs no `context`.
    await pulumi.must(["config", "set", "--secret", "clusterKubeconfig"], cluster.kubeconfig);
});
after(async () => {
    await cluster?.stop();
    project?.remove();
});

it("without the argument the same program cannot reach the cluster: the engine's own connection leads nowhere", async () => {
    const control = await pulumi.run(["up", "--yes", "--stack", "no-argument"]);
    assert.notEqual(control.status, 0);
    // The first to try the engine's connection says so: the SecretClaim (which reads every namespace
    // before any Secret is written), or the Kubernetes provider.
    assert.match(
        control.stdout + control.stderr,
        /Secret "regcred" in namespace "arg-[ab]": the API server could not be reached|configured Kubernetes cluster is unreachable[^\n]*127\.0\.0\.1:1/,
    );
    for (const namespace of namespaces) assert.deepEqual(await inCluster.secretNames(namespace), []);
});

it("pulumi up --yes creates the Secrets through the child provider and our entries through the argument, keeping another owner's entry", async () => {
    await inCluster.setPullSecrets("arg-a", "default", ["theirs"]);
    const output = await pulumi.must(["up", "--yes"]);
    // The Secrets go to the child provider, which is mutable: nothing to warn about.
    assert.doesNotMatch(output, /enableSecretMutable/);
    assert.doesNotMatch(await pulumi.must(["config"]), /kubernetes:/);
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(JSON.parse(dockerConfigOf(secret)).auths[registry].password, firstPassword);
    }
    assert.deepEqual(await inCluster.pullSecrets("arg-a", "default"), ["theirs", "regcred"]);
    assert.deepEqual(await inCluster.pullSecrets("arg-b", "default"), ["regcred"]);
    await pulumi.must(["up", "--yes", "--expect-no-changes"]);
});

it("a new password updates each Secret in place with no kubernetes:enableSecretMutable in the stack: the child provider sets it", async () => {
    const before = await core.readNamespacedSecret({ name: "regcred", namespace: "arg-a" });
    await pulumi.must(["config", "set", "--secret", "registryPassword", secondPassword]);
    await pulumi.must(["up", "--yes"]);
    assert.deepEqual(changed(await pulumi.lastUpdate()), { update: 2 });
    const after = await core.readNamespacedSecret({ name: "regcred", namespace: "arg-a" });
    assert.equal(after.metadata?.uid, before.metadata?.uid, "the same Secret object, never deleted");
    assert.equal(JSON.parse(dockerConfigOf(after)).auths[registry].password, secondPassword);
});

it("the state file holds no password, docker config or cluster token in plain text", () => {
    assertStateHoldsNone(project.stateDir, path.join(project.dir, "Pulumi.arg.yaml"), {
        username,
        passwords: [firstPassword, secondPassword],
        others: [cluster.token],
    });
});

it("pulumi destroy --yes removes our Secrets and only our entries", async () => {
    await pulumi.must(["destroy", "--yes"]);
    for (const namespace of namespaces) {
        assert.deepEqual(await inCluster.secretNames(namespace), []);
    }
    assert.deepEqual(await inCluster.pullSecrets("arg-a", "default"), ["theirs"]);
    assert.deepEqual(await inCluster.pullSecrets("arg-b", "default"), []);
});
