/**
 * The component from a Pulumi YAML program, hosted as a plugin: the REAL engine (pulumi CLI v3.274.1,
 * the YAML language host pulumi-language-yaml v1.25.0 and the Kubernetes provider, built from Go
 * modules by test/engine/build.sh) against a REAL kube-apiserver (test/support/real-cluster.ts). The
 * program lives in its own folder, outside this repository, as a user's does; the plugin folder is
 * this repository, as in examples/yaml. Stacks use `credentials`: no Google Cloud.
 *
 * One stand-in, a double: Pulumi's Node.js language host, which runs a plugin whose PulumiPlugin.yaml
 * says `runtime: nodejs`, is the Go module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3,
 * and the Go module proxy here refuses it ("403 Forbidden: This module version is not available", for
 * its version list and for every version tried). So the package is given to Pulumi as an executable
 * plugin, `pulumi-resource-registry-pull-secret`, written below: it runs what that host's `RunPlugin`
 * runs (pulumi-language-nodejs main.go): `node <plugin folder>/node_modules/@pulumi/pulumi/cmd/run-plugin
 * <plugin folder> <engine's arguments>`, in the program's folder. Everything after that is Pulumi's.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import * as automation from "@pulumi/pulumi/automation";
import {
    assertStateHoldsNone,
    dockerConfigOf,
    previewedResources,
    clusterState,
    withContextLeadingNowhere,
} from "../support/engine-checks";
import { engineEnvironment, mustRun } from "../support/engine-project";
import { coreApi, engineBin, engineBinary, startRealCluster, type RealCluster } from "../support/real-cluster";

const repo = path.join(__dirname, "..", "..");
const namespaces = ["yaml-a", "yaml-b"];
const serviceAccounts = ["default", "builder"];
const registry = "registry.yaml.example:5000";
const username = "yaml-user";
const firstPassword = "first-password-6d02be";
const secondPassword = "second-password-91c4fa";

let cluster: RealCluster;
let core: CoreV1Api;
let inCluster: ReturnType<typeof clusterState>;
let work: string;
let env: Record<string, string>;
let program: string;
let stack: automation.Stack;

/** The program, as a user writes it after `pulumi package add` (registry-pull-secret's schema names). */
const programYaml = (plugin: string) =>
    [
        "name: pull-secret-yaml",
        "runtime: yaml",
        "packages:",
        `  registry-pull-secret: ${plugin}`,
        "config:",
        "  kubernetes:enableSecretMutable:",
        "    value: true",
        "  registryPassword:",
        "    type: string",
        "resources:",
        "  regcred:",
        "    type: registry-pull-secret:index:RegistryPullSecret",
        "    properties:",
        `      namespaces: ${JSON.stringify(namespaces)}`,
        `      registries: ${JSON.stringify([registry])}`,
        `      serviceAccounts: ${JSON.stringify(serviceAccounts)}`,
        // A string enum in the schema (AttachMode): a YAML program writes the plain string.
        "      attachMode: merge",
        "      credentials:",
        `        username: ${username}`,
        "        password: ${registryPassword}",
        "outputs:",
        "  secretName: ${regcred.secretName}",
        "",
    ].join("\n");

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    inCluster = clusterState(core);
    for (const namespace of namespaces) {
        await core.createNamespace({ body: { metadata: { name: namespace } } });
        await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "builder" } } });
    }
    // The plugin runs the repository's build (package.json `main`): build it from the sources under test.
    mustRun("npm", ["run", "--silent", "build"], { cwd: repo });

    work = mkdtempSync(path.join(tmpdir(), "yaml-program-"));
    const stateDir = path.join(work, "state");
    program = path.join(work, "program");
    const launcher = path.join(work, "nodejs-run-plugin-double");
    for (const folder of [stateDir, program, launcher]) mkdirSync(folder);
    const kubernetesVersion: string = JSON.parse(
        readFileSync(path.join(repo, "node_modules", "@pulumi", "kubernetes", "package.json"), "utf8"),
    ).pulumi.version;
    env = engineEnvironment(work, stateDir, kubernetesVersion);
    // The pulumi binary's folder holds the YAML language host; `node` is the one running this test.
    env.PATH = [engineBin, path.dirname(process.execPath), env.PATH].join(path.delimiter);
    // The ambient kubeconfig leads nowhere: only the stack's kubernetes: config reaches the cluster.
    env.KUBECONFIG = path.join(work, "no-such-kubeconfig");

    const runPlugin = require.resolve("@pulumi/pulumi/cmd/run-plugin", { paths: [repo] });
    writeFileSync(
        path.join(launcher, "pulumi-resource-registry-pull-secret"),
        [
            "#!/bin/sh",
            "# A double of pulumi-language-nodejs RunPlugin for the plugin folder below (see the test's header).",
            `exec node ${JSON.stringify(path.dirname(runPlugin))} ${JSON.stringify(repo)} "$@"`,
            "",
        ].join("\n"),
    );
    chmodSync(path.join(launcher, "pulumi-resource-registry-pull-secret"), 0o755);
    writeFileSync(path.join(program, "Pulumi.yaml"), programYaml(launcher));
    stack = await automation.LocalWorkspace.createOrSelectStack(
        { stackName: "yaml", workDir: program },
        { pulumiCommand: await automation.PulumiCommand.get({ root: path.dirname(engineBin) }), envVars: env },
    );
    await stack.setAllConfig({
        "kubernetes:kubeconfig": { value: withContextLeadingNowhere(cluster.kubeconfig), secret: true },
        "kubernetes:context": { value: "real" },
        registryPassword: { value: firstPassword, secret: true },
    });
});
after(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
});

