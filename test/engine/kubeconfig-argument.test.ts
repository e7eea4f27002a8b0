/**
 * The component's own `kubeconfig` argument with the REAL engine and a REAL kube-apiserver (as in
 * test/engine/real-engine.test.ts): a program in a project that installed the package's tarball passes
 * the cluster's kubeconfig to the component, and the stack sets no `kubernetes:` config at all (in
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
import type * as automation from "@pulumi/pulumi/automation";
import {
    assertStateHoldsNone,
    dockerConfigOf,
    clusterState,
    withContextLeadingNowhere,
} from "../support/engine-checks";
import { installEngineProject, type EngineProject } from "../support/engine-project";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";

const namespaces = ["arg-a", "arg-b"];
const registry = "registry.arg.example:5000";
const username = "arg-user";
const firstPassword = "first-password-0c7d31";
const secondPassword = "second-password-e5a9f2";

let cluster: RealCluster;
let core: CoreV1Api;
let inCluster: ReturnType<typeof clusterState>;
let project: EngineProject;
let stack: automation.Stack;
/** The same program without the argument: the control that the engine's own connection leads nowhere. */
let control: automation.Stack;

/** The program another project writes: the cluster's kubeconfig given to the component itself (or not). */
function program(project: EngineProject, withKubeconfig = true) {
    return () => {
        const pulumi = project.require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
        const { RegistryPullSecret } = project.require("registry-pull-secret") as typeof import("../../components");
        const config = new pulumi.Config();
        const pull = new RegistryPullSecret("regcred", {
            namespaces,
            registries: [registry],
            credentials: { username, password: config.requireSecret("registryPassword") },
            kubeconfig: withKubeconfig ? config.requireSecret("clusterKubeconfig") : undefined,
        });
        return Promise.resolve({ secretName: pull.secretName });
    };
}

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    inCluster = clusterState(core);
    for (const namespace of namespaces) await core.createNamespace({ body: { metadata: { name: namespace } } });
    project = await installEngineProject();
    // The engine's own kubeconfig, which the default Kubernetes provider would use, leads nowhere.
    const ambient = path.join(project.dir, "ambient-kubeconfig");
    writeFileSync(ambient, withContextLeadingNowhere(cluster.kubeconfig));
    const createStack = async (stackName: string, withKubeconfig: boolean) => {
        const created = await project.automation.LocalWorkspace.createOrSelectStack(
            { stackName, projectName: "registry-pull-secret", program: program(project, withKubeconfig) },
            {
                workDir: project.dir,
                pulumiCommand: project.pulumi,
                envVars: { ...project.env, KUBECONFIG: ambient },
                projectSettings: { name: "registry-pull-secret", runtime: "nodejs" },
                secretsProvider: "passphrase",
            },
        );
        await created.setAllConfig({
            // A current context that is the cluster's own: the component's argument needs no `context`.
            clusterKubeconfig: { value: cluster.kubeconfig, secret: true },
            registryPassword: { value: firstPassword, secret: true },
        });
        return created;
    };
    control = await createStack("no-argument", false);
    stack = await createStack("arg", true);
});
after(async () => {
    await cluster?.stop();
    project?.remove();
});

it("without the argument the same program cannot reach the cluster: the engine's own connection leads nowhere", async () => {
    await assert.rejects(control.up(), /configured Kubernetes cluster is unreachable[^\n]*127\.0\.0\.1:1/);
    for (const namespace of namespaces) assert.deepEqual(await inCluster.secretNames(namespace), []);
});

it("up creates the Secrets through the child provider and our entries through the argument, keeping another owner's entry", async () => {
    await inCluster.setPullSecrets("arg-a", "default", ["theirs"]);
    const result = await stack.up();
    assert.equal(result.summary.result, "succeeded");
    // The Secrets go to the child provider, which is mutable: nothing to warn about.
    assert.doesNotMatch(result.stdout, /enableSecretMutable/);
    assert.deepEqual(Object.keys(await stack.getAllConfig()).sort(), [
        "registry-pull-secret:clusterKubeconfig",
        "registry-pull-secret:registryPassword",
    ]);
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(JSON.parse(dockerConfigOf(secret)).auths[registry].password, firstPassword);
    }
    assert.deepEqual(await inCluster.pullSecrets("arg-a", "default"), ["theirs", "regcred"]);
    assert.deepEqual(await inCluster.pullSecrets("arg-b", "default"), ["regcred"]);
    const again = await stack.up();
    assert.deepEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"]);
});

it("a new password updates each Secret in place with no kubernetes:enableSecretMutable in the stack: the child provider sets it", async () => {
    const before = await core.readNamespacedSecret({ name: "regcred", namespace: "arg-a" });
    await stack.setConfig("registryPassword", { value: secondPassword, secret: true });
    const result = await stack.up();
    assert.equal(result.summary.resourceChanges?.update, 2, JSON.stringify(result.summary.resourceChanges));
    assert.equal(result.summary.resourceChanges?.delete, undefined);
    const after = await core.readNamespacedSecret({ name: "regcred", namespace: "arg-a" });
    assert.equal(after.metadata?.uid, before.metadata?.uid, "the same Secret object, never deleted");
    assert.equal(JSON.parse(dockerConfigOf(after)).auths[registry].password, secondPassword);
});

it("the state file holds no password, docker config or cluster token in plain text", () => {
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
    }
    assert.deepEqual(await inCluster.pullSecrets("arg-a", "default"), ["theirs"]);
    assert.deepEqual(await inCluster.pullSecrets("arg-b", "default"), []);
});
