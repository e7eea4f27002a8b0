/**
 * The graphs of the keyless credentials under Pulumi's mocks: `gcp.credential: "gkeNode"` and
 * `"accessToken"` (GKE Workload Identity, federation declared or existing, impersonation). Which
 * resources, in which order, that no key exists anywhere, and that the refresher's RBAC names its
 * Secret.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { claimWarning, resolve, startMocks, type Registration } from "../support/mocks";
const registrations = startMocks();
import { RegistryPullSecret, type GoogleCloudCredentialArgs, type RegistryPullSecretArgs } from "../../components";
import type { RefresherConfig } from "../../components/refresher/token-refresher";
import { refresherFiles } from "../../components/refresher/token-refresher-deployment";
import { defaultRefresherNamespace } from "../../components/names";
import { ownerIdOf } from "../../components/rules/ownership";
import { registeredBy } from "../support/component";

const types = {
    grant: "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    key: "gcp:serviceaccount/key:Key",
    account: "gcp:serviceaccount/account:Account",
    pool: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
    provider: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
    impersonation: "gcp:serviceaccount/iAMMember:IAMMember",
    namespace: "kubernetes:core/v1:Namespace",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    configMap: "kubernetes:core/v1:ConfigMap",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    deployment: "kubernetes:apps/v1:Deployment",
    refreshedSecret: "pulumi-nodejs:dynamic/registry-pull-secret:RefreshedSecret",
    attachment: "pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry",
    secret: "kubernetes:core/v1:Secret",
};

const repo = path.resolve(__dirname, "..", "..");
const repositories = [{ location: "asia-northeast1", repository: "images" }];
const number = "123456789012";
const pools = `//iam.googleapis.com/projects/${number}/locations/global/workloadIdentityPools`;

function args(
    gcp: Partial<GoogleCloudCredentialArgs>,
    rest: Partial<RegistryPullSecretArgs> = {},
): RegistryPullSecretArgs {
    return {
        namespaces: ["team-a", "team-b"],
        registries: ["asia-northeast1-docker.pkg.dev"],
        gcp: { project: "example-project", repositories, ...gcp },
        ...rest,
    };
}

async function children(name: string, a: RegistryPullSecretArgs) {
    const component = new RegistryPullSecret(name, a);
    const { children } = await registeredBy(component, registrations);
    return { component, children };
}

const ofType = (list: Registration[], type: string) => list.filter((r) => r.type === type);
const one = (list: Registration[], type: string) => {
    const found = ofType(list, type);
    assert.equal(found.length, 1, `one ${type}`);
    return found[0];
};
const urnsOf = (list: Registration[]) => list.map((r) => r.urn).sort();

/** Key material in any form: the Key resource type, key usernames, key file fields, PEM. */
function assertNoKeyAnywhere(list: Registration[]) {
    assert.equal(ofType(list, types.key).length, 0, "no gcp:serviceaccount/key:Key");
    assert.equal(ofType(list, types.account).length, 0, "no Google service account is created");
    const text = JSON.stringify(list.map((r) => ({ ...r, inputs: { ...r.inputs, __provider: undefined } })));
    for (const marker of ["_json_key", "private_key", "privateKey", "BEGIN PRIVATE KEY", "existingKey"]) {
        assert.ok(!text.includes(marker), `no ${marker} in any input`);
    }
}