it("pulumi package add reaches the plugin and gets its schema; this YAML host cannot link, so Pulumi.yaml keeps its packages entry", () => {
    const add = spawnSync(
        engineBinary("pulumi"),
        ["package", "add", path.join(work, "nodejs-run-plugin-double", "pulumi-resource-registry-pull-secret")],
        { cwd: program, env, encoding: "utf8", timeout: 300_000 },
    );
    const output = add.stdout + add.stderr;
    assert.match(output, /Successfully generated an SDK for the registry-pull-secret package/);
    const declaration = readFileSync(
        path.join(program, "sdks", "registry-pull-secret", "registry-pull-secret-0.1.0.yaml"),
        "utf8",
    );
    assert.match(declaration, /^name: registry-pull-secret$/m);
    // pulumi-yaml v1.25.0 (the newest the proxy serves) has no `Link`; the packages entry the program
    // declares is what a linking host writes (examples/yaml/Pulumi.yaml holds the same).
    assert.match(output, /linking package: method Link not implemented/);
});

it("preview shows the component, a Secret per namespace and the plugin's own PullSecretEntry per ServiceAccount", async () => {
    const expected = [
        "registry-pull-secret:index:RegistryPullSecret regcred",
        ...namespaces.map((ns) => `kubernetes:core/v1:Secret regcred-${ns}`),
        ...namespaces.flatMap((ns) =>
            serviceAccounts.map((sa) => `registry-pull-secret:index:PullSecretEntry regcred-${ns}/${sa}`),
        ),
    ];
    assert.deepEqual(await previewedResources(stack), expected.sort());
});

it("up creates the Secrets and our entries in the stack's cluster, keeping another owner's entry", async () => {
    await inCluster.setPullSecrets("yaml-a", "default", ["theirs-before"]);
    const result = await stack.up();
    assert.equal(result.summary.result, "succeeded");
    assert.equal(result.outputs.secretName.value, "regcred");
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
        const config = JSON.parse(dockerConfigOf(secret));
        assert.equal(config.auths[registry].password, firstPassword);
        assert.deepEqual(await inCluster.pullSecrets(namespace, "builder"), ["regcred"]);
    }
    assert.deepEqual(await inCluster.pullSecrets("yaml-a", "default"), ["theirs-before", "regcred"]);
    assert.deepEqual(await inCluster.pullSecrets("yaml-b", "default"), ["regcred"]);
    const again = await stack.up();
    assert.deepEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"]);
});

it("the entries are served by the plugin at the version that constructed the component", async () => {
    const { version } = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8"));
    const provider = `pulumi:providers:registry-pull-secret::default_${version.replace(/\./g, "_")}::`;
    const { deployment } = await stack.exportStack();
    const entries = deployment.resources.filter((r: any) => r.type === "registry-pull-secret:index:PullSecretEntry");
    assert.equal(entries.length, namespaces.length * serviceAccounts.length);
    for (const entry of entries) assert.ok(entry.provider.includes(provider), entry.provider);
});

it("refresh shows an entry removed by hand, and up puts it back once", async () => {
    await inCluster.setPullSecrets("yaml-b", "builder", []);
    const refreshed = await stack.refresh();
    assert.equal(refreshed.summary.resourceChanges?.update, 1, JSON.stringify(refreshed.summary.resourceChanges));
    const restored = await stack.up();
    assert.equal(restored.summary.resourceChanges?.update, 1, JSON.stringify(restored.summary.resourceChanges));
    assert.deepEqual(await inCluster.pullSecrets("yaml-b", "builder"), ["regcred"]);
});

it("a new password updates each Secret in place (same object, new data), with enableSecretMutable set in Pulumi.yaml as examples/yaml does", async () => {
    const before = await core.readNamespacedSecret({ name: "regcred", namespace: "yaml-a" });
    await stack.setConfig("registryPassword", { value: secondPassword, secret: true });
    const result = await stack.up();
    assert.equal(result.summary.resourceChanges?.update, 2, JSON.stringify(result.summary.resourceChanges));
    const after = await core.readNamespacedSecret({ name: "regcred", namespace: "yaml-a" });
    assert.equal(after.metadata?.uid, before.metadata?.uid);
    const config = JSON.parse(dockerConfigOf(after));
    assert.equal(config.auths[registry].password, secondPassword);
});

it("the state file holds no password, docker config or kubeconfig token in plain text", () => {
    assertStateHoldsNone(path.join(work, "state"), path.join(program, `Pulumi.${stack.name}.yaml`), {
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
    assert.deepEqual(await inCluster.pullSecrets("yaml-a", "default"), ["theirs-before"]);
});
