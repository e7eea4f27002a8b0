/**
 * This repository's own sample program (`index.ts`; `Pulumi.yaml` says `runtime: nodejs`, TypeScript)
 * the way every new user runs it first: a clean checkout after `npm ci`, then the README's commands
 * typed into the `pulumi` CLI. Everything is real: the CLI, its Node.js language host (built from
 * shared/third_party by test/engine/build.sh), the Kubernetes provider and a kube-apiserver reached
 * through `KUBECONFIG`, as `gcloud container clusters get-credentials` (or the workflow's
 * get-gke-credentials step) leaves it. A `credentials` stack: no Google Cloud.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import * as YAML from "yaml";
import {
    assertStateHoldsNone,
    clusterState,
    credentialsComponentResources,
    dockerConfigOf,
} from "../support/engine-checks";
import { checkoutRepository, engineEnvironment, kubernetesPluginVersion } from "../support/engine-project";
import { changed, pulumiCli, typeAndName, type PulumiCli } from "../support/pulumi-cli";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";

const namespaces = ["sample-a", "sample-b"];
const registry = "registry.sample.example:5000";
const username = "sample-user";
const password = "sample-password-3e91ab";

let cluster: RealCluster;
let core: CoreV1Api;
let inCluster: ReturnType<typeof clusterState>;
let work: string;
let checkout: string;
let cli: PulumiCli;

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    inCluster = clusterState(core);
    for (const namespace of namespaces) await core.createNamespace({ body: { metadata: { name: namespace } } });

    work = mkdtempSync(path.join(tmpdir(), "sample-program-"));
    checkout = path.join(work, "registry-pull-secret");
    const stateDir = path.join(work, "state");
    for (const folder of [checkout, stateDir, path.join(work, ".kube")]) mkdirSync(folder);
    checkoutRepository(checkout);
    const env = engineEnvironment(work, stateDir, kubernetesPluginVersion(checkout));
    env.KUBECONFIG = path.join(work, ".kube", "config");
    writeFileSync(env.KUBECONFIG, cluster.kubeconfig, { mode: 0o600 });
    cli = pulumiCli(checkout, env);
});
after(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
});

it("pulumi stack init and pulumi config set [--path] [--secret] write the stack file, the password encrypted", async () => {
    await cli.must(["stack", "init", "e2e"]);
    for (const [i, namespace] of namespaces.entries()) {
        await cli.must(["config", "set", "--path", `registry-pull-secret:namespaces[${i}]`, namespace]);
    }
    await cli.must(["config", "set", "--path", "registry-pull-secret:registries[0]", registry]);
    await cli.must(["config", "set", "registryUsername", username]);
    await cli.must(["config", "set", "--secret", "registryPassword", password]);
    const stackFile = readFileSync(path.join(checkout, "Pulumi.e2e.yaml"), "utf8");
    assert.match(stackFile, /registry-pull-secret:namespaces:\n\s+- sample-a\n\s+- sample-b/);
    assert.match(stackFile, /registry-pull-secret:registryPassword:\n\s+secure: /);
    assert.equal(stackFile.includes(password), false);
});

const expected = credentialsComponentResources(namespaces);

it("pulumi preview --diff shows the component, its claim, a Secret and our entry per namespace, and no password", async () => {
    const preview = await cli.must(["preview", "--diff"]);
    for (const line of expected) assert.match(preview, new RegExp(`\\+ ${line.split(" ")[0]}: \\(create\\)`));
    assert.equal(preview.includes(password), false);
    assert.deepEqual(typeAndName(await cli.previewSteps()), expected);
});

it("pulumi up --yes creates the Secrets and our entries, keeping another owner's entry", async () => {
    await inCluster.setPullSecrets("sample-a", "default", ["theirs"]);
    const output = await cli.must(["up", "--yes"]);
    assert.equal(output.includes(password), false);
    // And the stack, and the Secrets' own Kubernetes provider (docs/connecting.md); previews list neither.
    assert.deepEqual(changed(await cli.lastUpdate()), { create: expected.length + 2 });
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(JSON.parse(dockerConfigOf(secret)).auths[registry].password, password);
    }
    assert.deepEqual(await inCluster.pullSecrets("sample-a", "default"), ["theirs", "regcred"]);
    assert.deepEqual(await inCluster.pullSecrets("sample-b", "default"), ["regcred"]);
});

it("a second pulumi up --expect-no-changes succeeds", async () => {
    await cli.must(["up", "--yes", "--expect-no-changes"]);
    assert.deepEqual(changed(await cli.lastUpdate()), {});
});

/**
 * The step of .github/workflows/pulumi.yml that previews a pull request: `pulumi/actions` with its
 * `command`, `diff` and `stack-name`. The action runs the CLI through the Automation API, which adds
 * `--non-interactive` (@pulumi/pulumi automation/cmd.js) and runs in the repository's root.
 */
