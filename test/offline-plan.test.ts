import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as YAML from "yaml";
import { defaultRefresherNamespace } from "../components/names";
import { ownerIdOf } from "../components/rules/ownership";

/** Every Secret a claim guards is applied with force (components/registry-pull-secret.ts `forced`). */
const forced = { "pulumi.com/patchForce": "true" };
const repo = path.resolve(__dirname, "..");

/** `npm run plan -- ...args` as a user runs it, in its own process. */
function plan(...args: string[]) {
    const result = spawnSync(process.execPath, ["--import", "tsx", path.join(repo, "tools/plan.ts"), ...args], {
        cwd: repo,
        encoding: "utf8",
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * A project directory whose program is the real index.ts, with one extra stack file; `project` may
 * change this repository's Pulumi.yaml, as a user's own project would differ.
 */
function projectWithStack(stack: string, config: string, project = (text: string) => text): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), project(fs.readFileSync(path.join(repo, "Pulumi.yaml"), "utf8")));
    fs.writeFileSync(path.join(dir, "index.ts"), `export * from ${JSON.stringify(path.join(repo, "index"))};\n`);
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), config);
    return dir;
}

const validConfig = [
    "config:",
    "  registry-pull-secret:namespaces: [team-a]",
    "  registry-pull-secret:registries: [gcr.io]",
    "  registry-pull-secret:gcpProject: example-project",
    "  registry-pull-secret:serviceAccountId: image-puller",
    "  registry-pull-secret:repositories: [us/gcr.io]",
    "",
].join("\n");

/** The labels that say whose a pull Secret is: the sample program's component in `stack`. */
const ownerLabels = (stack: string) => ({
    "app.kubernetes.io/managed-by": "registry-pull-secret",
    "registry-pull-secret/owner": ownerIdOf(
        `urn:pulumi:${stack}::registry-pull-secret::registry-pull-secret:index:RegistryPullSecret::regcred`,
    ),
});

