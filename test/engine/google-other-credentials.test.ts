/**
 * The other Google credentials with the REAL engine against the Google Cloud provider DOUBLE, as in
 * test/engine/google-key.test.ts: the repository's sample program in a checkout after `npm ci`, each
 * stack made with `pulumi stack init` and driven by the `pulumi` CLI as a user types it:
 * `existingKey` (a key someone else issued, set with `pulumi config set --secret existingKey <
 * key.json`), `gkeNode` (grants only), and `accessToken` from the repository's own `Pulumi.gke.yaml`
 * (GKE Workload Identity) and `Pulumi.eks.yaml` (a pool and an OIDC provider, impersonating an
 * existing reader account). One stack each, each brought up, checked and destroyed in turn.
 *
 * The grants are proven by pulling through the Artifact Registry front with what each identity
 * would really present: the key itself, a node's metadata-server token, the refresher's token from
 * the GKE metadata server, or an STS token exchanged for an impersonated one (the token doubles of
 * test/support/google-token-doubles.ts, the IAM Credentials double trusting only principals that
 * hold a token role on the account in Google's file). The refresher's pod itself does not run here
 * (this cluster runs no pods; test/engine/refresher-in-cluster.test.ts runs it): `pulumi up` would
 * wait for its Deployment to turn ready and fail. So the two `accessToken` stacks are previewed and
 * destroyed with the CLI, and brought up through the Automation API, the one way to give the
 * sample program a transformation that marks the Deployment `pulumi.com/skipAwait`.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type { RegistryPullSecretOptions } from "../../components";
import { defaultRefresherNamespace } from "../../components/names";
import {
    assertStateHoldsNone,
    clusterState,
    dockerConfigOf,
    plannedResources,
    watchDockerConfigs,
} from "../support/engine-checks";
import { holdsRole, issueKey } from "../support/google-cloud-double/google-apis";
import { tokenRoles } from "../support/google-cloud-double/rules";
import {
    changeGoogleCloud,
    googleResources,
    newProject,
    newServiceAccount,
    type GoogleCloud,
} from "../support/google-cloud-double/state";
import { engineTestDelays, slowPropagation } from "../support/google-cloud-double/propagation";
import { issuedBy } from "../support/artifact-registry-front";
import { startGoogleEngine, type GoogleEngine } from "../support/google-engine";
import {
    startIamCredentialsDouble,
    startMetadataServerDouble,
    startStsDouble,
    type TokenDouble,
} from "../support/google-token-doubles";
import { changed, typeAndName } from "../support/pulumi-cli";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";
import { startPullLoop } from "../support/registry-pull";

const reader = "roles/artifactregistry.reader";
const dev = "example-project-dev";
// The projects, numbers and accounts the repository's Pulumi.gke.yaml and Pulumi.eks.yaml name.
const gke = { project: "example-project-gke", number: "123456789012" };
const eks = { project: "example-project-prod", number: "210987654321" };
// A project of an organization that enforces iam.disableServiceAccountKeyCreation (the default since 2024-05-03).
const secure = "example-project-secure";
const legacy = `legacy-puller@${dev}.iam.gserviceaccount.com`;
const nodes = `gke-nodes@${dev}.iam.gserviceaccount.com`;
const impersonated = `image-puller@${eks.project}.iam.gserviceaccount.com`;
const images: Record<string, string> = {
    "asia.gcr.io": `${dev}/tiny:1`,
    "asia-northeast1-docker.pkg.dev": `${dev}/images/tiny:1`,
};
// Pulumi.gke.yaml and Pulumi.eks.yaml read asia-northeast1/images in their own projects.
const gkeImage = `${gke.project}/images/tiny:1`;
const eksImage = `${eks.project}/images/tiny:1`;
const types = {
    account: "gcp:serviceaccount/account:Account",
    key: "gcp:serviceaccount/key:Key",
    grant: "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    pool: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
    provider: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
    impersonation: "gcp:serviceaccount/iAMMember:IAMMember",
    readiness: "pulumi-nodejs:dynamic/registry-pull-secret:PullReadiness",
};

let cluster: RealCluster;
let core: CoreV1Api;
let inCluster: ReturnType<typeof clusterState>;
let world: GoogleEngine;
/** Token doubles the tests start, closed at the end whatever happened. */
const doubles: TokenDouble[] = [];
const started = async (double: Promise<TokenDouble>) => {
    doubles.push(await double);
    return doubles[doubles.length - 1];
};
/** The existing key's file in base64, as someone who may create keys issued it. */
let legacyKey: string;

