/**
 * From the kubectl recipe to the component (docs/takeover.md#from-the-kubectl-recipe), as a user moving a
 * cluster does it: two namespaces prepared with exactly the recipe's two kubectl commands, then this
 * repository's sample program from a clean checkout, driven by the `pulumi` CLI as the user types it
 * (test/support/pulumi-cli.ts), against a REAL kube-apiserver and Debian's docker-registry. While
 * `pulumi up` takes the namespaces over, a loop reads whatever Secret each namespace holds every 100 ms
 * and pulls the image with it, manifest and blobs, as a kubelet does (test/support/registry-pull.ts):
 * not one pull may fail. `credentials` stacks:
 * no Google Cloud. The steps run in order on one stack.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { entriesOwnedBy } from "../../components/rules/ownership";
import { clusterState, dockerConfigOf } from "../support/engine-checks";
import { checkoutRepository, engineEnvironment, kubernetesPluginVersion } from "../support/engine-project";
import { changed, pulumiCli, runCommand, type PulumiCli } from "../support/pulumi-cli";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";
import { image, RealRegistry } from "../support/real-registry";
import { startPullLoop } from "../support/registry-pull";

const namespaces = ["team-a", "team-b"];
/** What the recipe was run with: the hand-made credential. */
const recipeUser = { user: "recipe-user", password: "recipe-password-71c0d4" };
/** What the component writes from now on (`credentials`, standing in for the key it creates). */
const componentUser = { user: "component-user", password: "component-password-2b9e5a" };

let cluster: RealCluster;
let core: CoreV1Api;
let inCluster: ReturnType<typeof clusterState>;
let registry: RealRegistry;
let work: string;
let kubeconfigFile: string;
let cli: PulumiCli;
/** The Secrets as the recipe left them, by namespace. */
const recipeSecrets = new Map<string, V1Secret>();