describe("npm run plan -- --stack dev", () => {
    const { code, stdout, stderr } = plan("--stack", "dev");
    const section = (title: string) => stdout.split(`\n${title}`)[1].split("\n\n")[0].trimEnd().split("\n").slice(1);

    it("exits 0 and says it is a plan, not a deployment", () => {
        assert.equal(code, 0, stderr);
        assert.equal(stderr, "");
        assert.match(
            stdout,
            /^Plan for stack 'dev' of project 'registry-pull-secret': what `pulumi up` would declare\.\nNothing was deployed/,
        );
    });

    it("prints the resource tree with every child under the component", () => {
        assert.deepEqual(section("Resources (13):"), [
            "  registry-pull-secret:index:RegistryPullSecret  regcred",
            "  ├─ gcp:serviceaccount/account:Account  regcred-account",
            "  ├─ pulumi-nodejs:dynamic/registry-pull-secret:SecretClaim  regcred-claim",
            "  ├─ gcp:artifactregistry/repositoryIamMember:RepositoryIamMember  regcred/reader/asia/asia.gcr.io",
            "  ├─ gcp:artifactregistry/repositoryIamMember:RepositoryIamMember  regcred/reader/asia-northeast1/images",
            "  ├─ pulumi:providers:kubernetes  regcred-secrets",
            "  ├─ gcp:serviceaccount/key:Key  regcred-key",
            "  ├─ pulumi-nodejs:dynamic/registry-pull-secret:PullReadiness  regcred-pull-readiness",
            "  ├─ kubernetes:core/v1:Secret  regcred/team-a-dev",
            "  ├─ kubernetes:core/v1:Secret  regcred/team-b-dev",
            "  ├─ pulumi-nodejs:dynamic/registry-pull-secret:KeyHandover  regcred-key-handover",
            "  ├─ pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry  regcred/team-a-dev/default",
            "  └─ pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry  regcred/team-b-dev/default",
        ]);
    });

    it("prints the dependency order the engine receives: account, grants, key, readiness gate, Secrets, attachments", () => {
        assert.deepEqual(section("Dependency order (12 resources in 6 steps; one step's resources go in parallel):"), [
            "  1. gcp:serviceaccount/account:Account  regcred-account",
            "  1. pulumi-nodejs:dynamic/registry-pull-secret:SecretClaim  regcred-claim",
            "  1. pulumi:providers:kubernetes  regcred-secrets",
            "  2. gcp:artifactregistry/repositoryIamMember:RepositoryIamMember  regcred/reader/asia/asia.gcr.io  (after Account regcred-account)",
            "  2. gcp:artifactregistry/repositoryIamMember:RepositoryIamMember  regcred/reader/asia-northeast1/images  (after Account regcred-account)",
            "  3. gcp:serviceaccount/key:Key  regcred-key  (after Account regcred-account, RepositoryIamMember regcred/reader/asia-northeast1/images, RepositoryIamMember regcred/reader/asia/asia.gcr.io)",
            "  4. pulumi-nodejs:dynamic/registry-pull-secret:PullReadiness  regcred-pull-readiness  (after Key regcred-key)",
            "  5. kubernetes:core/v1:Secret  regcred/team-a-dev  (after Key regcred-key, PullReadiness regcred-pull-readiness, SecretClaim regcred-claim)",
            "  5. kubernetes:core/v1:Secret  regcred/team-b-dev  (after Key regcred-key, PullReadiness regcred-pull-readiness, SecretClaim regcred-claim)",
            "  6. pulumi-nodejs:dynamic/registry-pull-secret:KeyHandover  regcred-key-handover  (after Key regcred-key, Secret regcred/team-a-dev, Secret regcred/team-b-dev)",
            "  6. pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry  regcred/team-a-dev/default  (after Secret regcred/team-a-dev)",
            "  6. pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry  regcred/team-b-dev/default  (after Secret regcred/team-b-dev)",
        ]);
    });

    it("prints what Google Cloud is asked to create, with what it computes unknown", () => {
        const documents = stdout.split("\nCloud resources' inputs (4):\n")[1].split("\n\nKubernetes objects")[0];
        assert.deepEqual(
            YAML.parseAllDocuments(documents).map((d) => d.toJS()),
            [
                {
                    accountId: "image-puller-dev",
                    description: "Pulls images for the Kubernetes Secret of Pulumi component regcred.",
                    displayName: "Image pulls",
                    project: "example-project-dev",
                },
                ...[
                    ["asia", "asia.gcr.io"],
                    ["asia-northeast1", "images"],
                ].map(([location, repository]) => ({
                    location,
                    member: "(known after apply)",
                    project: "example-project-dev",
                    repository,
                    role: "roles/artifactregistry.reader",
                })),
                { serviceAccountId: "(known after apply)" },
            ],
        );
    });

    it("prints each Secret's docker config decoded for review: every host and the key's username, each credential masked", () => {
        const documents = stdout.split("\nKubernetes objects (2):\n")[1].split("\n\nimagePullSecrets entries")[0];
        const entry = { username: "_json_key_base64", password: "[secret]", auth: "[secret]" };
        assert.deepEqual(
            YAML.parseAllDocuments(documents).map((d) => d.toJS()),
            ["team-a-dev", "team-b-dev"].map((namespace) => ({
                apiVersion: "v1",
                kind: "Secret",
                metadata: { name: "regcred", namespace, labels: ownerLabels("dev"), annotations: forced },
                data: {
                    ".dockerconfigjson": { auths: { "asia-northeast1-docker.pkg.dev": entry, "asia.gcr.io": entry } },
                },
                type: "kubernetes.io/dockerconfigjson",
            })),
        );
        assert.match(
            documents,
            /^# data shown decoded, for review: hosts and usernames as they are, every credential \[secret\]\.$/m,
        );
    });

    it("prints the readiness gate as a step that asks each host for the repositories it serves, without running it", () => {
        assert.deepEqual(
            section(
                "Readiness gate (1; before the Secrets take a new key, password or token, it is proved to sign in and pull as a kubelet will, and pulumi up waits; a preview or a plan asks nothing):",
            ),
            [
                "  regcred-pull-readiness  up to 600 s: asia.gcr.io: pull on asia/asia.gcr.io; asia-northeast1-docker.pkg.dev: pull on asia-northeast1/images",
            ],
        );
    });

    it("prints the one imagePullSecrets entry each ServiceAccount gets, without the provider's code", () => {
        assert.deepEqual(
            section("imagePullSecrets entries (2; each added alone by a guarded JSON patch, other entries kept):"),
            ["  team-a-dev/default  + regcred", "  team-b-dev/default  + regcred"],
        );
        assert.doesNotMatch(stdout, /__provider|exports\.handler/);
    });

    it("shows what only the cloud can know as unknown and secrets as masked, inventing nothing", () => {
        assert.deepEqual(section("Outputs:"), [
            "  dockerConfigJson: [secret]",
            "  keyName: (known after apply)",
            '  keyRotatesAfter: ""',
            '  namespaces: ["team-a-dev","team-b-dev"]',
            '  registries: ["asia.gcr.io","asia-northeast1-docker.pkg.dev"]',
            "  secretName: regcred",
            "  serviceAccountEmail: (known after apply)",
        ]);
        // The key is created during `pulumi up`: the plan stands in for it (tools/evaluate.ts) only so the
        // docker config's shape shows, and never prints the stand-in.
        assert.doesNotMatch(stdout, /iam\.gserviceaccount\.com|PRIVATE KEY|stand-in|_json_key:/);
    });
});

