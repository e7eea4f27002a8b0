/**
 * The component from a Pulumi YAML program, hosted as a plugin: the REAL engine (pulumi CLI v3.274.1,
 * the YAML language host pulumi-language-yaml v1.25.0 and the Kubernetes provider, built by
 * test/engine/build.sh) against a REAL kube-apiserver (test/support/real-cluster.ts), driven by the
 * `pulumi` CLI as a user's shell runs it. The program lives in its own folder, outside the repository,
 * as a user's does; the plugin folder is this repository, as in examples/yaml. Stacks use
 * `credentials`: no Google Cloud.
 *
 * One stand-in, a double, and why it stays: Pulumi's Node.js language host (built from
 * shared/third_party, v3.260) serves a `runtime: nodejs` plugin folder to the CLI (the Python and
 * TypeScript engine tests run through it), but the YAML language host loads a package's schema itself,
 * with the plugin code of the Pulumi SDK it was built with: v3.206.0 for pulumi-yaml v1.25.0, the only
 * version the Go module proxy serves. That code starts a language host with `-root=<dir>`
 * (sdk/v3@v3.206.0 go/common/resource/plugin/langruntime_plugin.go `buildArgsForNewPlugin`), a flag
 * the v3.260 Node.js host no longer defines, so it exits with `flag provided but not defined: -root`
 * (the first test below shows it). pulumi-yaml v1.25.0 does not compile against a newer SDK
 * (`plugin.NewContextWithRoot` and `schema.NewPluginLoader` changed). So the package is given to the
 * YAML program as an executable plugin, `pulumi-resource-registry-pull-secret`, written below: it runs
 * what that host's `RunPlugin` runs (pulumi-language-nodejs main.go): `node <plugin
 * folder>/node_modules/@pulumi/pulumi/cmd/run-plugin <plugin folder> <engine's arguments>`, in the
 * program's folder. Everything after that is Pulumi's.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
    assertStateHoldsNone,
    clusterState,
    dockerConfigOf,
    withContextLeadingNowhere,
} from "../support/engine-checks";
import { engineEnvironment, kubernetesPluginVersion, mustRun } from "../support/engine-project";
import { writeNodejsRunPluginDouble } from "../support/nodejs-run-plugin-double";
import { registryPullSecretYaml } from "../support/yaml-program";
import { changed, pulumiCli, typeAndName, type PulumiCli } from "../support/pulumi-cli";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";

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
let pulumi: PulumiCli;

/** The program, as a user writes it after `pulumi package add`, with `plugin` as its package. */
const programYaml = (plugin: string) =>
    registryPullSecretYaml(plugin, { namespaces, registry, username, serviceAccounts });

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
    env = engineEnvironment(work, stateDir, kubernetesPluginVersion(repo));
    // The ambient kubeconfig leads nowhere: only the stack's kubernetes: config reaches the cluster.
    env.KUBECONFIG = path.join(work, "no-such-kubeconfig");

    writeNodejsRunPluginDouble(launcher, repo);
    writeFileSync(path.join(program, "Pulumi.yaml"), programYaml(launcher));
    pulumi = pulumiCli(program, env);
    await pulumi.must(["stack", "init", "yaml"]);
    await pulumi.must(
        ["config", "set", "--secret", "kubernetes:kubeconfig"],
        withContextLeadingNowhere(cluster.kubeconfig),
    );
    await pulumi.must(["config", "set", "kubernetes:context", "real"]);
    await pulumi.must(["config", "set", "--secret", "registryPassword", firstPassword]);
});
after(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
});

it("the plugin folder itself, served by the real Node.js host, cannot be loaded by this YAML host: it starts the host with -root, which the host no longer accepts", async () => {
    const direct = path.join(work, "program-with-plugin-folder");
    mkdirSync(direct);
    writeFileSync(path.join(direct, "Pulumi.yaml"), programYaml(repo));
    const cli = pulumiCli(direct, env);
    await cli.must(["stack", "init", "direct"]);
    await cli.must(["config", "set", "--secret", "registryPassword", firstPassword]);
    const preview = await cli.run(["preview"]);
    assert.notEqual(preview.status, 0);
    assert.match(preview.stdout + preview.stderr, /flag provided but not defined: -root/);
});