function workflowPreviewArgs(stack: string): string[] {
    const workflow = YAML.parse(readFileSync(path.join(checkout, ".github", "workflows", "pulumi.yml"), "utf8"));
    const step = Object.values<any>(workflow.jobs)
        .flatMap((job) => job.steps ?? [])
        .find((candidate) => String(candidate.uses).startsWith("pulumi/actions@"));
    assert.match(step.with.command, /'preview'/, "pull requests run preview");
    assert.equal(step.with.diff, true);
    assert.equal(step.with["stack-name"], "${{ vars.PULUMI_ORG }}/${{ matrix.stack }}");
    // A file backend's stacks belong to the organization named `organization`.
    return ["preview", "--diff", "--stack", `organization/${stack}`, "--non-interactive"];
}

it("the pull-request preview (the workflow's command, in the repository's root, with the environment the workflow sets) shows what docs/previews.md says reviewers see", async () => {
    await cli.must(["config", "set", "--secret", "registryPassword", "a-new-password-0d4c2e"]);
    const workflow = pulumiCli(checkout, { ...cli.env, CI: "true", GITHUB_ACTIONS: "true" });
    const preview = await workflow.must(workflowPreviewArgs("e2e"));
    // docs/previews.md#pull-request-previews-and-gated-deployments: each Secret whose data changes, as an update of the same object,
    // its content masked; nothing replaced; no password old or new.
    for (const namespace of namespaces) {
        assert.match(
            preview,
            new RegExp(`~ kubernetes:core/v1:Secret: \\(update\\)\\n\\s+\\[id=${namespace}/regcred\\]`),
        );
    }
    assert.equal(preview.match(/~ \.dockerconfigjson: \[secret\] => \[secret\]/g)?.length, namespaces.length);
    assert.match(preview, /~ 2 to update\n\s+6 unchanged/);
    assert.doesNotMatch(preview, /replace|delete/i);
    assert.equal(preview.includes(password) || preview.includes("a-new-password-0d4c2e"), false);
    await cli.must(["config", "set", "--secret", "registryPassword", password]);
});

it("pulumi refresh --yes notices an entry removed by hand, and pulumi up puts it back", async () => {
    await inCluster.setPullSecrets("sample-b", "default", []);
    await cli.must(["refresh", "--yes"]);
    assert.deepEqual(changed(await cli.lastUpdate()), { update: 1 });
    await cli.must(["up", "--yes"]);
    assert.deepEqual(changed(await cli.lastUpdate()), { update: 1 });
    assert.deepEqual(await inCluster.pullSecrets("sample-b", "default"), ["regcred"]);
});

/**
 * The two attach modes use the same child name with different types, so the engine creates the new
 * resource and deletes the old one last. Each way the entry survives the old one's delete: the entry's
 * destroy leaves a list a ServiceAccountPatch declares, and the new entry co-owns the list the old
 * ServiceAccountPatch declared before it relinquishes it (components/attachment/pull-secret-entry-plan.ts).
 */
it('pulumi up after switching attachMode to "patch" and back to "merge" keeps our entry in every namespace throughout', async () => {
    const ourMarker = async (namespace: string) =>
        (await core.readNamespacedServiceAccount({ name: "default", namespace })).metadata?.annotations ?? {};
    const markerKeys = async (namespace: string) =>
        Object.keys(await ourMarker(namespace)).filter((key) => key.startsWith("registry-pull-secret/entries-"));
    // "patch" owns the whole list and conflicts with another entry's manager: its owner leaves first.
    await inCluster.setPullSecrets("sample-a", "default", ["regcred"]);
    await cli.must(["config", "set", "attachMode", "patch"]);
    await cli.must(["up", "--yes"]);
    for (const namespace of namespaces) {
        assert.deepEqual(await inCluster.pullSecrets(namespace, "default"), ["regcred"], `${namespace} after "patch"`);
        assert.deepEqual(await markerKeys(namespace), [], "the merge entry took only its marker away");
    }
    await cli.must(["config", "set", "attachMode", "merge"]);
    await cli.must(["up", "--yes"]);
    for (const namespace of namespaces) {
        assert.deepEqual(await inCluster.pullSecrets(namespace, "default"), ["regcred"], `${namespace} after "merge"`);
        assert.equal((await markerKeys(namespace)).length, 1, "the entry is ours again, by its marker");
    }
    await cli.must(["up", "--yes", "--expect-no-changes"]);
    await inCluster.setPullSecrets("sample-a", "default", ["theirs", "regcred"]);
});

it("the state and the stack file hold no password or cluster token in plain text", () => {
    assertStateHoldsNone(path.join(work, "state"), path.join(checkout, "Pulumi.e2e.yaml"), {
        username,
        passwords: [password],
        others: [cluster.token],
    });
});

it("pulumi destroy --yes removes our Secrets and entries and keeps the other owner's", async () => {
    await cli.must(["destroy", "--yes"]);
    for (const namespace of namespaces) assert.deepEqual(await inCluster.secretNames(namespace), []);
    assert.deepEqual(await inCluster.pullSecrets("sample-a", "default"), ["theirs"]);
    assert.deepEqual(await inCluster.pullSecrets("sample-b", "default"), []);
});
