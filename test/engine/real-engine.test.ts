/**
 * The REAL Pulumi engine (pulumi CLI v3.274.1 and pulumi-resource-kubernetes built from Go modules
 * by test/engine/build.sh) against a REAL kube-apiserver (test/support/real-cluster.ts), driven
 * through the Automation API of a separate project that installed this package from its `npm pack`
 * tarball, as another stack would (test/support/engine-project.ts). Stacks use `credentials`
 * mode: no Google Cloud. The steps run in order on one stack.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type * as automation from "@pulumi/pulumi/automation";
import { installEngineProject, type EngineProject } from "../support/engine-project";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";

const repo = path.join(__dirname, "..", "..");
const namespaces = ["e2e-a", "e2e-b"];
const serviceAccounts = ["default", "builder"];
const registry = "registry.e2e.example:5000";
const username = "e2e-user";
const firstPassword = "first-password-4f1c9d";
const secondPassword = "second-password-8a2e7b";

let cluster: RealCluster;
let core: CoreV1Api;
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
            registries: [registry],
            serviceAccounts,
            credentials: { username, password: config.requireSecret("registryPassword") },
        });
        return Promise.resolve({ secretName: pull.secretName });
    };
}

async function pullSecrets(namespace: string, name: string): Promise<string[]> {
    const account = await core.readNamespacedServiceAccount({ name, namespace });
    return (account.imagePullSecrets ?? []).map((entry) => entry.name!);
}

async function setPullSecrets(namespace: string, name: string, names: string[]): Promise<void> {
    const account = await core.readNamespacedServiceAccount({ name, namespace });
    account.imagePullSecrets = names.map((n) => ({ name: n }));
    await core.replaceNamespacedServiceAccount({ name, namespace, body: account });
}

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    for (const namespace of namespaces) {
        await core.createNamespace({ body: { metadata: { name: namespace } } });
        await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "builder" } } });
    }
    project = await installEngineProject();
    // A kubeconfig whose current context is wrong: only `kubernetes:context` leads to the cluster.
    const kubeconfig = JSON.parse(cluster.kubeconfig);
    kubeconfig.clusters.push({ name: "nowhere", cluster: { server: "https://127.0.0.1:1" } });
    kubeconfig.contexts.push({ name: "nowhere", context: { cluster: "nowhere", user: "admin" } });
    kubeconfig["current-context"] = "nowhere";
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
        "kubernetes:kubeconfig": { value: JSON.stringify(kubeconfig), secret: true },
        "kubernetes:context": { value: "real" },
        // Without it the Kubernetes provider replaces a Secret whose data changes: with a fixed name,
        // delete and then create, a gap in which pulls fail (pulumi-kubernetes pkg/provider/diff.go).
        "kubernetes:enableSecretMutable": { value: "true" },
        registryPassword: { value: firstPassword, secret: true },
    });
});
after(async () => {
    await cluster?.stop();
    project?.remove();
});

/** `TYPE NAME` of every resource in the offline plan's tree for the same config. */
function plannedResources(): string[] {
    const dir = mkdtempSync(path.join(tmpdir(), "plan-project-"));
    try {
        writeFileSync(
            path.join(dir, "Pulumi.yaml"),
            readFileSync(path.join(repo, "Pulumi.yaml"), "utf8").replace(
                /^main: .*$/m,
                `main: ${path.relative(dir, path.join(repo, "index.ts"))}`,
            ),
        );
        writeFileSync(
            path.join(dir, "Pulumi.e2e.yaml"),
            [
                "config:",
                `  registry-pull-secret:namespaces: ${JSON.stringify(namespaces)}`,
                `  registry-pull-secret:registries: ${JSON.stringify([registry])}`,
                `  registry-pull-secret:serviceAccounts: ${JSON.stringify(serviceAccounts)}`,
                `  registry-pull-secret:registryUsername: ${username}`,
                `  registry-pull-secret:registryPassword: ${firstPassword}`,
                "",
            ].join("\n"),
        );
        const plan = spawnSync("npm", ["run", "--silent", "plan", "--", "--stack", "e2e", "--dir", dir], {
            cwd: repo,
            encoding: "utf8",
        });
        assert.equal(plan.status, 0, plan.stderr);
        const tree = plan.stdout.split(/^Resources \(\d+\):$/m)[1].split("\n\n")[0];
        return tree
            .split("\n")
            .filter((line) => line.trim() !== "")
            .map((line) => line.replace(/^[\s├└─│]+/, "").replace(/\s+/, " "));
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

it("preview shows every resource the offline plan shows for the same config (same types and names)", async () => {
    const previewed: string[] = [];
    await stack.preview({
        onEvent: (event) => {
            const pre = event.resourcePreEvent?.metadata;
            if (!pre || pre.type === "pulumi:pulumi:Stack" || pre.type.startsWith("pulumi:providers:")) return;
            previewed.push(`${pre.type} ${pre.urn.split("::").pop()}`);
        },
    });
    assert.deepEqual([...previewed].sort(), plannedResources().sort());
});

it("up creates the Secrets and our entries, keeping another owner's entry made before", async () => {
    await setPullSecrets("e2e-a", "default", ["theirs-before"]);
    const result = await stack.up();
    assert.equal(result.summary.result, "succeeded");
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
        const config = JSON.parse(Buffer.from(secret.data![".dockerconfigjson"], "base64").toString("utf8"));
        assert.equal(config.auths[registry].password, firstPassword);
        assert.deepEqual(await pullSecrets(namespace, "builder"), ["regcred"]);
    }
    assert.deepEqual(await pullSecrets("e2e-a", "default"), ["theirs-before", "regcred"]);
    assert.deepEqual(await pullSecrets("e2e-b", "default"), ["regcred"]);
});

it("a second up changes nothing, and an entry another owner adds afterwards survives it", async () => {
    await setPullSecrets("e2e-b", "default", ["regcred", "theirs-after"]);
    const result = await stack.up();
    assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
    assert.deepEqual(await pullSecrets("e2e-b", "default"), ["regcred", "theirs-after"]);
});

it("refresh shows an entry removed by hand, and up puts it back once", async () => {
    await setPullSecrets("e2e-a", "builder", []);
    const refreshed = await stack.refresh();
    assert.equal(refreshed.summary.resourceChanges?.update, 1, JSON.stringify(refreshed.summary.resourceChanges));
    const restored = await stack.up();
    assert.equal(restored.summary.resourceChanges?.update, 1, JSON.stringify(restored.summary.resourceChanges));
    assert.deepEqual(await pullSecrets("e2e-a", "builder"), ["regcred"]);
    const again = await stack.up();
    assert.deepEqual(Object.keys(again.summary.resourceChanges ?? {}), ["same"]);
});

it("a new password updates each Secret in place (same object, new data)", async () => {
    const before = await core.readNamespacedSecret({ name: "regcred", namespace: "e2e-a" });
    await stack.setConfig("registryPassword", { value: secondPassword, secret: true });
    const result = await stack.up();
    assert.equal(result.summary.resourceChanges?.update, 2, JSON.stringify(result.summary.resourceChanges));
    assert.equal(result.summary.resourceChanges?.create, undefined);
    assert.equal(result.summary.resourceChanges?.delete, undefined);
    const after = await core.readNamespacedSecret({ name: "regcred", namespace: "e2e-a" });
    assert.equal(after.metadata?.uid, before.metadata?.uid, "the same Secret object, never deleted");
    const config = JSON.parse(Buffer.from(after.data![".dockerconfigjson"], "base64").toString("utf8"));
    assert.equal(config.auths[registry].password, secondPassword);
});

it("the state file holds no password, docker config or kubeconfig token in plain text", () => {
    const files = readdirSync(path.join(project.stateDir, ".pulumi", "stacks"), { recursive: true })
        .map(String)
        .filter((file) => file.endsWith(".json"));
    assert.ok(files.length > 0);
    for (const file of files) {
        const text = readFileSync(path.join(project.stateDir, ".pulumi", "stacks", file), "utf8");
        for (const password of [firstPassword, secondPassword]) {
            const auth = Buffer.from(`${username}:${password}`).toString("base64");
            for (const plain of [password, auth, Buffer.from(password).toString("base64")]) {
                assert.equal(text.includes(plain), false, `${file} must not hold it in plain text`);
            }
        }
        assert.equal(text.includes(cluster.token), false, `${file} must not hold the cluster token`);
        assert.equal(text.includes('.dockerconfigjson": "ey'), false);
    }
});

it("destroy removes our Secrets and only our entries", async () => {
    const result = await stack.destroy();
    assert.equal(result.summary.result, "succeeded");
    for (const namespace of namespaces) {
        const secrets = await core.listNamespacedSecret({ namespace });
        assert.deepEqual(
            secrets.items.map((s) => s.metadata?.name),
            [],
        );
        assert.deepEqual(await pullSecrets(namespace, "builder"), []);
    }
    assert.deepEqual(await pullSecrets("e2e-a", "default"), ["theirs-before"]);
    assert.deepEqual(await pullSecrets("e2e-b", "default"), ["theirs-after"]);
});