/** `kubectl ARGS` with the user's kubeconfig, failing with its output. */
async function kubectl(args: string[]): Promise<string> {
    const result = await runCommand("kubectl", args, {
        cwd: work,
        env: { PATH: process.env.PATH, HOME: work, KUBECONFIG: kubeconfigFile },
    });
    assert.equal(result.status, 0, `kubectl ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
}

async function defaultAccountExists(namespace: string): Promise<void> {
    for (let waited = 0; ; waited += 100) {
        const found = await core.readNamespacedServiceAccount({ name: "default", namespace }).then(
            () => true,
            () => false,
        );
        if (found) return;
        assert.ok(waited < 30_000, `the default ServiceAccount of ${namespace} appears`);
        await new Promise((done) => setTimeout(done, 100));
    }
}

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    inCluster = clusterState(core);
    registry = await RealRegistry.start([recipeUser, componentUser]);
    work = mkdtempSync(path.join(tmpdir(), "takeover-"));
    const checkout = path.join(work, "registry-pull-secret");
    const stateDir = path.join(work, "state");
    for (const folder of [checkout, stateDir, path.join(work, ".kube")]) mkdirSync(folder);
    kubeconfigFile = path.join(work, ".kube", "config");
    writeFileSync(kubeconfigFile, cluster.kubeconfig, { mode: 0o600 });

    // The seed's recipe, exactly: one Secret and one patch per namespace.
    for (const namespace of namespaces) {
        await kubectl(["create", "namespace", namespace]);
        await defaultAccountExists(namespace);
        await kubectl([
            "create",
            "secret",
            "docker-registry",
            "regcred",
            `--docker-server=${registry.host}`,
            `--docker-username=${recipeUser.user}`,
            `--docker-password=${recipeUser.password}`,
            "-n",
            namespace,
        ]);
        await kubectl([
            "patch",
            "serviceaccount",
            "default",
            "-p",
            '{"imagePullSecrets":[{"name":"regcred"}]}',
            "-n",
            namespace,
        ]);
        recipeSecrets.set(namespace, await core.readNamespacedSecret({ name: "regcred", namespace }));
    }
    // Later, another team appended its own entry in team-a (a JSON patch, which keeps the list).
    await kubectl([
        "patch",
        "serviceaccount",
        "default",
        "--type=json",
        "-p",
        '[{"op":"add","path":"/imagePullSecrets/-","value":{"name":"theirs"}}]',
        "-n",
        "team-a",
    ]);

    checkoutRepository(checkout);
    const env = engineEnvironment(work, stateDir, kubernetesPluginVersion(checkout));
    env.KUBECONFIG = kubeconfigFile;
    cli = pulumiCli(checkout, env);
    await cli.must(["stack", "init", "migrate"]);
    for (const [i, namespace] of namespaces.entries()) {
        await cli.must(["config", "set", "--path", `namespaces[${i}]`, namespace]);
    }
    await cli.must(["config", "set", "--path", "registries[0]", registry.host]);
    await cli.must(["config", "set", "registryUsername", componentUser.user]);
    await cli.must(["config", "set", "--secret", "registryPassword", componentUser.password]);
});
after(async () => {
    await cluster?.stop();
    await registry?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
});

/** The user the Secret's docker config names for the registry. */
const userIn = (secret: V1Secret) => JSON.parse(dockerConfigOf(secret)).auths[registry.host].username as string;

it("the recipe's Secrets pull from the real registry, and kube-apiserver records kubectl-create as their data's manager", async () => {
    for (const namespace of namespaces) {
        const secret = recipeSecrets.get(namespace)!;
        assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
        assert.equal(userIn(secret), recipeUser.user);
        await registry.assertPulls(registry.writeAuthfile(`recipe-${namespace}`, dockerConfigOf(secret)));
        const managers = (secret.metadata!.managedFields ?? []).map((entry) => entry.manager);
        assert.deepEqual(managers, ["kubectl-create"]);
    }
    assert.deepEqual(await inCluster.pullSecrets("team-a", "default"), ["regcred", "theirs"]);
    assert.deepEqual(await inCluster.pullSecrets("team-b", "default"), ["regcred"]);
});

it("without takeOver, pulumi preview and pulumi up fail with an error naming the namespace, the Secret, kubectl-create and takeOver, not the raw conflict, and change nothing", async () => {
    for (const command of [["preview"], ["up", "--yes"]]) {
        const result = await cli.run(command);
        const output = result.stdout + result.stderr;
        assert.notEqual(result.status, 0, output);
        assert.match(output, /Secret "regcred" in namespace "team-(a|b)" exists already, written by "kubectl-create"/);
        assert.match(output, /set takeOver to true \(pulumi config set takeOver true\)/);
        assert.doesNotMatch(output, /field conflict/i);
        for (const secret of [recipeUser.password, componentUser.password])
            assert.equal(output.includes(secret), false);
    }
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(secret.metadata!.resourceVersion, recipeSecrets.get(namespace)!.metadata!.resourceVersion);
    }
    assert.deepEqual(await inCluster.pullSecrets("team-a", "default"), ["regcred", "theirs"]);
});

it("with pulumi config set takeOver true, pulumi preview says what it will take over in each namespace", async () => {
    await cli.must(["config", "set", "takeOver", "true"]);
    const result = await cli.run(["preview", "--diff"]);
    const preview = result.stdout + result.stderr;
    assert.equal(result.status, 0, preview);
    for (const namespace of namespaces) {
        assert.ok(
            preview.includes(
                `takeOver: this update takes over Secret "regcred" in namespace "${namespace}" (written by "kubectl-create"), in place and the imagePullSecrets entry "regcred" of ServiceAccount "default" in namespace "${namespace}"`,
            ),
            preview,
        );
    }
    assert.equal(preview.includes(componentUser.password), false);
});

it("pulumi up --yes takes both namespaces over in place while a loop pulls with whatever Secret the cluster holds every 100 ms: zero failed pulls", async (t) => {
    // Each pull reads the Secret from the API server first: a moment without it would fail that pull.
    const loop = startPullLoop(
        namespaces.map((namespace) => ({
            label: namespace,
            dockerConfigJson: async () =>
                dockerConfigOf(await core.readNamespacedSecret({ name: "regcred", namespace })),
            identify: (config: string) => JSON.parse(config).auths[registry.host].username as string,
            host: registry.host,
            image,
        })),
    );
    let result: Awaited<ReturnType<PulumiCli["run"]>>;
    try {
        result = await cli.run(["up", "--yes"]);
    } finally {
        const attempts = await loop.stop();
        const count = (user: string) => attempts.filter((a) => a.pulled && a.credential === user).length;
        const failed = attempts.filter((a) => !a.pulled);
        const measured = `${attempts.length} pulls during pulumi up (${count(recipeUser.user)} with the recipe's Secret, ${count(componentUser.user)} with the component's), ${failed.length} failed`;
        t.diagnostic(measured);
        assert.deepEqual(failed, [], "no pull failed while the Secrets were taken over");
        assert.ok(count(recipeUser.user) > 0, "the loop pulled with the recipe's Secret before the takeover");
    }
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const update = changed(await cli.lastUpdate());
    assert.equal(update.delete, undefined, "nothing deleted");
    assert.equal(update.replace, undefined, "nothing replaced");
});

it("afterwards each Secret is the same object holding the component's credential, which pulls, and the entries are ours while others' stay", async () => {
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(secret.metadata!.uid, recipeSecrets.get(namespace)!.metadata!.uid, "the same Secret object");
        assert.equal(
            secret.metadata!.creationTimestamp?.getTime(),
            recipeSecrets.get(namespace)!.metadata!.creationTimestamp?.getTime(),
        );
        assert.equal(userIn(secret), componentUser.user);
        await registry.assertPulls(registry.writeAuthfile(`after-${namespace}`, dockerConfigOf(secret)));
        const account = await core.readNamespacedServiceAccount({ name: "default", namespace });
        const markers = Object.keys(account.metadata!.annotations ?? {}).filter((key) =>
            key.startsWith("registry-pull-secret/entries-"),
        );
        assert.equal(markers.length, 1, "one owner's marker");
        const owner = markers[0].slice("registry-pull-secret/entries-".length);
        assert.deepEqual(entriesOwnedBy(account as never, owner), ["regcred"]);
    }
    assert.deepEqual(await inCluster.pullSecrets("team-a", "default"), ["regcred", "theirs"]);
    assert.deepEqual(await inCluster.pullSecrets("team-b", "default"), ["regcred"]);
});

it("a second pulumi up --expect-no-changes changes nothing", async () => {
    await cli.must(["up", "--yes", "--expect-no-changes"]);
    assert.deepEqual(changed(await cli.lastUpdate()), {});
    const preview = await cli.must(["preview"]);
    assert.doesNotMatch(preview, /takes over/, "a takeover is announced once, before it happens");
});

/** The Secret's uid and resourceVersion in each namespace. */
async function secretObjects(): Promise<string[]> {
    const secrets = await Promise.all(
        namespaces.map((namespace) => core.readNamespacedSecret({ name: "regcred", namespace })),
    );
    return secrets.map((secret) => `${secret.metadata!.namespace} ${secret.metadata!.uid}`);
}

/** The provider each of the stack's Secrets is managed by, as `pulumi stack export` records it. */
async function secretProviders(): Promise<string[]> {
    const deployment = JSON.parse(await cli.must(["stack", "export"])).deployment;
    return (deployment.resources as { type: string; provider?: string }[])
        .filter((resource) => resource.type === "kubernetes:core/v1:Secret")
        .map((resource) => resource.provider!.split("::")[3]);
}

it("pulumi config rm takeOver, then pulumi up: the Secrets stay on their own provider, nothing replaced, created or deleted, the same objects", async () => {
    const before = await secretObjects();
    assert.deepEqual(await secretProviders(), ["regcred-secrets", "regcred-secrets"]);
    await cli.must(["config", "rm", "takeOver"]);
    await cli.must(["up", "--yes"]);
    const update = changed(await cli.lastUpdate());
    assert.equal(update.replace, undefined, JSON.stringify(update));
    assert.equal(update.create, undefined, JSON.stringify(update));
    assert.equal(update.delete, undefined, JSON.stringify(update));
    assert.deepEqual(await secretProviders(), ["regcred-secrets", "regcred-secrets"]);
    assert.deepEqual(await secretObjects(), before);
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        await registry.assertPulls(registry.writeAuthfile(`kept-${namespace}`, dockerConfigOf(secret)));
    }
});

it("takeOver set again on the existing stack: nothing replaced, created or deleted", async () => {
    const before = await secretObjects();
    await cli.must(["config", "set", "takeOver", "true"]);
    await cli.must(["up", "--yes"]);
    const update = changed(await cli.lastUpdate());
    assert.equal(update.replace, undefined, JSON.stringify(update));
    assert.equal(update.delete, undefined, JSON.stringify(update));
    assert.equal(update.create, undefined, JSON.stringify(update));
    assert.deepEqual(await secretProviders(), ["regcred-secrets", "regcred-secrets"]);
    assert.deepEqual(await secretObjects(), before);
});

it("pulumi destroy --yes removes the taken-over Secrets and entries, and keeps the other team's entry", async () => {
    await cli.must(["destroy", "--yes"]);
    for (const namespace of namespaces) {
        assert.deepEqual(await inCluster.secretNames(namespace), []);
        const account = await core.readNamespacedServiceAccount({ name: "default", namespace });
        assert.deepEqual(Object.keys(account.metadata!.annotations ?? {}), []);
    }
    assert.deepEqual(await inCluster.pullSecrets("team-a", "default"), ["theirs"]);
    assert.deepEqual(await inCluster.pullSecrets("team-b", "default"), []);
});