function seed(): GoogleCloud {
    const home = newProject("123456789012", ["asia/asia.gcr.io", "asia-northeast1/images"]);
    home.serviceAccounts[legacy] = newServiceAccount("Issued elsewhere");
    home.serviceAccounts[nodes] = newServiceAccount("GKE nodes");
    // The node pool's account could already pull from one repository before any stack granted it.
    home.repositories["asia/asia.gcr.io"].iamPolicy.bindings.push({
        role: "roles/artifactregistry.reader",
        members: [`serviceAccount:${nodes}`],
    });
    const google: GoogleCloud = {
        projects: {
            [dev]: home,
            [gke.project]: newProject(gke.number, ["asia-northeast1/images"]),
            [eks.project]: newProject(eks.number, ["asia-northeast1/images"]),
            [secure]: {
                ...newProject("345678901234", ["asia-northeast1/images"]),
                constraints: ["iam.disableServiceAccountKeyCreation"],
            },
        },
        auditLog: [],
        propagation: slowPropagation(engineTestDelays),
    };
    google.projects[eks.project].serviceAccounts[impersonated] = newServiceAccount("Reader");
    legacyKey = issueKey(google, legacy);
    return google;
}

before(async () => {
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    inCluster = clusterState(core);
    world = await startGoogleEngine({
        seed: seed(),
        standsFor: Object.keys(images),
        images: [...Object.values(images), gkeImage, eksImage],
        kubeconfig: cluster.kubeconfig,
    });
    await inCluster.createNamespaces(["team-a-dev", "storefront", "batch"]);
});
after(async () => {
    for (const double of doubles) await double.close();
    await cluster?.stop();
    await world?.close();
});

/** The Google resources of the selected stack by type, as `pulumi stack export` shows them. */
async function resourceTypes(): Promise<string[]> {
    return (await world.cli.exportedResources())
        .map((r) => r.type)
        .filter((t) => t.startsWith("gcp:"))
        .sort();
}

/** `pulumi destroy --yes` of the selected stack, and that it changed something. */
async function destroy(): Promise<void> {
    await world.cli.must(["destroy", "--yes"]);
    assert.ok((changed(await world.cli.lastUpdate()).delete ?? 0) > 0);
}

/** A stack file in the shape of the repository's (keys declared in Pulumi.yaml). */
function stackFile(lines: Record<string, string | string[]>): string {
    return [
        "config:",
        ...Object.entries(lines).map(([key, value]) =>
            Array.isArray(value)
                ? `  registry-pull-secret:${key}:\n${value.map((v) => `    - ${v}`).join("\n")}`
                : `  registry-pull-secret:${key}: ${value}`,
        ),
        "",
    ].join("\n");
}

/** An authfile for every front host with this username and password. */
function authfile(name: string, username: string, password: string): string {
    const auths = Object.fromEntries(
        Object.values(world.front.hosts).map((host) => [
            host,
            { username, password, auth: Buffer.from(`${username}:${password}`).toString("base64") },
        ]),
    );
    return world.registry.writeAuthfile(name, JSON.stringify({ auths }));
}
const gcrSource = () => ({ host: world.front.hosts["asia.gcr.io"], image: images["asia.gcr.io"] });
const pkgSource = (image: string) => ({ host: world.front.hosts["asia-northeast1-docker.pkg.dev"], image });
const denied = /denied|403/i;