describe('gcp.credential "gkeNode"', () => {
    it("declares only the reader grants, to the node pool's service account: no key, no Secret, no attachment", async () => {
        const email = "gke-nodes@example-project.iam.gserviceaccount.com";
        // What its users write: no namespaces and no registries, since nothing goes into the cluster.
        const { component, children: list } = await children("nodes", {
            gcp: {
                project: "example-project",
                credential: "gkeNode",
                serviceAccountEmail: email,
                repositories: [...repositories, { location: "us", repository: "gcr.io" }],
            },
        });
        assert.deepEqual(
            list.map((r) => [r.type, r.name]),
            [
                [types.grant, "nodes/reader/asia-northeast1/images"],
                [types.grant, "nodes/reader/us/gcr.io"],
            ],
        );
        for (const grant of list) {
            assert.equal(grant.inputs.member, `serviceAccount:${email}`);
            assert.equal(grant.inputs.role, "roles/artifactregistry.reader");
        }
        assertNoKeyAnywhere(list);
        assert.equal((await resolve(component.serviceAccountEmail)).value, email);
        assert.equal((await resolve(component.secretName)).value, "");
        assert.deepEqual((await resolve(component.namespaces)).value, []);
        assert.deepEqual((await resolve(component.registries)).value, []);
        assert.equal((await resolve(component.dockerConfigJson)).value, "");
    });

    it("warns that every pod on those nodes can pull, in any namespace", () => {
        claimWarning(
            /^gcp\.credential "gkeNode": EVERY pod on the nodes that run as gcp\.serviceAccountEmail can pull/,
        );
    });
});

/** The warning a preview shows for the default refresher image (docs/security.md#supply-chain). */
const unpinnedImage = /^gcp\.refresher\.image "node:24-alpine" is not pinned by digest/;

