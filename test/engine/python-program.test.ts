/**
 * `examples/python` as its README runs it, in the user's own folder layout (the example inside a
 * checkout of this repository, `../..` the plugin package): `pulumi package add ../..` through Pulumi's
 * real Node.js language host (which serves the TypeScript component as a plugin) and Python language
 * host (which generates the Python SDK and links it into requirements.txt), `pulumi install` (a
 * virtualenv with `pulumi` from the Python package registry), then the `Pulumi.local.yaml` stack,
 * which needs no Google Cloud, through `pulumi up`, `refresh` and `destroy` against a REAL
 * kube-apiserver reached through KUBECONFIG.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { assertStateHoldsNone, clusterState, dockerConfigOf } from "../support/engine-checks";
import { readGoogleCloud } from "../support/google-cloud-double/state";
import { changed, pulumiCli, type PulumiCli } from "../support/pulumi-cli";
import { preparePythonExample } from "../support/python-example";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";

const namespaces = ["py-a", "py-b"];
const username = "robot";
const registry = "registry.example.com";
const password = "python-password-5b17c2";

let cluster: RealCluster;
let core: CoreV1Api;
let inCluster: ReturnType<typeof clusterState>;
let work: string;
let example: string;
let pulumi: PulumiCli;
let googleFile: string;

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    inCluster = clusterState(core);
    for (const namespace of namespaces) await core.createNamespace({ body: { metadata: { name: namespace } } });

    work = mkdtempSync(path.join(tmpdir(), "python-program-"));
    let env: Record<string, string>;
    ({ example, env, googleFile } = preparePythonExample(work));
    mkdirSync(path.join(work, ".kube"));
    env.KUBECONFIG = path.join(work, ".kube", "config");
    writeFileSync(env.KUBECONFIG, cluster.kubeconfig, { mode: 0o600 });
    pulumi = pulumiCli(example, env);
});
after(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
});

it("pulumi package add ../.. generates the Python SDK and links it into requirements.txt once", async () => {
    const added = await pulumi.must(["package", "add", "../.."]);
    assert.match(added, /registry-pull-secret/);
    const requirements = readFileSync(path.join(example, "requirements.txt"), "utf8");
    assert.equal(requirements.match(/sdks\/registry-pull-secret/g)?.length, 1, requirements);
    const sdk = path.join(example, "sdks", "registry-pull-secret", "pulumi_registry_pull_secret");
    assert.match(readFileSync(path.join(sdk, "registry_pull_secret.py"), "utf8"), /class RegistryPullSecret\(/);
});

it("pulumi install creates the virtualenv with the Pulumi SDK and the generated SDK", async () => {
    await pulumi.must(["install"]);
    const imported = spawnSync(
        path.join(example, "venv", "bin", "python"),
        ["-c", "import pulumi, pulumi_registry_pull_secret as p; print(p.RegistryPullSecret.__name__)"],
        { encoding: "utf8" },
    );
    assert.equal(imported.status, 0, imported.stderr);
    assert.equal(imported.stdout.trim(), "RegistryPullSecret");
});

it("the local stack (no Google Cloud) goes up: a Secret per namespace and our entries, another owner's entry kept", async () => {
    await pulumi.must(["stack", "init", "local"]);
    for (const [i, namespace] of namespaces.entries()) {
        await pulumi.must(["config", "set", "--path", `namespaces[${i}]`, namespace]);
    }
    await pulumi.must(["config", "set", "--secret", "registryPassword", password]);
    await inCluster.setPullSecrets("py-a", "default", ["theirs"]);
    const output = await pulumi.must(["up", "--yes"]);
    assert.equal(output.includes(password), false);
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        const auth = JSON.parse(dockerConfigOf(secret)).auths[registry];
        assert.deepEqual([auth.username, auth.password], [username, password]);
    }
    assert.deepEqual(await inCluster.pullSecrets("py-a", "default"), ["theirs", "regcred"]);
    assert.deepEqual(await inCluster.pullSecrets("py-b", "default"), ["regcred"]);
    await pulumi.must(["up", "--yes", "--expect-no-changes"]);
    const google = readGoogleCloud(googleFile);
    assert.deepEqual(
        { projects: google.projects, auditLog: google.auditLog },
        { projects: {}, auditLog: [] },
        "nothing made in Google Cloud",
    );
});

it("pulumi refresh --yes notices an entry removed by hand, and pulumi up puts it back", async () => {
    await inCluster.setPullSecrets("py-b", "default", []);
    await pulumi.must(["refresh", "--yes"]);
    assert.deepEqual(changed(await pulumi.lastUpdate()), { update: 1 });
    await pulumi.must(["up", "--yes"]);
    assert.deepEqual(await inCluster.pullSecrets("py-b", "default"), ["regcred"]);
});

it("the state and the stack file hold no password or cluster token in plain text", () => {
    assertStateHoldsNone(path.join(work, "state"), path.join(example, "Pulumi.local.yaml"), {
        username,
        passwords: [password],
        others: [cluster.token],
    });
});

it("pulumi destroy --yes removes our Secrets and entries and keeps the other owner's", async () => {
    await pulumi.must(["destroy", "--yes"]);
    for (const namespace of namespaces) assert.deepEqual(await inCluster.secretNames(namespace), []);
    assert.deepEqual(await inCluster.pullSecrets("py-a", "default"), ["theirs"]);
    assert.deepEqual(await inCluster.pullSecrets("py-b", "default"), []);
});