describe("a key where the organization forbids keys", () => {
    let before: unknown;
    it("up fails creating the key with Google's FAILED_PRECONDITION, and the component names the settings that need no key; no Secret holds anything", async () => {
        before = googleResources(world.google());
        await world.initStack(
            "secure",
            stackFile({
                namespaces: ["team-a-dev"],
                registries: Object.values(world.front.hosts),
                gcpProject: secure,
                serviceAccountId: "image-puller-secure",
                repositories: ["asia-northeast1/images"],
            }),
        );
        const up = await world.cli.run(["up", "--yes"]);
        assert.notEqual(up.status, 0, "pulumi up fails");
        assert.match(up.stdout, /regcred-key/);
        // The provider's error as the Terraform provider words it, the constraint only in Google's details.
        assert.match(
            up.stdout,
            /Error creating service account key: googleapi: Error 400: Key creation is not allowed on this service account\./,
        );
        assert.match(up.stdout, /"type": "constraints\/iam\.disableServiceAccountKeyCreation"/);
        // The key's error hook, on the component: the way out, in the sample program's stack config keys.
        assert.match(up.stdout, /Google refused to create the service-account key regcred-key/);
        assert.match(up.stdout, /pulumi config set credential accessToken/);
        const home = world.google().projects[secure];
        assert.deepEqual(Object.keys(home.serviceAccounts), [`image-puller-secure@${secure}.iam.gserviceaccount.com`]);
        assert.deepEqual(home.serviceAccounts[`image-puller-secure@${secure}.iam.gserviceaccount.com`].keys, {});
        assert.deepEqual(await inCluster.secretNames("team-a-dev"), []);
        await destroy();
        assert.deepEqual(googleResources(world.google()), before, "destroy removes the account and grant it made");
    });
});

describe("existingKey", () => {
    let before: unknown;
    it("up grants the key's own account, waits at the readiness gate until the grant took effect, and writes the key as it was issued, creating no account and no key", async (t) => {
        before = googleResources(world.google());
        await world.initStack(
            "existing",
            world.withMirrors(
                stackFile({
                    namespaces: ["team-a-dev"],
                    registries: Object.values(world.front.hosts),
                    gcpProject: dev,
                    repositories: ["asia/asia.gcr.io"],
                }),
            ),
        );
        // docs/rotation.md's `pulumi config set --secret existingKey < key.json`: the key file as it was downloaded.
        const keyFile = Buffer.from(legacyKey, "base64").toString("utf8");
        await world.cli.must(["config", "set", "--secret", "existingKey"], keyFile);
        await world.cli.must(["up", "--yes"]);
        const grant = world.google().propagation.log.at(-1)!;
        assert.match(grant.what, /^grant roles\/artifactregistry\.reader serviceAccount:legacy-puller@/);
        const waitedMs = (await world.cli.exportedResources()).find((r) => r.type === types.readiness)?.outputs
            ?.waitedMs as number;
        t.diagnostic(
            `readiness gate (existingKey, first up): waited ${waitedMs} ms for a grant drawn at ${grant.delayMs} ms`,
        );
        assert.ok(waitedMs >= grant.delayMs - 5000, "the gate waited for the grant");
        assert.deepEqual(await resourceTypes(), [types.grant]);
        assert.ok(
            holdsRole(
                world.google().projects[dev].repositories["asia/asia.gcr.io"].iamPolicy,
                [reader],
                `serviceAccount:${legacy}`,
            ),
        );
        assert.equal(
            Object.keys(world.google().projects[dev].serviceAccounts[legacy].keys).length,
            1,
            "no key created",
        );
        const config = JSON.parse(
            dockerConfigOf(await core.readNamespacedSecret({ name: "regcred", namespace: "team-a-dev" })),
        );
        for (const entry of Object.values<{ username: string; password: string }>(config.auths)) {
            assert.equal(entry.username, "_json_key_base64");
            assert.deepEqual(JSON.parse(Buffer.from(entry.password, "base64").toString("utf8")), JSON.parse(keyFile));
        }
        await world.registry.assertPulls(world.registry.writeAuthfile("existing", JSON.stringify(config)), gcrSource());
        const privateKey: string = JSON.parse(Buffer.from(legacyKey, "base64").toString("utf8")).private_key;
        assertStateHoldsNone(world.stateDir, path.join(world.checkout, "Pulumi.existing.yaml"), {
            username: "_json_key_base64",
            passwords: [legacyKey, ...Object.values<{ password: string }>(config.auths).map((entry) => entry.password)],
            others: privateKey.split("\n").filter((line) => line.length > 40 && !line.startsWith("-----")),
        });
    });

    it("destroy removes our Secret and leaves the grant to the account it did not create, which may have held it before: the key still pulls, as its issuer left it", async () => {
        const granted = googleResources(world.google());
        await destroy();
        assert.deepEqual(googleResources(world.google()), granted, "nothing in Google changes");
        assert.notDeepEqual(granted, before, "the grant up made is still there");
        assert.deepEqual(await inCluster.secretNames("team-a-dev"), []);
        await world.registry.assertPulls(authfile("existing-after", "_json_key_base64", legacyKey), gcrSource());
    });
});

