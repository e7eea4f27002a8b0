/**
 * A stack made before the child names became injective (components/names.ts `formerChildNames`) takes
 * the new code in place, as docs/versioning.md promises for a rename with aliases: the user's own
 * steps, a `pulumi up` of the sample program at the last commit with the former names, then the same
 * folder with the current code and `pulumi preview`, `pulumi up`. Real CLI, Node.js host, Kubernetes
 * provider and kube-apiserver; a `credentials` stack.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { clusterState } from "../support/engine-checks";
import { checkoutRepository, engineEnvironment, kubernetesPluginVersion } from "../support/engine-project";
import { pulumiCli, type PulumiCli } from "../support/pulumi-cli";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";

const repo = path.join(__dirname, "..", "..");
const namespaces = ["upgrade-a", "upgrade-b"];

/** The last commit whose components/names.ts has no `formerChildNames`: the names before the rename. */
function lastCommitWithFormerNames(): string {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
    const renaming = git(
        "log",
        "--format=%H",
        "--reverse",
        "-S",
        "formerChildNames",
        "--",
        "components/names.ts",
    ).split("\n")[0];
    assert.match(renaming, /^[0-9a-f]{40}$/, "the rename's commit is in the history (a full clone)");
    return git("rev-parse", `${renaming}^`);
}

let cluster: RealCluster;
let core: CoreV1Api;
let work: string;
let folder: string;
let cli: PulumiCli;
let uids: string[];

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    for (const namespace of namespaces) await core.createNamespace({ body: { metadata: { name: namespace } } });
    work = mkdtempSync(path.join(tmpdir(), "child-names-upgrade-"));
    folder = path.join(work, "registry-pull-secret");
    const stateDir = path.join(work, "state");
    for (const dir of [folder, stateDir, path.join(work, ".kube")]) mkdirSync(dir);
    // The project as it was: `git archive` of that commit, installed as its lock file says.
    execFileSync("sh", ["-c", `git archive ${lastCommitWithFormerNames()} | tar -x -C "${folder}"`], { cwd: repo });
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: folder, stdio: "ignore" });
    const env = engineEnvironment(work, stateDir, kubernetesPluginVersion(folder));
    env.KUBECONFIG = path.join(work, ".kube", "config");
    writeFileSync(env.KUBECONFIG, cluster.kubeconfig, { mode: 0o600 });
    cli = pulumiCli(folder, env);
});
after(async () => {
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
});

it("pulumi up of the sample program with the former child names", async () => {
    await cli.must(["stack", "init", "e2e"]);
    for (const [i, namespace] of namespaces.entries()) {
        await cli.must(["config", "set", "--path", `registry-pull-secret:namespaces[${i}]`, namespace]);
    }
    await cli.must(["config", "set", "--path", "registry-pull-secret:registries[0]", "registry.upgrade.example:5000"]);
    await cli.must(["config", "set", "registryUsername", "upgrade-user"]);
    await cli.must(["config", "set", "--secret", "registryPassword", "upgrade-password-5b1e"]);
    await cli.must(["up", "--yes"]);
    const names = (await cli.exportedResources()).map((r) => r.urn.split("::").pop());
    assert.ok(names.includes("regcred-upgrade-a"), `the former Secret name: ${names.join(", ")}`);
    uids = await Promise.all(
        namespaces.map(
            async (namespace) => (await core.readNamespacedSecret({ name: "regcred", namespace })).metadata!.uid!,
        ),
    );
});

it("with the current code in the same folder, pulumi preview replaces nothing and only trades the per-namespace claims for one, and pulumi up keeps every Secret and entry, moving the Secrets onto their own provider", async () => {
    const current = path.join(work, "current");
    mkdirSync(current);
    checkoutRepository(current);
    for (const file of ["Pulumi.e2e.yaml"]) cpSync(path.join(folder, file), path.join(current, file));
    rmSync(folder, { recursive: true, force: true });
    cpSync(current, folder, { recursive: true });
    const steps = await cli.previewSteps();
    const changes = steps.filter((step) => step.op !== "same" && step.op !== "update");
    // Every child is found under its former name, except the per-namespace claims: one claim for the
    // component replaces them (they own nothing in the cluster; docs/versioning.md).
    assert.deepEqual(
        changes.map((step) => `${step.op} ${step.type.split(":").pop()} ${step.urn.split("::").pop()}`).sort(),
        [
            "create SecretClaim regcred-claim",
            ...namespaces.map((namespace) => `delete SecretClaim regcred-${namespace}-claim`),
        ],
    );
    await cli.must(["up", "--yes"]);
    const resources = await cli.exportedResources();
    const names = resources.map((r) => r.urn.split("::").pop());
    assert.ok(names.includes("regcred/upgrade-a"), `the new Secret name: ${names.join(", ")}`);
    // The Secrets moved from the stack's default provider to their own (docs/connecting.md), in place.
    const secretProviders = resources
        .filter((r) => r.type === "kubernetes:core/v1:Secret")
        .map((r) => r.provider!.split("::")[3]);
    assert.deepEqual(secretProviders, ["regcred-secrets", "regcred-secrets"]);
    for (const [i, namespace] of namespaces.entries()) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(secret.metadata!.uid, uids[i], `${namespace}: the same Secret object`);
        assert.deepEqual(await clusterState(core).pullSecrets(namespace, "default"), ["regcred"]);
    }
    await cli.must(["destroy", "--yes"]);
});
