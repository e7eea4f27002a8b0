/**
 * The README's Start, as a new user types it: `pulumi login` to Pulumi's file backend (no account; in
 * a folder of the test's, since `--local` is the account's own ~/.pulumi), `pulumi new` of templates/registry-pull-secret from an empty folder, the
 * package `npm install`ed from its `npm pack` tarball (it is not on the npm registry yet), then
 * `pulumi preview` and `pulumi up` against a REAL kube-apiserver whose kubeconfig sits in
 * ~/.kube/config, where kind, minikube and k3d write theirs; a `credentials` stack: no Google Cloud.
 * Everything is real: the CLI (v3.274.1), its Node.js language host and TypeScript, the Kubernetes
 * provider. Then what the answers to the template's prompts become in the stack file: a password
 * typed at its prompt (`secret: true`) is encrypted, one given with `-c` is not. The prompts are
 * answered through a pipe: PULUMI_TEST_INTERACTIVE is the CLI's own switch for that (pulumi/pulumi
 * v3.274.1 pkg/cmd/pulumi/project/newcmd/new.go `isInteractive`), and with stdin not a terminal a
 * secret prompt reads a plain line (sdk/go/common/util/cmdutil/console_password.go). Last, the README's
 * From the kubectl recipe on `asia.gcr.io`, with the Google Cloud provider DOUBLE as the `gcp` plugin.
 * The steps run in order.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
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
import { packRepository } from "../support/consumer-project";
import {
    engineEnvironment,
    installKubernetesPlugin,
    kubernetesPluginVersion,
    mustRun,
} from "../support/engine-project";
import { issueKey } from "../support/google-cloud-double/google-apis";
import { installGoogleCloudDouble, requestedGcpVersion } from "../support/google-cloud-double/install";
import { instantPropagation } from "../support/google-cloud-double/propagation";
import { newProject, newServiceAccount, readGoogleCloud, writeGoogleCloud } from "../support/google-cloud-double/state";
import { pulumiCli, runCommand, typeAndName, type PulumiCli } from "../support/pulumi-cli";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";

const repo = path.join(__dirname, "..", "..");
const template = path.join(repo, "templates", "registry-pull-secret");
const namespaces = ["team-a", "team-b"];
const registry = "registry.template.example:5000";
const username = "template-user";
const password = "template-password-5c27d1";
/** The template's prompts, as its Pulumi.yaml declares them. */
const prompts: Record<string, { default?: string; secret?: boolean }> = YAML.parse(
    readFileSync(path.join(template, "Pulumi.yaml"), "utf8"),
).template.config;

let cluster: RealCluster;
let core: CoreV1Api;
let inCluster: ReturnType<typeof clusterState>;
/** The user's home: ~/.pulumi (the file backend), ~/.kube/config, the tarball. */
let home: string;
let tarball: string;
let env: Record<string, string>;
/** The CLI in the home folder, where `pulumi login` and `pulumi new --dir` run. */
let shell: PulumiCli;
/** The README's project: an empty folder `pulumi new` fills, and the CLI in it. */
let project: string;
let cli: PulumiCli;

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    inCluster = clusterState(core);
    await inCluster.createNamespaces(namespaces);
    home = mkdtempSync(path.join(tmpdir(), "template-"));
    mkdirSync(path.join(home, ".kube"));
    writeFileSync(path.join(home, ".kube", "config"), cluster.kubeconfig, { mode: 0o600 });
    env = engineEnvironment(home, home, kubernetesPluginVersion(repo));
    // The user's shell has no backend variable: `pulumi login` picks the backend.
    delete env.PULUMI_BACKEND_URL;
    // The user's npm, which `pulumi new` runs, as this machine has it: its cache, and the CA bundle that
    // reaches the npm registry from here (HOME is the test's, so ~/.npm and ~/.npmrc are not found).
    env.npm_config_cache = mustRun("npm", ["config", "get", "cache"], { cwd: home }).trim();
    if (process.env.NODE_EXTRA_CA_CERTS) env.NODE_EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
    shell = pulumiCli(home, env);
    project = path.join(home, "pull-secrets");
    mkdirSync(project);
    cli = pulumiCli(project, env);
});
after(async () => {
    await cluster?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
});

/** `pulumi new TEMPLATE ARGS --yes -c KEY=VALUE...`, failing with the CLI's output. */
async function pulumiNew(where: PulumiCli, args: string[], config: Record<string, string>): Promise<void> {
    const flags = Object.entries(config).flatMap(([key, value]) => ["-c", `${key}=${value}`]);
    const made = await where.run(["new", template, ...args, "--yes", ...flags]);
    assert.equal(made.status, 0, made.stdout + made.stderr);
}