describe("readiness.wait false (what the gate prevents)", () => {
    it("the Secrets hold the key before Google applied its grant: pulls with a Secret present fail with Artifact Registry's 403 until it does", async (t) => {
        await world.initStack(
            "unwaited",
            stackFile({
                namespaces: ["storefront"],
                registries: Object.values(world.front.hosts),
                gcpProject: dev,
                repositories: ["asia-northeast1/images"],
                readinessWait: "false",
            }),
        );
        await world.cli.must(["config", "set", "--secret", "existingKey"], legacyKey);
        const secrets = await watchDockerConfigs(cluster.kubeconfig, ["storefront"], "regcred", 0, true);
        const loop = startPullLoop([
            {
                label: "storefront via asia-northeast1-docker.pkg.dev",
                dockerConfigJson: () => Promise.resolve(secrets.current("storefront")),
                ...pkgSource(images["asia-northeast1-docker.pkg.dev"]),
            },
        ]);
        const up = await world.cli.run(["up", "--yes"]);
        const grant = world.google().propagation.log.at(-1)!;
        // Past the grant's delay: pulls go through from then on.
        await new Promise((resolve) =>
            setTimeout(resolve, Math.max(0, grant.atMs + grant.delayMs + 2000 - Date.now())),
        );
        secrets.stop();
        const attempts = (await loop.stop()).filter((a) => !/^no Secret regcred in /.test(a.failure ?? ""));
        assert.equal(up.status, 0, up.stdout);
        assert.match(
            up.stdout,
            /readiness\.wait is false: the Secrets take a new key or password without proof that it pulls/,
        );
        const failed = attempts.filter((a) => !a.pulled);
        t.diagnostic(
            `pull loop (readiness.wait false): ${attempts.length} pulls with a Secret present, ${failed.length} failed (grant drawn at ${grant.delayMs} ms)`,
        );
        assert.ok(failed.length > 0, "a Secret held a credential that could not pull yet");
        assert.ok(
            failed.every((a) => a.failure === "403 manifest"),
            "each refused by the grant not yet applied",
        );
        assert.ok(attempts.at(-1)!.pulled, "and pulled once Google applied it");
        await destroy();
    });
});