describe("npm run plan -- --stack prod", () => {
    it("plans an existing service account: no Account, one grant per repository, one attachment per (namespace, ServiceAccount)", () => {
        const { code, stdout } = plan("--stack", "prod");
        assert.equal(code, 0);
        const types = [
            ...stdout
                .split("\nResources (")[1]
                .split("\n\n")[0]
                .matchAll(/ (\S+:\S+:\S+)  /g),
        ].map((m) => m[1]);
        const count = (type: string) => types.filter((t) => t === type).length;
        assert.equal(types.length, 18);
        assert.equal(count("pulumi-nodejs:dynamic/registry-pull-secret:PullReadiness"), 1);
        assert.equal(count("pulumi-nodejs:dynamic/registry-pull-secret:KeyHandover"), 1);
        assert.equal(count("gcp:serviceaccount/account:Account"), 0);
        assert.equal(count("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"), 3);
        assert.equal(count("gcp:serviceaccount/key:Key"), 1);
        assert.equal(count("kubernetes:core/v1:Secret"), 3);
        assert.equal(
            count("pulumi-nodejs:dynamic/registry-pull-secret:SecretClaim"),
            1,
            "one claim for the 3 namespaces",
        );
        assert.equal(count("pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry"), 6);
        assert.match(
            stdout,
            /\n {2}serviceAccountEmail: image-puller@example-project-prod\.iam\.gserviceaccount\.com\n/,
        );
    });
});

describe("npm run plan for any registry's username and password", () => {
    it("shows the docker config's hosts and username, and the password nowhere (printed or written)", () => {
        const config = [
            "config:",
            "  registry-pull-secret:namespaces: [team-a]",
            "  registry-pull-secret:registries: [ghcr.io, registry.example.com:5000]",
            "  registry-pull-secret:registryUsername: octocat",
            "  registry-pull-secret:registryPassword: ghp-plan-test-password",
            "",
        ].join("\n");
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-out-"));
        const { code, stdout, stderr } = plan(
            "--stack",
            "ghcr",
            "--dir",
            projectWithStack("ghcr", config),
            "--out",
            out,
        );
        assert.equal(code, 0, stderr);
        const written = fs.readFileSync(path.join(out, "team-a_secret_regcred.yaml"), "utf8");
        const entry = { username: "octocat", password: "[secret]", auth: "[secret]" };
        for (const text of [stdout.split("\n---\n")[1].split("\n\n")[0], written]) {
            assert.deepEqual(YAML.parse(text).data, {
                ".dockerconfigjson": { auths: { "ghcr.io": entry, "registry.example.com:5000": entry } },
            });
        }
        const auth = Buffer.from("octocat:ghp-plan-test-password").toString("base64");
        for (const secret of ["ghp-plan-test-password", auth]) {
            assert.ok(!stdout.includes(secret) && !written.includes(secret), "the password appears in no form");
        }
    });
});