describe('gcp.credential "accessToken" on GKE (Workload Identity)', async () => {
    const { component, children: list } = await children(
        "gke",
        args({ credential: "accessToken", projectNumber: number }, { serviceAccounts: ["default", "deployer"] }),
    );
    // The mocks run project "registry-pull-secret", stack "test".
    const refresherNamespace = defaultRefresherNamespace("registry-pull-secret", "test", "gke");
    const owner = ownerIdOf(
        "urn:pulumi:test::registry-pull-secret::registry-pull-secret:index:RegistryPullSecret::gke",
    );
    const principal = `principal:${pools}/example-project.svc.id.goog/subject/ns/${refresherNamespace}/sa/token-refresher`;

    it("derives the refresher's namespace from the component (name, stack, project): an RFC 1123 label of at most 63", () => {
        assert.match(refresherNamespace, /^gke-refresher-[0-9a-f]{8}$/);
        assert.deepEqual((one(list, types.namespace).inputs.metadata as any).name, refresherNamespace);
    });

    it("labels the refresher's namespace for Pod Security restricted", () => {
        assert.deepEqual((one(list, types.namespace).inputs.metadata as any).labels, {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
        });
    });

    it("declares grants to the refresher's principal, its namespace, code, Secrets, RBAC, Deployment and attachments", () => {
        // Registration order follows when inputs resolve; the order that matters is the dependencies' (below).
        assert.deepEqual(
            list.map((r) => [r.type, r.name]).sort(),
            [
                [types.grant, "gke/reader/asia-northeast1/images"],
                [types.namespace, "gke-token-refresher"],
                [types.serviceAccount, "gke-token-refresher"],
                [types.role, "gke-token-refresher"],
                [types.roleBinding, "gke-token-refresher"],
                [types.refreshedSecret, "gke/team-a"],
                [types.role, "gke/team-a/token-refresher"],
                [types.roleBinding, "gke/team-a/token-refresher"],
                [types.refreshedSecret, "gke/team-b"],
                [types.role, "gke/team-b/token-refresher"],
                [types.roleBinding, "gke/team-b/token-refresher"],
                [types.configMap, "gke-token-refresher"],
                [types.deployment, "gke-token-refresher"],
                [types.attachment, "gke/team-a/default"],
                [types.attachment, "gke/team-a/deployer"],
                [types.attachment, "gke/team-b/default"],
                [types.attachment, "gke/team-b/deployer"],
            ].sort(),
        );
        assert.equal(one(list, types.grant).inputs.member, principal);
        assertNoKeyAnywhere(list);
        assert.equal(ofType(list, types.secret).length, 0, "no kubernetes Secret whose inputs hold data");
    });

    it("gives the refresher get and patch on exactly its Secret in each namespace, and nothing cluster-wide", () => {
        for (const namespace of ["team-a", "team-b"]) {
            const role = list.find((r) => r.type === types.role && r.name === `gke/${namespace}/token-refresher`)!;
            assert.deepEqual(role.inputs.metadata, { name: `token-refresher-${refresherNamespace}`, namespace });
            assert.deepEqual(role.inputs.rules, [
                { apiGroups: [""], resources: ["secrets"], resourceNames: ["regcred"], verbs: ["get", "patch"] },
            ]);
            const binding = list.find(
                (r) => r.type === types.roleBinding && r.name === `gke/${namespace}/token-refresher`,
            )!;
            assert.deepEqual(binding.inputs.roleRef, {
                apiGroup: "rbac.authorization.k8s.io",
                kind: "Role",
                name: `token-refresher-${refresherNamespace}`,
            });
            assert.deepEqual(binding.inputs.subjects, [
                { kind: "ServiceAccount", name: "token-refresher", namespace: refresherNamespace },
            ]);
        }
        assert.ok(!registrations.some((r) => /ClusterRole/.test(r.type)), "no ClusterRole or ClusterRoleBinding");
    });

    it("lets the refresher, in its own namespace only, read its Deployment by name and create Events (to report broken Secrets)", () => {
        const role = list.find((r) => r.type === types.role && r.name === "gke-token-refresher")!;
        assert.deepEqual(role.inputs.metadata, { name: "token-refresher", namespace: refresherNamespace });
        assert.deepEqual(role.inputs.rules, [
            { apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["token-refresher"], verbs: ["get"] },
            { apiGroups: [""], resources: ["events"], verbs: ["create"] },
        ]);
        const binding = list.find((r) => r.type === types.roleBinding && r.name === "gke-token-refresher")!;
        assert.deepEqual(binding.inputs.subjects, [
            { kind: "ServiceAccount", name: "token-refresher", namespace: refresherNamespace },
        ]);
    });

    it("declares each Secret without any data: Pulumi never holds a token or a placeholder to write back", () => {
        for (const secret of ofType(list, types.refreshedSecret)) {
            const { __provider, ...inputs } = secret.inputs;
            assert.deepEqual(Object.keys(inputs).sort(), ["namespace", "owner", "secretName", "writer"]);
            assert.equal(inputs.writer, `${refresherNamespace}/token-refresher`);
            assert.equal(inputs.owner, owner, "the component's owner id, recorded on the Secret");
            assert.equal(typeof __provider, "string");
        }
    });

    it("orders the graph: grants, RBAC and Secrets before the Deployment; every attachment after the Deployment", () => {
        const deployment = one(list, types.deployment);
        const configMap = one(list, types.configMap);
        const secrets = ofType(list, types.refreshedSecret);
        for (const needed of [
            ...ofType(list, types.grant),
            ...ofType(list, types.role),
            ...ofType(list, types.roleBinding),
            configMap,
        ]) {
            assert.ok(deployment.dependencies.includes(needed.urn), `Deployment waits for ${needed.name}`);
        }
        assert.deepEqual(
            urnsOf(secrets).filter((u) => configMap.dependencies.includes(u)),
            urnsOf(secrets),
            "the config names the declared Secrets",
        );
        for (const attachment of ofType(list, types.attachment)) {
            assert.ok(
                attachment.dependencies.includes(deployment.urn),
                `${attachment.name} waits for the refresher's readiness`,
            );
            const namespace = attachment.name.slice("gke/".length).split("/")[0];
            const secret = secrets.find((s) => s.name === `gke/${namespace}`)!;
            assert.ok(attachment.dependencies.includes(secret.urn), `${attachment.name} lists its namespace's Secret`);
        }
    });

    it("runs the shipped refresher, encoder, ownership and pull-proof rules from an immutable ConfigMap named after their digest, with a config naming every Secret, what its first token must pull from, the owner and the metadata server", () => {
        const configMap = one(list, types.configMap);
        const data = configMap.inputs.data as Record<string, string>;
        assert.deepEqual(Object.keys(data).sort(), [
            "config.json",
            "docker-config.js",
            "ownership.js",
            "pull-proof.js",
            "readiness.js",
            "token-refresher.js",
        ]);
        assert.equal(configMap.inputs.immutable, true);
        const digest = createHash("sha256")
            .update(JSON.stringify(Object.entries(data).sort(([a], [b]) => a.localeCompare(b))))
            .digest("hex");
        assert.deepEqual(configMap.inputs.metadata, {
            name: `token-refresher-${digest.slice(0, 10)}`,
            namespace: refresherNamespace,
        });
        for (const file of refresherFiles) {
            const shipped = fs.readFileSync(path.join(repo, "bin/components", file), "utf8");
            assert.equal(
                data[path.basename(file)],
                shipped.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n"),
                `${file} is the compiled file`,
            );
        }
        assert.match(
            data["token-refresher.js"],
            /require\("\.\.\/rules\/docker-config"\)/,
            "the refresher uses the one encoder",
        );
        const config = JSON.parse(data["config.json"]) as RefresherConfig;
        assert.deepEqual(config, {
            targets: [
                { namespace: "team-a", secretName: "regcred" },
                { namespace: "team-b", secretName: "regcred" },
            ],
            registries: ["asia-northeast1-docker.pkg.dev"],
            probes: [
                {
                    host: "asia-northeast1-docker.pkg.dev",
                    repositories: [{ name: "asia-northeast1/images", path: "example-project/images" }],
                },
            ],
            identity: { source: "gkeMetadata" },
            port: 8080,
            owner,
            deployment: { namespace: refresherNamespace, name: "token-refresher" },
        });
    });

    it("proves the first token through a listed mirror (readiness.mirrorOf) for the repositories its Google host serves, and proves nothing with readiness.wait false", async () => {
        const configOf = async (name: string, readiness: RegistryPullSecretArgs["readiness"]) => {
            const { children: mine } = await children(
                name,
                args(
                    { credential: "accessToken", projectNumber: number },
                    { registries: ["mirror.example.com:5000"], readiness },
                ),
            );
            return JSON.parse((one(mine, types.configMap).inputs.data as Record<string, string>)["config.json"]);
        };
        const mirrored = await configOf("mirrored", {
            mirrorOf: { "mirror.example.com:5000": "asia-northeast1-docker.pkg.dev" },
        });
        assert.deepEqual(mirrored.probes, [
            {
                host: "mirror.example.com:5000",
                repositories: [{ name: "asia-northeast1/images", path: "example-project/images" }],
            },
        ]);
        assert.deepEqual((await configOf("unproved", { wait: false })).probes, []);
        claimWarning(/^readiness\.wait is false: the refresher writes its first token without proof that it pulls; /);
        for (const name of ["mirrored", "unproved"]) {
            claimWarning(new RegExp(`^gcp\\.credential "accessToken" on GKE: .*namespace "${name}-refresher-`));
            claimWarning(unpinnedImage);
        }
    });

    it("runs one non-root replica on node:24-alpine that is ready only through /readyz, on Workload Identity nodes", () => {
        const deployment = one(list, types.deployment);
        const spec = deployment.inputs.spec as any;
        assert.equal(spec.replicas, 1);
        assert.deepEqual(spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
        const pod = spec.template.spec;
        assert.equal(pod.serviceAccountName, "token-refresher");
        assert.deepEqual(pod.nodeSelector, { "iam.gke.io/gke-metadata-server-enabled": "true" });
        const [container] = pod.containers;
        assert.equal(container.image, "node:24-alpine");
        assert.deepEqual(container.command, ["node", "/refresher/refresher/token-refresher.js"]);
        assert.deepEqual(container.readinessProbe.httpGet, { path: "/readyz", port: "readiness" });
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.equal(pod.securityContext.runAsNonRoot, true);
        // The ConfigMap's flat keys go back to the paths the compiled requires name (../rules/...).
        assert.deepEqual(pod.volumes[0], {
            name: "code",
            configMap: {
                name: (one(list, types.configMap).inputs.metadata as any).name,
                items: [
                    { key: "token-refresher.js", path: "refresher/token-refresher.js" },
                    { key: "docker-config.js", path: "rules/docker-config.js" },
                    { key: "ownership.js", path: "rules/ownership.js" },
                    { key: "pull-proof.js", path: "rules/pull-proof.js" },
                    { key: "readiness.js", path: "rules/readiness.js" },
                    { key: "config.json", path: "config.json" },
                ],
            },
        });
    });

    it("records the component's owner id beside every imagePullSecrets entry it adds", () => {
        for (const attachment of ofType(list, types.attachment)) assert.equal(attachment.inputs.owner, owner);
    });

    it("outputs no docker config and no service account: Pulumi never holds the token", async () => {
        assert.equal((await resolve(component.dockerConfigJson)).value, "");
        assert.equal((await resolve(component.serviceAccountEmail)).value, "");
        assert.equal((await resolve(component.secretName)).value, "regcred");
    });

    it("warns that every GKE cluster of the project shares the refresher's principal, and that its image is not pinned", () => {
        claimWarning(
            new RegExp(
                `^gcp\\.credential "accessToken" on GKE: .*namespace "${refresherNamespace}".* names no cluster`,
            ),
        );
        claimWarning(unpinnedImage);
    });
});

describe('gcp.credential "accessToken" with Workload Identity Federation', () => {
    it("declares a pool and an OIDC provider admitting only the refresher; grants to its federated principal", async () => {
        const { children: list } = await children(
            "eks",
            args({
                credential: "accessToken",
                projectNumber: number,
                federation: {
                    poolId: "eks-pool",
                    providerId: "eks-oidc",
                    issuerUri: "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE",
                    jwksJson: '{"keys":[]}',
                },
                refresher: { namespace: "pull-tokens", image: "registry.example.com/node@sha256:" + "a".repeat(64) },
            }),
        );
        assertNoKeyAnywhere(list);
        const pool = one(list, types.pool);
        assert.equal(pool.name, "eks-pool");
        assert.equal(pool.inputs.workloadIdentityPoolId, "eks-pool");
        const provider = one(list, types.provider);
        assert.deepEqual(provider.inputs.oidc, {
            issuerUri: "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE",
            jwksJson: '{"keys":[]}',
        });
        assert.equal(
            provider.inputs.attributeCondition,
            'assertion.sub == "system:serviceaccount:pull-tokens:token-refresher"',
        );
        // The provider (one per cluster) goes into the subject: another provider of the pool never yields this principal.
        assert.deepEqual(provider.inputs.attributeMapping, { "google.subject": '"eks-oidc:" + assertion.sub' });
        assert.ok(provider.dependencies.includes(pool.urn));
        const grant = one(list, types.grant);
        assert.equal(
            grant.inputs.member,
            `principal:${pools}/eks-pool/subject/eks-oidc:system:serviceaccount:pull-tokens:token-refresher`,
        );
        assert.ok(grant.dependencies.includes(pool.urn), "the grant waits for the pool");
        const audience = `${pools}/eks-pool/providers/eks-oidc`;
        const config = JSON.parse((one(list, types.configMap).inputs.data as any)["config.json"]) as RefresherConfig;
        assert.deepEqual(config.identity, {
            source: "federation",
            audience,
            tokenFile: "/var/run/secrets/google-federation/token",
        });
        const pod = (one(list, types.deployment).inputs.spec as any).template.spec;
        assert.equal(pod.nodeSelector, undefined);
        assert.equal(pod.containers[0].image, "registry.example.com/node@sha256:" + "a".repeat(64));
        assert.deepEqual(pod.volumes[1].projected.sources[0].serviceAccountToken, {
            audience,
            expirationSeconds: 3600,
            path: "token",
        });
        assert.ok(
            one(list, types.configMap).dependencies.includes(one(list, types.provider).urn),
            "the audience comes from the provider",
        );
        assert.equal(
            one(list, types.namespace).inputs.metadata && (one(list, types.namespace).inputs.metadata as any).name,
            "pull-tokens",
        );
    });

    it("takes an existing pool and provider by id: declares neither", async () => {
        const { children: list } = await children(
            "aks",
            args({
                credential: "accessToken",
                projectNumber: number,
                federation: { poolId: "shared-pool", providerId: "aks-oidc", existing: true },
                refresher: { namespace: "aks-pull-tokens" },
            }),
        );
        assert.equal(ofType(list, types.pool).length + ofType(list, types.provider).length, 0);
        assert.equal(
            one(list, types.grant).inputs.member,
            `principal:${pools}/shared-pool/subject/system:serviceaccount:aks-pull-tokens:token-refresher`,
        );
        const config = JSON.parse((one(list, types.configMap).inputs.data as any)["config.json"]) as RefresherConfig;
        assert.equal((config.identity as { audience: string }).audience, `${pools}/shared-pool/providers/aks-oidc`);
        // Every provider of that pool that maps google.subject = assertion.sub yields the same principal.
        claimWarning(
            /^gcp\.federation\.existing: .*"system:serviceaccount:aks-pull-tokens:token-refresher".*pool "shared-pool"/,
        );
        claimWarning(unpinnedImage);
    });

    it("with serviceAccountEmail: the principal may impersonate it (workloadIdentityUser), the repositories are granted to the account", async () => {
        const email = "puller@example-project.iam.gserviceaccount.com";
        const { component, children: list } = await children(
            "imp",
            args({
                credential: "accessToken",
                projectNumber: number,
                serviceAccountEmail: email,
                refresher: { namespace: "imp-tokens" },
            }),
        );
        assertNoKeyAnywhere(list);
        const impersonation = one(list, types.impersonation);
        assert.deepEqual(
            { ...impersonation.inputs },
            {
                serviceAccountId: `projects/example-project/serviceAccounts/${email}`,
                role: "roles/iam.workloadIdentityUser",
                member: `principal:${pools}/example-project.svc.id.goog/subject/ns/imp-tokens/sa/token-refresher`,
            },
        );
        assert.equal(one(list, types.grant).inputs.member, `serviceAccount:${email}`);
        const deployment = one(list, types.deployment);
        assert.ok(deployment.dependencies.includes(impersonation.urn));
        const config = JSON.parse((one(list, types.configMap).inputs.data as any)["config.json"]) as RefresherConfig;
        assert.equal(config.impersonate, email);
        assert.equal((await resolve(component.serviceAccountEmail)).value, email);
        claimWarning(/^gcp\.credential "accessToken" on GKE: .*namespace "imp-tokens"/);
        claimWarning(unpinnedImage);
    });
});

describe("the shipped refresher", () => {
    it("is compiled from the current source (bin/components matches components/)", async () => {
        const ts = (await import("typescript")).default;
        const parsed = ts.getParsedCommandLineOfConfigFile(
            path.join(repo, "tsconfig.build.json"),
            {},
            {
                ...ts.sys,
                onUnRecoverableConfigFileDiagnostic: () => undefined,
            },
        )!;
        for (const file of ["refresher/token-refresher", "rules/docker-config", "rules/ownership"]) {
            const source = fs.readFileSync(path.join(repo, "components", `${file}.ts`), "utf8");
            const { outputText } = ts.transpileModule(source, {
                compilerOptions: { ...parsed.options, sourceMap: false, declaration: false },
                fileName: `${file}.ts`,
            });
            const shipped = fs.readFileSync(path.join(repo, "bin/components", `${file}.js`), "utf8");
            assert.equal(
                shipped.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n"),
                outputText.endsWith("\n") ? outputText : `${outputText}\n`,
                `bin/components/${file}.js is stale: run npm run build`,
            );
        }
    });
});