describe("gkeNode", () => {
    before(() => {
        // gkeNode writes no credential, and accessToken's gate is its refresher's, whose pod does not run
        // here (docs/keyless.md): what follows rests on a Google that applies grants at once.
        changeGoogleCloud(world.stateFile, (google) => {
            google.propagation.grantSeconds = [0, 0];
            google.propagation.keySeconds = [0, 0];
        });
    });
    let metadata: TokenDouble;
    it("up grants only the node pool's account (both repositories), warns that every pod on those nodes can pull, writes no Secret", async () => {
        metadata = await started(startMetadataServerDouble(Date.now));
        // The nodes' metadata server: its tokens are the node pool account's.
        world.front.addTokenIssuer(issuedBy(metadata, `serviceAccount:${nodes}`));
        await world.initStack(
            "nodes",
            stackFile({
                gcpProject: dev,
                credential: "gkeNode",
                serviceAccountEmail: nodes,
                repositories: ["asia/asia.gcr.io", "asia-northeast1/images"],
            }),
        );
        const up = await world.cli.must(["up", "--yes"]);
        assert.match(up, /EVERY pod on the nodes that run as gcp.serviceAccountEmail can pull/);
        assert.deepEqual(await resourceTypes(), [types.grant, types.grant]);
        assert.deepEqual(await inCluster.secretNames("team-a-dev"), []);
        const token = (await (
            await fetch(`${metadata.url}/computeMetadata/v1/instance/service-accounts/default/token`, {
                headers: { "Metadata-Flavor": "Google" },
            })
        ).json()) as { access_token: string };
        const file = authfile("node-token", "oauth2accesstoken", token.access_token);
        await world.registry.assertPulls(file, gcrSource());
        await world.registry.assertPulls(file, pkgSource(images["asia-northeast1-docker.pkg.dev"]));
    });

    it("destroy leaves the node pool account's grants, the one it held before the stack included: the nodes still pull", async () => {
        const granted = googleResources(world.google());
        await destroy();
        assert.deepEqual(googleResources(world.google()), granted, "nothing in Google changes");
        const held = world.google().projects[dev].repositories["asia/asia.gcr.io"].iamPolicy.bindings;
        assert.ok(
            held.some(
                (b) => b.role === "roles/artifactregistry.reader" && b.members.includes(`serviceAccount:${nodes}`),
            ),
            "the role the account held before is still there",
        );
        assert.equal((await world.cli.exportedResources()).length, 0, "the stack holds nothing");
        const file = authfile("node-token-after", "oauth2accesstoken", metadata.issued[0].token);
        await world.registry.assertPulls(file, gcrSource());
        await world.registry.assertPulls(file, pkgSource(images["asia-northeast1-docker.pkg.dev"]));
    });
});

/** The refresher's Deployment is not awaited here: its pod cannot run offline (see the header). */
const skipRefresherAwait = (): RegistryPullSecretOptions => ({
    transformations: [
        (args) =>
            args.type === "kubernetes:apps/v1:Deployment"
                ? {
                      props: {
                          ...args.props,
                          metadata: { ...args.props.metadata, annotations: { "pulumi.com/skipAwait": "true" } },
                      },
                      opts: args.opts,
                  }
                : undefined,
    ],
});

/**
 * The repository's `Pulumi.<name>.yaml` of an `accessToken` stack: `pulumi stack init` and `pulumi
 * preview` through the CLI, which must show what the offline plan shows; then `up` through the
 * Automation API with the transformation above, which the CLI cannot give (see the header).
 */
async function upAccessTokenStack(name: string): Promise<void> {
    await world.initStack(name, world.sampleStackFile(name));
    assert.deepEqual(typeAndName(await world.cli.previewSteps()), plannedResources(name, world.sampleStackFile(name)));
    const stack = await world.automationStack(name, skipRefresherAwait);
    assert.equal((await stack.up()).summary.result, "succeeded");
}

/** The refresher's objects in the cluster: its namespace's, and its Role and RoleBinding per target. */
async function refresherObjects(ns: string, targets: string[]) {
    const apps = await import("@kubernetes/client-node").then((k8s) => {
        const config = new k8s.KubeConfig();
        config.loadFromString(cluster.kubeconfig);
        return { apps: config.makeApiClient(k8s.AppsV1Api), rbac: config.makeApiClient(k8s.RbacAuthorizationV1Api) };
    });
    const roles = await Promise.all(
        targets.map(async (namespace) => {
            const role = await apps.rbac.readNamespacedRole({ name: `token-refresher-${ns}`, namespace });
            return { namespace, rules: role.rules };
        }),
    );
    return {
        deployment: (await apps.apps.readNamespacedDeployment({ name: "token-refresher", namespace: ns })).metadata
            ?.name,
        serviceAccount: (await core.readNamespacedServiceAccount({ name: "token-refresher", namespace: ns })).metadata
            ?.name,
        roles,
    };
}