describe("npm run plan with the readiness gate turned off", () => {
    it("declares no gate and says, among the warnings, that Secrets may then hold a credential that cannot pull yet", () => {
        const config = [
            "config:",
            "  registry-pull-secret:namespaces: [team-a]",
            "  registry-pull-secret:registries: [registry.internal:5000]",
            "  registry-pull-secret:registryUsername: octocat",
            "  registry-pull-secret:registryPassword: ghp-plan-test-password",
            "  registry-pull-secret:readinessWait: false",
            "",
        ].join("\n");
        const { code, stdout, stderr } = plan("--stack", "private", "--dir", projectWithStack("private", config));
        assert.equal(code, 0, stderr);
        assert.doesNotMatch(stdout, /PullReadiness|Readiness gate/);
        assert.match(
            stdout,
            /\n {2}readiness\.wait is false: the Secrets take a new key or password without proof that it pulls; .* Keep it only for registries the machine running pulumi up cannot reach\.\n/,
        );
    });
});

describe("npm run plan -- --out DIR", () => {
    it("writes one YAML file per Kubernetes object, named after namespace, kind and name", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-out-"));
        const { code, stdout } = plan("--stack", "dev", "--out", out);
        assert.equal(code, 0);
        assert.match(stdout, /Wrote 2 Kubernetes object files to /);
        assert.deepEqual(fs.readdirSync(out).sort(), [
            "team-a-dev_secret_regcred.yaml",
            "team-b-dev_secret_regcred.yaml",
        ]);
        const secret = fs.readFileSync(path.join(out, "team-b-dev_secret_regcred.yaml"), "utf8");
        assert.match(secret, /^# kubernetes:core\/v1:Secret regcred\/team-b-dev\n/);
        const entry = { username: "_json_key_base64", password: "[secret]", auth: "[secret]" };
        assert.deepEqual(YAML.parse(secret), {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "regcred", namespace: "team-b-dev", labels: ownerLabels("dev"), annotations: forced },
            data: { ".dockerconfigjson": { auths: { "asia-northeast1-docker.pkg.dev": entry, "asia.gcr.io": entry } } },
            type: "kubernetes.io/dockerconfigjson",
        });
    });

    it("writes a stack with attachMode patch's ServiceAccountPatch as a .patch.yaml file", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-out-"));
        const dir = projectWithStack("patch", `${validConfig}  registry-pull-secret:attachMode: patch\n`);
        const { code, stdout, stderr } = plan("--stack", "patch", "--dir", dir, "--out", out);
        assert.equal(code, 0, stderr);
        assert.match(stdout, /imagePullSecrets entries \(0;/);
        assert.deepEqual(fs.readdirSync(out).sort(), [
            "team-a_secret_regcred.yaml",
            "team-a_serviceaccount_default.patch.yaml",
        ]);
        const patch = fs.readFileSync(path.join(out, "team-a_serviceaccount_default.patch.yaml"), "utf8");
        assert.match(
            patch,
            /^# kubernetes:core\/v1:ServiceAccountPatch regcred\/team-a\/default\n# A server-side apply patch/,
        );
        assert.deepEqual(YAML.parse(patch), {
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name: "default", namespace: "team-a" },
            imagePullSecrets: [{ name: "regcred" }],
        });
    });
});