it("pulumi package add reaches the plugin and gets its schema; this YAML host cannot link, so Pulumi.yaml keeps its packages entry", async () => {
    const add = await pulumi.run([
        "package",
        "add",
        path.join(work, "nodejs-run-plugin-double", "pulumi-resource-registry-pull-secret"),
    ]);
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

it("pulumi preview shows the component, the plugin's own SecretClaim, a Secret per namespace and the plugin's own PullSecretEntry per ServiceAccount", async () => {
    const expected = [
        "registry-pull-secret:index:RegistryPullSecret regcred",
        "registry-pull-secret:index:SecretClaim regcred-claim",
        ...namespaces.map((ns) => `kubernetes:core/v1:Secret regcred/${ns}`),
        ...namespaces.flatMap((ns) =>
            serviceAccounts.map((sa) => `registry-pull-secret:index:PullSecretEntry regcred/${ns}/${sa}`),
        ),
    ];
    assert.deepEqual(typeAndName(await pulumi.previewSteps()), expected.sort());
});

it("pulumi up --yes creates the Secrets and our entries in the stack's cluster, keeping another owner's entry", async () => {
    await inCluster.setPullSecrets("yaml-a", "default", ["theirs-before"]);
    await pulumi.must(["up", "--yes"]);
    assert.equal((await pulumi.must(["stack", "output", "secretName"])).trim(), "regcred");
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
        const config = JSON.parse(dockerConfigOf(secret));
        assert.equal(config.auths[registry].password, firstPassword);
        assert.deepEqual(await inCluster.pullSecrets(namespace, "builder"), ["regcred"]);
    }
    assert.deepEqual(await inCluster.pullSecrets("yaml-a", "default"), ["theirs-before", "regcred"]);
    assert.deepEqual(await inCluster.pullSecrets("yaml-b", "default"), ["regcred"]);
    await pulumi.must(["up", "--yes", "--expect-no-changes"]);
});

it("the entries are served by the plugin at the version that constructed the component", async () => {
    const { version } = JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8"));
    const provider = `pulumi:providers:registry-pull-secret::default_${version.replace(/\./g, "_")}::`;
    const entries = (await pulumi.exportedResources()).filter(
        (r) => r.type === "registry-pull-secret:index:PullSecretEntry",
    );
    assert.equal(entries.length, namespaces.length * serviceAccounts.length);
    for (const entry of entries) assert.ok(entry.provider?.includes(provider), entry.provider);
});

it("pulumi refresh --yes shows an entry removed by hand, and pulumi up puts it back once", async () => {
    await inCluster.setPullSecrets("yaml-b", "builder", []);
    await pulumi.must(["refresh", "--yes"]);
    assert.deepEqual(changed(await pulumi.lastUpdate()), { update: 1 });
    await pulumi.must(["up", "--yes"]);
    assert.deepEqual(changed(await pulumi.lastUpdate()), { update: 1 });
    assert.deepEqual(await inCluster.pullSecrets("yaml-b", "builder"), ["regcred"]);
});

it("a new password updates each Secret in place (same object, new data), with enableSecretMutable set in Pulumi.yaml as examples/yaml does", async () => {
    const before = await core.readNamespacedSecret({ name: "regcred", namespace: "yaml-a" });
    await pulumi.must(["config", "set", "--secret", "registryPassword", secondPassword]);
    await pulumi.must(["up", "--yes"]);
    assert.deepEqual(changed(await pulumi.lastUpdate()), { update: 2 });
    const after = await core.readNamespacedSecret({ name: "regcred", namespace: "yaml-a" });
    assert.equal(after.metadata?.uid, before.metadata?.uid);
    const config = JSON.parse(dockerConfigOf(after));
    assert.equal(config.auths[registry].password, secondPassword);
});

it("the state file holds no password, docker config or kubeconfig token in plain text", () => {
    assertStateHoldsNone(path.join(work, "state"), path.join(program, "Pulumi.yaml.yaml"), {
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
    assert.deepEqual(await inCluster.pullSecrets("yaml-a", "default"), ["theirs-before"]);
});