describe("accessToken on GKE (the repository's Pulumi.gke.yaml)", () => {
    let metadata: TokenDouble;
    let before: unknown;
    // Pulumi.gke.yaml names no refresher namespace: the component's default, unique per project, stack and component.
    const refresherNamespace = defaultRefresherNamespace("registry-pull-secret", "gke", "regcred");
    const principal = `principal://iam.googleapis.com/projects/${gke.number}/locations/global/workloadIdentityPools/${gke.project}.svc.id.goog/subject/ns/${refresherNamespace}/sa/token-refresher`;

    it("up grants the refresher's Workload Identity principal and declares the refresher's objects, no key anywhere", async () => {
        before = googleResources(world.google());
        metadata = await started(startMetadataServerDouble(Date.now));
        world.front.addTokenIssuer(issuedBy(metadata, principal));
        const token = (await (
            await fetch(`${metadata.url}/computeMetadata/v1/instance/service-accounts/default/token`, {
                headers: { "Metadata-Flavor": "Google" },
            })
        ).json()) as { access_token: string };
        const file = authfile("gke-token", "oauth2accesstoken", token.access_token);
        await world.registry.assertRefused(file, pkgSource(gkeImage), denied);

        await upAccessTokenStack("gke");
        assert.deepEqual(await resourceTypes(), [types.grant]);
        assert.deepEqual(
            world.google().projects[gke.project].repositories["asia-northeast1/images"].iamPolicy.bindings,
            [{ role: reader, members: [principal] }],
        );
        const objects = await refresherObjects(refresherNamespace, ["storefront", "batch"]);
        assert.equal(objects.deployment, "token-refresher");
        assert.equal(objects.serviceAccount, "token-refresher");
        for (const { rules } of objects.roles) assert.deepEqual(rules?.[0].resourceNames, ["regcred"]);
        for (const namespace of ["storefront", "batch"]) {
            const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
            assert.equal(dockerConfigOf(secret), '{"auths":{}}', "a placeholder until the refresher writes a token");
            assert.deepEqual(await inCluster.pullSecrets(namespace, "default"), ["regcred"]);
        }
        // What the refresher would write: the metadata server's token for its principal, which now pulls.
        await world.registry.assertPulls(file, pkgSource(gkeImage));
    });

    it("destroy removes the grant and the refresher's objects: the principal's token is denied", async () => {
        await destroy();
        assert.deepEqual(googleResources(world.google()), before);
        for (const namespace of ["storefront", "batch"]) assert.deepEqual(await inCluster.secretNames(namespace), []);
        await world.registry.assertRefused(
            authfile("gke-token-after", "oauth2accesstoken", metadata.issued[0].token),
            pkgSource(gkeImage),
            denied,
        );
    });
});