describe("npm run plan with bad config", () => {
    const fails = (config: string) => plan("--stack", "bad", "--dir", projectWithStack("bad", config));

    it("the config it was given plans (the baseline the failures below change one key of)", () => {
        assert.equal(fails(validConfig).code, 0);
    });

    it("an undeclared key of the project (a typo of an optional key) exits 1 before planning, naming it and the nearest declared key", () => {
        const { code, stdout, stderr } = fails(`${validConfig}  registry-pull-secret:keyRotationDay: 30\n`);
        assert.equal(code, 1);
        assert.equal(stdout, "");
        assert.equal(
            stderr,
            "error: Pulumi.bad.yaml: registry-pull-secret:keyRotationDay is not declared in Pulumi.yaml, so the program never reads it; did you mean registry-pull-secret:keyRotationDays?\n",
        );
    });

    it("a typo in the project's namespace, or in a Kubernetes provider key, exits 1 with the fix", () => {
        for (const [line, expected] of [
            [
                "registry-pul-secret:keyRotationDays: 30",
                "error: Pulumi.bad.yaml: registry-pul-secret:keyRotationDays is in a config namespace nothing reads; did you mean registry-pull-secret:keyRotationDays?\n",
            ],
            [
                '"kubernetes:enableSecretMutabel": "true"',
                "error: Pulumi.bad.yaml: kubernetes:enableSecretMutabel is not a config key of the Kubernetes provider, so nothing reads it; did you mean kubernetes:enableSecretMutable?\n",
            ],
        ]) {
            const { code, stdout, stderr } = fails(`${validConfig}  ${line}\n`);
            assert.equal(code, 1, line);
            assert.equal(stdout, "");
            assert.equal(stderr, expected);
        }
    });

    it("a bad namespace exits 1 with the component's rule, naming the config key", () => {
        const { code, stdout, stderr } = fails(validConfig.replace("[team-a]", "[team-a, Team_B]"));
        assert.equal(code, 1);
        assert.equal(stdout, "");
        assert.equal(
            stderr,
            "error: Pulumi.bad.yaml: config registry-pull-secret:namespaces[1] must be an RFC 1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit (component argument namespaces[1])\n",
        );
    });

    it("a bad project id names registry-pull-secret:gcpProject, not the argument gcp.project", () => {
        const { code, stderr } = fails(validConfig.replace("example-project", "Example_Project"));
        assert.equal(code, 1);
        assert.match(
            stderr,
            /^error: Pulumi\.bad\.yaml: config registry-pull-secret:gcpProject must be a project id.*\(component argument gcp\.project\)\n$/,
        );
    });

    it("both serviceAccountId and serviceAccountEmail name both config keys", () => {
        const { code, stderr } = fails(
            `${validConfig}  registry-pull-secret:serviceAccountEmail: puller@example-project.iam.gserviceaccount.com\n`,
        );
        assert.equal(code, 1);
        assert.match(
            stderr,
            /config registry-pull-secret:serviceAccountId or registry-pull-secret:serviceAccountEmail: exactly one is required; both are set/,
        );
    });

    it("a repository that is not LOCATION/REPOSITORY names registry-pull-secret:repositories[0]", () => {
        const { code, stderr } = fails(validConfig.replace("[us/gcr.io]", "[gcr.io]"));
        assert.equal(code, 1);
        assert.match(stderr, /config registry-pull-secret:repositories\[0\] must be LOCATION\/REPOSITORY/);
    });

    it("a typo that replaces namespaces (docs/previews.md's example) exits 1 with the fix", () => {
        const { code, stdout, stderr } = fails(validConfig.replace("namespaces:", "namespace:"));
        assert.equal(code, 1);
        assert.equal(stdout, "");
        assert.equal(
            stderr,
            "error: Pulumi.bad.yaml: registry-pull-secret:namespace is not declared in Pulumi.yaml, so the program never reads it; did you mean registry-pull-secret:namespaces?\n",
        );
    });

    // A user's own project may declare keys without a default, which the Pulumi CLI then requires.
    const requiringNamespaces = (project: string) =>
        project.replace(/(\n  namespaces:\n(?: {4}.*\n)*?) {4}default: \[\]\n/, "$1");
    const missing =
        "error: Stack 'bad' is missing configuration value 'registry-pull-secret:namespaces' (declared in Pulumi.yaml without a default)";

    it("a missing required key exits 1 naming it, as the Pulumi CLI does", () => {
        const dir = projectWithStack("bad", validConfig.replace(/.*namespaces.*\n/, ""), requiringNamespaces);
        const { code, stderr } = plan("--stack", "bad", "--dir", dir);
        assert.equal(code, 1);
        assert.equal(stderr, `${missing}\n`);
    });

    it("a typo that replaces a required key names the typo and its fix in the missing-key error", () => {
        const dir = projectWithStack("bad", validConfig.replace("namespaces:", "namespace:"), requiringNamespaces);
        const { code, stdout, stderr } = plan("--stack", "bad", "--dir", dir);
        assert.equal(code, 1);
        assert.equal(stdout, "");
        assert.equal(
            stderr,
            `${missing}; Pulumi.bad.yaml: registry-pull-secret:namespace is not declared in Pulumi.yaml, so the program never reads it; did you mean registry-pull-secret:namespaces?\n`,
        );
    });

    it("neither gcpProject nor registryUsername exits 1 naming both config keys", () => {
        const { code, stderr } = fails(validConfig.replace(/.*gcpProject.*\n/, ""));
        assert.equal(code, 1);
        assert.equal(
            stderr,
            "error: Pulumi.bad.yaml: config registry-pull-secret:gcpProject or registry-pull-secret:registryUsername: exactly one is required; neither is set (registry-pull-secret:gcpProject for a Google Cloud credential: a service-account key, the GKE node pool's account or short-lived tokens; registry-pull-secret:registryUsername for a username and password of any registry) (component argument gcp)\n",
        );
    });

    it("a value of the wrong declared type exits 1 naming the key", () => {
        const { code, stderr } = fails(validConfig.replace("[team-a]", "team-a"));
        assert.equal(code, 1);
        assert.equal(
            stderr,
            "error: Stack 'bad' configuration value 'registry-pull-secret:namespaces' must be of type 'array'\n",
        );
    });

    it("an encrypted value exits 1: the plan cannot decrypt, and says to use pulumi preview", () => {
        const { code, stderr } = fails(`${validConfig}  registry-pull-secret:email:\n    secure: v1:abc\n`);
        assert.equal(code, 1);
        assert.match(
            stderr,
            /'registry-pull-secret:email' is encrypted \(secure:\); the offline plan cannot decrypt it: use pulumi preview/,
        );
    });
});