it("pulumi login file://DIR logs in to Pulumi's file backend in that folder, with no account (the README's --local is file://~)", async () => {
    // `--local` means `file://~`, which the CLI resolves to the account's home in /etc/passwd, not $HOME
    // (pulumi/pulumi v3.274.1 pkg/backend/diy/backend.go, user.Current): a test must not write there.
    const login = await shell.must(["login", `file://${home}`]);
    assert.match(login, new RegExp(`Logged in to .* \\(file://${home}\\)`));
    assert.match(await shell.must(["whoami", "--verbose"]), new RegExp(`Backend URL: file://${home}`));
});

it("pulumi new TEMPLATE --stack --yes -c in an empty folder makes the project from the template, named after the folder, and saves the answers and defaults in the stack file", async () => {
    await pulumiNew(cli, ["--stack", "dev"], {
        namespaces: JSON.stringify(namespaces),
        registries: JSON.stringify([registry]),
        registryUsername: username,
    });
    for (const file of ["Pulumi.yaml", "Pulumi.dev.yaml", "package.json", "tsconfig.json", "index.ts"]) {
        assert.ok(existsSync(path.join(project, file)), file);
    }
    assert.equal(
        readFileSync(path.join(project, "index.ts"), "utf8"),
        readFileSync(path.join(template, "index.ts"), "utf8"),
    );
    const pulumiYaml = YAML.parse(readFileSync(path.join(project, "Pulumi.yaml"), "utf8"));
    assert.equal(pulumiYaml.name, "pull-secrets");
    assert.deepEqual(pulumiYaml.config["kubernetes:enableSecretMutable"], { value: true });
    assert.equal(pulumiYaml.template, undefined, "the template section is left out");
    // pulumi new installed the template's dependencies.
    assert.ok(existsSync(path.join(project, "node_modules", "@pulumi", "pulumi")));
    const stack = YAML.parse(readFileSync(path.join(project, "Pulumi.dev.yaml"), "utf8")).config;
    assert.deepEqual(stack, {
        "pull-secrets:namespaces": JSON.stringify(namespaces),
        "pull-secrets:registries": JSON.stringify([registry]),
        "pull-secrets:registryUsername": username,
        // The defaults --yes accepts; gcpProject and registryPassword have none and are not saved.
        "pull-secrets:repositories": prompts.repositories.default,
        "pull-secrets:serviceAccount": prompts.serviceAccount.default,
        "pull-secrets:takeOver": "false",
        "pull-secrets:readinessWait": prompts.readinessWait.default,
    });
});

it("npm pack of the repository and npm install of its tarball add the package to the project, and pulumi config set --secret registryPassword stores the password encrypted", async () => {
    tarball = packRepository(project);
    mustRun("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", `./${path.basename(tarball)}`], {
        cwd: project,
    });
    const dependencies = JSON.parse(readFileSync(path.join(project, "package.json"), "utf8")).dependencies;
    assert.equal(dependencies["registry-pull-secret"], `file:${path.basename(tarball)}`);
    // The Kubernetes provider the project's @pulumi/kubernetes asks for, built locally (no downloads).
    installKubernetesPlugin(env, home, kubernetesPluginVersion(project));
    await cli.must(["config", "set", "--secret", "registryPassword"], password);
    const stackFile = readFileSync(path.join(project, "Pulumi.dev.yaml"), "utf8");
    assert.match(stackFile, /pull-secrets:registryPassword:\n\s+secure: /);
    assert.equal(stackFile.includes(password), false);
});

const expected = credentialsComponentResources(namespaces);

it("pulumi preview --diff, with the cluster of ~/.kube/config, plans the claim, and a Secret and our default ServiceAccount entry per namespace, and shows no password", async () => {
    const preview = await cli.must(["preview", "--diff"]);
    for (const line of expected) assert.match(preview, new RegExp(`\\+ ${line.split(" ")[0]}: \\(create\\)`));
    assert.equal(preview.includes(password), false);
    assert.equal(preview.includes(Buffer.from(`${username}:${password}`).toString("base64")), false);
    assert.deepEqual(typeAndName(await cli.previewSteps()), expected);
});