describe("accessToken with Workload Identity Federation and impersonation (the repository's Pulumi.eks.yaml)", () => {
    let sts: TokenDouble;
    let iamCredentials: TokenDouble;
    let before: GoogleCloud;
    const poolName = `projects/${eks.number}/locations/global/workloadIdentityPools/eks-prod`;
    // The provider the component declares puts its id into the subject, so no other provider of the pool yields it.
    const principal = `principal://iam.googleapis.com/${poolName}/subject/eks-prod-oidc:system:serviceaccount:pull-token-refresher:token-refresher`;
    const projectedToken = "projected-serviceaccount-token";

    /** An access token for the impersonated account: STS exchange, then generateAccessToken. */
    async function impersonatedToken(): Promise<{ status: number; token?: string }> {
        const exchanged = await fetch(`${sts.url}/v1/token`, {
            method: "POST",
            body: new URLSearchParams({
                grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
                requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
                subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
                scope: "https://www.googleapis.com/auth/cloud-platform",
                audience: `//iam.googleapis.com/${poolName}/providers/eks-prod-oidc`,
                subject_token: projectedToken,
            }),
        });
        const federated = ((await exchanged.json()) as { access_token: string }).access_token;
        const generated = await fetch(
            `${iamCredentials.url}/v1/projects/-/serviceAccounts/${encodeURIComponent(impersonated)}:generateAccessToken`,
            {
                method: "POST",
                headers: { authorization: `Bearer ${federated}`, "content-type": "application/json" },
                body: JSON.stringify({ scope: ["https://www.googleapis.com/auth/cloud-platform"] }),
            },
        );
        return generated.ok
            ? { status: 200, token: ((await generated.json()) as { accessToken: string }).accessToken }
            : { status: generated.status };
    }

    it("up declares the pool and the OIDC provider, lets the federated principal impersonate the reader account, and grants the account", async () => {
        before = world.google();
        sts = await started(
            startStsDouble(Date.now, {
                audience: `//iam.googleapis.com/${poolName}/providers/eks-prod-oidc`,
                acceptsSubjectToken: (token) => token === projectedToken,
            }),
        );
        // IAM Credentials lets a federated token impersonate the account only while Google's file says its principal may.
        iamCredentials = await started(
            startIamCredentialsDouble(Date.now, {
                email: impersonated,
                trusted: () => {
                    const account = world.google().projects[eks.project].serviceAccounts[impersonated];
                    return holdsRole(account?.iamPolicy, tokenRoles, principal) ? sts.issued : [];
                },
            }),
        );
        world.front.addTokenIssuer(issuedBy(iamCredentials, `serviceAccount:${impersonated}`));
        assert.equal((await impersonatedToken()).status, 401, "no impersonation before up");

        await upAccessTokenStack("eks");
        assert.deepEqual(await resourceTypes(), [types.grant, types.impersonation, types.pool, types.provider].sort());
        const home = world.google().projects[eks.project];
        const pool = home.workloadIdentityPools["eks-prod"];
        assert.equal(pool.state, "ACTIVE");
        assert.deepEqual(pool.providers["eks-prod-oidc"].attributeMapping, {
            "google.subject": '"eks-prod-oidc:" + assertion.sub',
        });
        assert.equal(
            pool.providers["eks-prod-oidc"].attributeCondition,
            'assertion.sub == "system:serviceaccount:pull-token-refresher:token-refresher"',
        );
        assert.deepEqual(home.serviceAccounts[impersonated].iamPolicy.bindings, [
            { role: "roles/iam.workloadIdentityUser", members: [principal] },
        ]);
        assert.ok(
            holdsRole(
                home.repositories["asia-northeast1/images"].iamPolicy,
                [reader],
                `serviceAccount:${impersonated}`,
            ),
        );

        const impersonation = await impersonatedToken();
        assert.equal(impersonation.status, 200);
        await world.registry.assertPulls(
            authfile("eks-token", "oauth2accesstoken", impersonation.token!),
            pkgSource(eksImage),
        );
    });

    it("destroy removes the impersonation and leaves the existing reader account's grant; the pool and provider are soft-deleted, as Google keeps them 30 days", async () => {
        const reader = (google: GoogleCloud) =>
            google.projects[eks.project].repositories["asia-northeast1/images"].iamPolicy.bindings;
        const granted = structuredClone(reader(world.google()));
        await destroy();
        assert.equal((await impersonatedToken()).status, 401, "no impersonation after destroy");
        const after = world.google();
        const pool = after.projects[eks.project].workloadIdentityPools["eks-prod"];
        assert.deepEqual([pool.state, pool.providers["eks-prod-oidc"].state], ["DELETED", "DELETED"]);
        assert.deepEqual(reader(after), granted, "the grant to the account the stack did not create stays");
        // Everything else is as it was.
        delete after.projects[eks.project].workloadIdentityPools["eks-prod"];
        after.projects[eks.project].repositories["asia-northeast1/images"].iamPolicy.bindings = reader(before);
        assert.deepEqual(googleResources(after), googleResources(before));
    });
});