describe("npm run plan command line", () => {
    it("without --stack exits 2 and lists the stacks", () => {
        const { code, stderr } = plan();
        assert.equal(code, 2);
        assert.match(stderr, /^error: --stack is required; stacks here: dev, eks, gke, gke-node, prod\nusage: /);
    });

    it("an unknown stack exits 1 and lists the stacks", () => {
        const { code, stderr } = plan("--stack", "staging");
        assert.equal(code, 1);
        assert.equal(stderr, "error: no stack file Pulumi.staging.yaml; stacks here: dev, eks, gke, gke-node, prod\n");
    });
});

describe("npm run plan for the keyless stacks", () => {
    const gke = plan("--stack", "gke");
    const eks = plan("--stack", "eks");
    // The sample program's component is "regcred" in project "registry-pull-secret".
    const gkeRefresher = defaultRefresherNamespace("registry-pull-secret", "gke", "regcred");

    it("plans both sample stacks without a key: no Key resource, no key username, no key file field", () => {
        for (const { code, stdout, stderr } of [gke, eks]) {
            assert.equal(code, 0, stderr);
            for (const marker of [
                "gcp:serviceaccount/key:Key",
                "_json_key",
                "private_key",
                "kubernetes:core/v1:Secret",
            ]) {
                assert.ok(!stdout.includes(marker), `no ${marker}`);
            }
        }
    });

    it("gke: grants to the refresher's Workload Identity principal, its Role names the one Secret, the Secrets are listed", () => {
        assert.ok(
            gke.stdout.includes(
                `member: principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/example-project-gke.svc.id.goog/subject/ns/${gkeRefresher}/sa/token-refresher\n`,
            ),
        );
        const roles = gke.stdout
            .split("\n---\n")
            .filter((d) => d.startsWith("# kubernetes:rbac.authorization.k8s.io/v1:Role "))
            .map((d) => YAML.parse(d))
            .filter((role) => role.metadata.namespace !== gkeRefresher);
        assert.equal(roles.length, 2, "one per target namespace, besides the refresher's own");
        for (const role of roles) {
            assert.deepEqual(role.rules, [
                { apiGroups: [""], resources: ["secrets"], resourceNames: ["regcred"], verbs: ["get", "patch"] },
            ]);
        }
        assert.ok(
            gke.stdout.includes(
                [
                    "Secrets the token refresher writes (2; Pulumi creates each with an empty docker config and never writes its data):",
                    `  storefront/regcred  written by ${gkeRefresher}/token-refresher`,
                    `  batch/regcred  written by ${gkeRefresher}/token-refresher`,
                ].join("\n"),
            ),
        );
        assert.match(
            gke.stdout,
            /\n {2}regcred-token-refresher {2}the refresher, in the cluster, before it writes its first token: asia-northeast1-docker\.pkg\.dev: pull on asia-northeast1\/images\n/,
            "the plan shows the refresher's own gate",
        );
    });

    it("gke: warns that every GKE cluster of the project shares the refresher's principal, and that its image is not pinned by digest", () => {
        assert.match(gke.stdout, /\nWarnings \(2\):\n/);
        assert.ok(
            gke.stdout.includes(
                `gcp.credential "accessToken" on GKE: the refresher's principal (pool PROJECT.svc.id.goog, namespace "${gkeRefresher}", ServiceAccount "token-refresher") names no cluster. Every GKE cluster with Workload Identity in gcp.project shares it`,
            ),
        );
        assert.match(gke.stdout, /gcp\.refresher\.image "node:24-alpine" is not pinned by digest/);
    });

    it("eks: the provider is declared here (its id is in the subject), so only the unpinned image is warned about", () => {
        assert.match(eks.stdout, /\nWarnings \(1\):\n  gcp\.refresher\.image "node:24-alpine" is not pinned by digest/);
        assert.match(eks.stdout, /google\.subject: '"eks-prod-oidc:" \+ assertion\.sub'/);
    });

    const shipped = (file: string) =>
        fs
            .readFileSync(
                path.join(repo, "bin/components", file === "token-refresher.js" ? "refresher" : "rules", file),
                "utf8",
            )
            .replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n");
    const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

    it("gke: the plan shows the refresher's code as its size and sha256, its config in full", () => {
        const configMap = gke.stdout.split("\n---\n").find((d) => d.startsWith("# kubernetes:core/v1:ConfigMap "))!;
        const data = YAML.parse(configMap).data as Record<string, string>;
        for (const file of [
            "token-refresher.js",
            "docker-config.js",
            "ownership.js",
            "pull-proof.js",
            "readiness.js",
        ]) {
            const code = shipped(file);
            assert.equal(
                data[file],
                `(code: ${Buffer.byteLength(code)} bytes, sha256 ${sha256(code)}; --out DIR writes the full text)`,
            );
        }
        assert.deepEqual(JSON.parse(data["config.json"]).identity, { source: "gkeMetadata" });
        // What made the keyless plan hard to review: about 800 lines, most of them the code (about 325 now,
        // 18 of them the volume items that put each file at its path under components/).
        assert.ok(gke.stdout.split("\n").length < 340, `${gke.stdout.split("\n").length} lines`);
    });

    it("gke: --out writes the ConfigMap with the refresher's code in full, as the cluster gets it", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-out-"));
        const { code, stderr } = plan("--stack", "gke", "--out", out);
        assert.equal(code, 0, stderr);
        // The ConfigMap is named after its digest (token-refresher-<10 hex digits>), in the refresher's namespace.
        const [file] = fs.readdirSync(out).filter((f) => f.startsWith(`${gkeRefresher}_configmap_token-refresher-`));
        const data = YAML.parse(fs.readFileSync(path.join(out, file), "utf8")).data as Record<string, string>;
        assert.equal(data["token-refresher.js"], shipped("token-refresher.js"));
        assert.equal(data["docker-config.js"], shipped("docker-config.js"));
        assert.equal(data["ownership.js"], shipped("ownership.js"));
    });

    it("gke: dependencies name each resource with its kind, once, where several kinds share a name", () => {
        const deployment = gke.stdout
            .split("\n")
            .find((line) => /^ +\d+\. kubernetes:apps\/v1:Deployment /.test(line))!;
        assert.equal(
            deployment,
            "  4. kubernetes:apps/v1:Deployment  regcred-token-refresher  (after ConfigMap regcred-token-refresher, Namespace regcred-token-refresher, RepositoryIamMember regcred/reader/asia-northeast1/images, Role regcred-token-refresher, Role regcred/batch/token-refresher, Role regcred/storefront/token-refresher, RoleBinding regcred-token-refresher, RoleBinding regcred/batch/token-refresher, RoleBinding regcred/storefront/token-refresher, ServiceAccount regcred-token-refresher)",
        );
    });

    it("eks: declares the pool and OIDC provider, and the refresher impersonates the reader account", () => {
        assert.match(eks.stdout, /gcp:iam\/workloadIdentityPool:WorkloadIdentityPool  regcred-pool\n/);
        assert.match(eks.stdout, /issuerUri: https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\//);
        assert.match(eks.stdout, /role: roles\/iam\.workloadIdentityUser\n/);
        assert.match(
            eks.stdout,
            /member: serviceAccount:image-puller@example-project-prod\.iam\.gserviceaccount\.com\n/,
        );
    });

    it("gke-node (the sample stack: no namespaces, no registries): warns that every pod on those nodes can pull, and declares only the grant", () => {
        const { code, stdout, stderr } = plan("--stack", "gke-node");
        assert.equal(code, 0, stderr);
        assert.equal(stderr, "");
        assert.match(
            stdout,
            /\nWarnings \(1\):\n  gcp\.credential "gkeNode": EVERY pod on the nodes that run as gcp\.serviceAccountEmail can pull/,
        );
        assert.match(
            stdout,
            /\nResources \(2\):\n {2}registry-pull-secret:index:RegistryPullSecret {2}regcred\n {2}└─ gcp:artifactregistry\/repositoryIamMember:RepositoryIamMember {2}regcred\/reader\/asia-northeast1\/images\n\n/,
        );
        assert.match(stdout, /\nmember: serviceAccount:123456789012-compute@developer\.gserviceaccount\.com\n/);
        assert.match(stdout, /\nDependency order \(1 resource in 1 step; /);
        assert.match(stdout, /\nKubernetes objects \(0\):\n/);
        assert.match(stdout, /\n {2}namespaces: \[\]\n {2}registries: \[\]\n/);
    });

    it("gke-node with namespaces set exits 1: gkeNode declares no Secret, so the key is refused by name", () => {
        const config = fs.readFileSync(path.join(repo, "Pulumi.gke-node.yaml"), "utf8");
        const dir = projectWithStack("gke-node", `${config}  registry-pull-secret:namespaces: [team-a]\n`);
        const { code, stderr } = plan("--stack", "gke-node", "--dir", dir);
        assert.equal(code, 1);
        assert.match(
            stderr,
            /^error: Pulumi\.gke-node\.yaml: config registry-pull-secret:namespaces cannot be given with registry-pull-secret:credential "gkeNode": the nodes pull with their own service account, so no Secret is declared in any namespace; leave namespaces out/,
        );
    });

    it("a non-https issuer exits 1 naming registry-pull-secret:federationIssuerUri", () => {
        const config = fs
            .readFileSync(path.join(repo, "Pulumi.eks.yaml"), "utf8")
            .replace(/federationIssuerUri: https:/, "federationIssuerUri: http:");
        const { code, stderr } = plan("--stack", "eks", "--dir", projectWithStack("eks", config));
        assert.equal(code, 1);
        assert.match(
            stderr,
            /^error: Pulumi\.eks\.yaml: config registry-pull-secret:federationIssuerUri must be an https:\/\/ URL: Google accepts OIDC issuers over TLS only \(component argument gcp\.federation\.issuerUri\)\n$/,
        );
    });
});