it("pulumi up --yes writes each Secret with the answered registry and credentials, and lists it on each default ServiceAccount", async () => {
    await cli.must(["up", "--yes"]);
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
        const auths = JSON.parse(dockerConfigOf(secret)).auths;
        assert.deepEqual(Object.keys(auths), [registry]);
        assert.equal(auths[registry].auth, Buffer.from(`${username}:${password}`).toString("base64"));
        assert.deepEqual(await inCluster.pullSecrets(namespace, "default"), ["regcred"]);
    }
    assert.equal(await cli.must(["stack", "output", "secretName"]), "regcred\n");
});

it("the state and the stack file hold no password or docker config in plain text", () => {
    assertStateHoldsNone(home, path.join(project, "Pulumi.dev.yaml"), {
        username,
        passwords: [password],
        others: [cluster.token],
    });
});

it("a password typed at the template's registryPassword prompt (secret: true) is stored encrypted; the other answers as typed", async () => {
    const answers: Record<string, string> = {
        namespaces: JSON.stringify(namespaces),
        registries: JSON.stringify([registry]),
        registryUsername: username,
        registryPassword: password,
    };
    // The CLI asks in the order of the keys' full names (pulumi/pulumi newcmd/config.go sorts them);
    // an empty line takes the default.
    const input = Object.keys(prompts)
        .sort()
        .map((key) => `${answers[key] ?? ""}\n`)
        .join("");
    // Without PULUMI_SKIP_CONFIRMATIONS (the engine tests' default), which answers every prompt with its default.
    const asking = { ...env };
    delete asking.PULUMI_SKIP_CONFIRMATIONS;
    const interactive = pulumiCli(home, { ...asking, PULUMI_TEST_INTERACTIVE: "true" });
    const made = await interactive.run(
        ["new", template, "--dir", "typed", "--name", "typed", "--description", "typed answers", "--stack", "dev"],
        input,
    );
    assert.equal(made.status, 0, made.stdout + made.stderr);
    const stackFile = readFileSync(path.join(home, "typed", "Pulumi.dev.yaml"), "utf8");
    assert.match(stackFile, /typed:registryPassword:\n\s+secure: /);
    assert.equal(stackFile.includes(password), false);
    const config = YAML.parse(stackFile).config;
    assert.equal(config["typed:registryUsername"], username);
    assert.equal(config["typed:namespaces"], answers.namespaces);
    assert.equal(config["typed:serviceAccount"], prompts.serviceAccount.default, "an empty line takes the default");
});

it("a password given with pulumi new -c is stored in plain text (secret: true applies to prompts only), which is why the README says pulumi config set --secret", async () => {
    await pulumiNew(shell, ["--dir", "flagged", "--stack", "dev"], { registryPassword: password });
    const stackFile = readFileSync(path.join(home, "flagged", "Pulumi.dev.yaml"), "utf8");
    assert.equal(YAML.parse(stackFile).config["flagged:registryPassword"], password);
});

// From the recipe (README "From the kubectl recipe"): the seed's case with the Google Cloud provider
// DOUBLE (test/support/google-cloud-double) installed as the `gcp` plugin, a JSON file standing for
// Google, which applies grants and keys at once (real IAM takes minutes: docs/rotation.md).
const gcpProject = "my-project";
const recipeAccount = `recipe-puller@${gcpProject}.iam.gserviceaccount.com`;
const recipeNamespace = "recipe-a";
const reader = "roles/artifactregistry.reader";
let googleFile: string;
/** The recipe's key, as the user's key.json holds it. */
let recipeKeyId: string;
let recipeSecretUid: string | undefined;
let fromRecipe: PulumiCli;

it("the recipe's two kubectl commands, with a key of an existing service account, make the Secret and the entry the template's stack takes over", async () => {
    googleFile = path.join(home, "google.json");
    // Instant: this test is about the template and the takeover; the gate's waits for Google's delays are
    // proven in google-key.test.ts, and this stack turns the gate off (readinessWait=false below).
    const google = {
        projects: { [gcpProject]: newProject("123456789012", ["asia/asia.gcr.io"]) },
        auditLog: [],
        propagation: instantPropagation(),
    };
    google.projects[gcpProject].serviceAccounts[recipeAccount] = newServiceAccount("made by hand for the recipe");
    const keyFile = Buffer.from(issueKey(google, recipeAccount), "base64").toString("utf8");
    recipeKeyId = JSON.parse(keyFile).private_key_id;
    writeGoogleCloud(googleFile, google);
    writeFileSync(path.join(home, "key.json"), keyFile, { mode: 0o600 });
    await inCluster.createNamespaces([recipeNamespace]);
    const sh = (script: string) => runCommand("sh", ["-c", script], { cwd: home, env: { PATH: env.PATH, HOME: home } });
    for (const command of [
        `kubectl create secret docker-registry regcred --docker-server=asia.gcr.io --docker-username=_json_key --docker-password="$(cat key.json)" -n ${recipeNamespace}`,
        `kubectl patch serviceaccount default -p '{"imagePullSecrets":[{"name":"regcred"}]}' -n ${recipeNamespace}`,
    ]) {
        const ran = await sh(command);
        assert.equal(ran.status, 0, ran.stderr);
    }
    recipeSecretUid = (await core.readNamespacedSecret({ name: "regcred", namespace: recipeNamespace })).metadata?.uid;
    assert.ok(recipeSecretUid);
});

it("pulumi new with gcpProject, the recipe's service account and takeOver=true: the defaults are the seed's registry asia.gcr.io and repository asia.gcr.io in location asia", async () => {
    await pulumiNew(shell, ["--dir", "from-recipe", "--stack", "prod"], {
        gcpProject,
        serviceAccount: recipeAccount,
        namespaces: JSON.stringify([recipeNamespace]),
        takeOver: "true",
        // This machine reaches no asia.gcr.io: the gate would wait its 600 s and fail.
        readinessWait: "false",
    });
    const dir = path.join(home, "from-recipe");
    const stack = YAML.parse(readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8")).config;
    assert.equal(stack["from-recipe:registries"], '["asia.gcr.io"]');
    assert.equal(stack["from-recipe:repositories"], '[{"location":"asia","repository":"asia.gcr.io"}]');
    copyFileSync(tarball, path.join(dir, path.basename(tarball)));
    mustRun("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", `./${path.basename(tarball)}`], {
        cwd: dir,
    });
    installKubernetesPlugin(env, home, kubernetesPluginVersion(dir));
    const gcpVersion = requestedGcpVersion(createRequire(path.join(dir, "package.json")));
    installGoogleCloudDouble(env, { work: home, version: gcpVersion, stateFile: googleFile });
    fromRecipe = pulumiCli(dir, env);
});

it("pulumi preview --diff says it takes over the recipe's Secret and entry, and plans a grant and a key for the reused account, none for a new one", async () => {
    const result = await fromRecipe.run(["preview", "--diff"]);
    // The warning is a diagnostic: the CLI prints it on stderr.
    const preview = result.stdout + result.stderr;
    assert.equal(result.status, 0, preview);
    assert.match(
        preview,
        new RegExp(
            `takeOver: this update takes over Secret "regcred" in namespace "${recipeNamespace}" \\(written by "kubectl-create"\\)`,
        ),
    );
    const types = (await fromRecipe.previewSteps()).map((step) => step.type);
    assert.equal(types.filter((type) => type === "gcp:serviceaccount/account:Account").length, 0);
    assert.equal(types.filter((type) => type === "gcp:serviceaccount/key:Key").length, 1);
    assert.equal(
        types.filter((type) => type === "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember").length,
        1,
    );
});

it("pulumi up --yes writes a new key of the recipe's account into the same Secret object, keeps the entry, grants the reader role, and leaves the old key for the user to retire", async () => {
    await fromRecipe.must(["up", "--yes"]);
    const secret = await core.readNamespacedSecret({ name: "regcred", namespace: recipeNamespace });
    assert.equal(secret.metadata?.uid, recipeSecretUid, "taken over in place, never deleted");
    const entry = JSON.parse(dockerConfigOf(secret)).auths["asia.gcr.io"];
    assert.equal(entry.username, "_json_key_base64");
    const written = JSON.parse(Buffer.from(entry.password, "base64").toString("utf8"));
    assert.equal(written.client_email, recipeAccount);
    assert.notEqual(written.private_key_id, recipeKeyId, "a new key");
    assert.deepEqual(await inCluster.pullSecrets(recipeNamespace, "default"), ["regcred"]);
    const google = readGoogleCloud(googleFile).projects[gcpProject];
    assert.deepEqual(Object.keys(google.serviceAccounts), [recipeAccount], "no account created");
    assert.deepEqual(
        Object.keys(google.serviceAccounts[recipeAccount].keys).sort(),
        [recipeKeyId, written.private_key_id].sort(),
    );
    const bindings = google.repositories["asia/asia.gcr.io"].iamPolicy.bindings;
    assert.deepEqual(bindings.find((binding) => binding.role === reader)?.members, [`serviceAccount:${recipeAccount}`]);
});
