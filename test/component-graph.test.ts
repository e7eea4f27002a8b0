import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSecretValue, resolve, reveal, startMocks } from "./support/mocks";
const registrations = startMocks();
import { RegistryPullSecret } from "../components";
import { ownerIdOf } from "../components/rules/ownership";
import { registeredBy, sampleArgs } from "./support/component";

const types = {
    account: "gcp:serviceaccount/account:Account",
    grant: "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    key: "gcp:serviceaccount/key:Key",
    claim: "pulumi-nodejs:dynamic/registry-pull-secret:SecretClaim",
    handover: "pulumi-nodejs:dynamic/registry-pull-secret:KeyHandover",
    readiness: "pulumi-nodejs:dynamic/registry-pull-secret:PullReadiness",
    secret: "kubernetes:core/v1:Secret",
    attachment: "pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry",
    secretsProvider: "pulumi:providers:kubernetes",
};

/** The one child of that name; `type` tells a Secret from its claim, which shares its name. */
const byName = (children: { name: string; type: string }[], name: string, type?: string) => {
    const found = children.filter((c) => c.name === name && (type === undefined || c.type === type));
    assert.equal(found.length, 1, `one child named ${name}${type ? ` of type ${type}` : ""}`);
    return found[0] as (typeof children)[number] & Record<string, any>;
};

describe("RegistryPullSecret graph", () => {
    it("registers account, grant, key, readiness gate, the Secrets' provider, the Secret's claim, Secret and attachment, each a child named after the component", async () => {
        const component = new RegistryPullSecret("one", sampleArgs());
        const { component: own, children } = await registeredBy(component, registrations);
        assert.equal(own.type, "registry-pull-secret:index:RegistryPullSecret");
        assert.deepEqual(
            children.map((c) => [c.type, c.name]),
            [
                [types.account, "one-account"],
                [types.claim, "one-claim"],
                [types.grant, "one/reader/asia/asia.gcr.io"],
                [types.secretsProvider, "one-secrets"],
                [types.key, "one-key"],
                [types.readiness, "one-pull-readiness"],
                [types.secret, "one/team-a"],
                [types.handover, "one-key-handover"],
                [types.attachment, "one/team-a/default"],
            ],
        );
    });

    it("declares one Secret per namespace and one attachment per namespace and ServiceAccount", async () => {
        const component = new RegistryPullSecret(
            "many",
            sampleArgs({ namespaces: ["a", "b", "c"], serviceAccounts: ["default", "deployer"] }),
        );
        const { children } = await registeredBy(component, registrations);
        const names = (type: string) => children.filter((c) => c.type === type).map((c) => c.name);
        assert.deepEqual(names(types.secret), ["many/a", "many/b", "many/c"]);
        assert.deepEqual(names(types.attachment), [
            "many/a/default",
            "many/a/deployer",
            "many/b/default",
            "many/b/deployer",
            "many/c/default",
            "many/c/deployer",
        ]);
        assert.deepEqual(names(types.claim), ["many-claim"]);
        // account, grant, key, readiness gate, key handover, the Secrets' provider, the claim, then per
        // namespace a Secret, and the attachments.
        assert.equal(children.length, 1 + 1 + 1 + 1 + 1 + 1 + 1 + 3 + 6);
        for (const attachment of children.filter((c) => c.type === types.attachment)) {
            const [namespace, serviceAccount] = attachment.name.slice("many/".length).split("/");
            const { namespace: ns, serviceAccount: sa, secretName, entry } = attachment.inputs;
            assert.deepEqual(
                { ns, sa, secretName, entry },
                {
                    ns: namespace,
                    sa: serviceAccount,
                    secretName: "regcred",
                    entry: `${namespace}/${serviceAccount}: regcred`,
                },
            );
        }
    });

    it("orders the graph by data flow: account -> grant -> key -> Secret (after the claim) -> attachment, namespaces independent", async () => {
        const component = new RegistryPullSecret("chain", sampleArgs({ namespaces: ["a", "b"] }));
        const { children } = await registeredBy(component, registrations);
        const urn = (name: string, type?: string) => byName(children, name, type).urn;
        const grant = byName(children, "chain/reader/asia/asia.gcr.io");
        assert.deepEqual(grant.propertyDependencies.member, [urn("chain-account")]);
        const key = byName(children, "chain-key");
        assert.deepEqual(key.propertyDependencies.serviceAccountId, [urn("chain-account")]);
        assert.ok(key.dependencies.includes(grant.urn), "the key waits for the grant");
        const claim = byName(children, "chain-claim", types.claim);
        assert.deepEqual(claim.dependencies, [], "the claim waits for nothing");
        assert.deepEqual(claim.inputs.namespaces, ["a", "b"], "one claim for every namespace");
        for (const namespace of ["a", "b"]) {
            const secret = byName(children, `chain/${namespace}`, types.secret);
            assert.deepEqual(secret.propertyDependencies.data, [urn("chain-key")]);
            assert.deepEqual(
                [...secret.dependencies].sort(),
                [urn("chain-key"), claim.urn, urn("chain-pull-readiness")].sort(),
                "a Secret depends on the key, the readiness gate and the claim only, not on other namespaces",
            );
            const attachment = byName(children, `chain/${namespace}/default`);
            assert.deepEqual(attachment.dependencies, [secret.urn]);
        }
        // After every Secret holds the key, the handover; the engine deletes a replaced key after it.
        const handover = byName(children, "chain-key-handover");
        assert.deepEqual(
            [...handover.dependencies].sort(),
            [urn("chain/a", types.secret), urn("chain/b", types.secret), urn("chain-key")].sort(),
        );
        assert.deepEqual(handover.propertyDependencies.keyName, [urn("chain-key")]);
        assert.equal(handover.inputs.graceSeconds, 60);
    });

    it("writes no Secret before its credential pulls: every Secret waits for the readiness gate, which proves the Secret's own username and password on every listed host", async () => {
        const component = new RegistryPullSecret(
            "gated",
            sampleArgs({ namespaces: ["a", "b"], registries: ["asia.gcr.io", "asia-northeast1-docker.pkg.dev"] }),
        );
        const { children } = await registeredBy(component, registrations);
        const gate = byName(children, "gated-pull-readiness", types.readiness);
        const key = byName(children, "gated-key");
        assert.deepEqual(gate.propertyDependencies.password, [key.urn], "the gate proves the key");
        assert.ok(isSecretValue(gate.inputs.password), "the password is sent as a secret");
        assert.ok(gate.additionalSecretOutputs.includes("password"), "and kept as one");
        const data = reveal<Record<string, string>>(byName(children, "gated/a", types.secret).inputs.data);
        const config: { auths: Record<string, { username: string; password: string }> } = JSON.parse(
            Buffer.from(data[".dockerconfigjson"], "base64").toString("utf8"),
        );
        assert.equal(Object.keys(config.auths).length, 2);
        for (const entry of Object.values(config.auths)) {
            assert.deepEqual([entry.username, entry.password], [gate.inputs.username, reveal(gate.inputs.password)]);
        }
        assert.deepEqual(gate.inputs.probes, [
            { host: "asia.gcr.io", repositories: [{ name: "asia/asia.gcr.io", path: "example-project" }] },
            { host: "asia-northeast1-docker.pkg.dev", repositories: [] },
        ]);
        assert.equal(gate.inputs.timeoutSeconds, 600);
        for (const namespace of ["a", "b"]) {
            assert.ok(byName(children, `gated/${namespace}`, types.secret).dependencies.includes(gate.urn));
        }
    });

    it("keeps key material secret: the key's privateKey, the Secret's data and the dockerConfigJson output", async () => {
        const component = new RegistryPullSecret("secrets", sampleArgs({ namespaces: ["a", "b"] }));
        const { children } = await registeredBy(component, registrations);
        assert.ok(byName(children, "secrets-key").additionalSecretOutputs.includes("privateKey"));
        for (const secret of children.filter((c) => c.type === types.secret)) {
            assert.ok(isSecretValue(secret.inputs.data), `${secret.name} data is sent as a secret`);
            assert.ok(secret.additionalSecretOutputs.includes("data"));
        }
        assert.equal((await resolve(component.dockerConfigJson)).secret, true);
        for (const plain of [
            component.secretName,
            component.namespaces,
            component.registries,
            component.serviceAccountEmail,
            component.keyName,
        ]) {
            const { secret, value } = await resolve<unknown>(plain);
            assert.equal(secret, false);
            assert.doesNotMatch(JSON.stringify(value), /PRIVATE KEY|_json_key/);
        }
    });

    it("writes the key's privateKey as the _json_key_base64 password as it is, never encoded twice", async () => {
        const component = new RegistryPullSecret(
            "encoding",
            sampleArgs({ registries: ["asia.gcr.io", "gcr.io"], email: "ops@example.com" }),
        );
        const { children, component: own } = await registeredBy(component, registrations);
        const secret = byName(children, "encoding/team-a", types.secret);
        assert.equal(secret.inputs.type, "kubernetes.io/dockerconfigjson");
        assert.deepEqual(secret.inputs.metadata, {
            name: "regcred",
            namespace: "team-a",
            labels: {
                "app.kubernetes.io/managed-by": "registry-pull-secret",
                "registry-pull-secret/owner": ownerIdOf(own.urn),
            },
            // Its writes are forced: a later up puts our credential back over a hand edit.
            annotations: { "pulumi.com/patchForce": "true" },
        });
        const data = reveal<Record<string, string>>(secret.inputs.data);
        assert.deepEqual(Object.keys(data), [".dockerconfigjson"]);
        const json = Buffer.from(data[".dockerconfigjson"], "base64").toString("utf8");
        assert.equal(json, (await resolve(component.dockerConfigJson)).value);
        const auths = JSON.parse(json).auths;
        assert.deepEqual(Object.keys(auths), ["asia.gcr.io", "gcr.io"]);
        for (const entry of Object.values<any>(auths)) {
            assert.equal(entry.username, "_json_key_base64");
            assert.equal(entry.email, "ops@example.com");
            const keyFile = JSON.parse(Buffer.from(entry.password, "base64").toString("utf8"));
            assert.equal(keyFile.type, "service_account");
            assert.equal(keyFile.client_email, "image-puller@example-project.iam.gserviceaccount.com");
        }
    });

    it("uses an existing service account by email: no account created, grant and key name it", async () => {
        const email = "puller@other-project.iam.gserviceaccount.com";
        const component = new RegistryPullSecret(
            "existing",
            sampleArgs({
                gcp: {
                    project: "example-project",
                    serviceAccountEmail: email,
                    repositories: [{ location: "us", repository: "gcr.io" }],
                },
            }),
        );
        const { children } = await registeredBy(component, registrations);
        assert.equal(children.filter((c) => c.type === types.account).length, 0);
        assert.equal(byName(children, "existing/reader/us/gcr.io").inputs.member, `serviceAccount:${email}`);
        assert.equal(byName(children, "existing-key").inputs.serviceAccountId, email);
        assert.equal((await resolve(component.serviceAccountEmail)).value, email);
    });

    it("creates Secrets only when serviceAccounts is empty", async () => {
        const component = new RegistryPullSecret(
            "secrets-only",
            sampleArgs({ namespaces: ["a", "b"], serviceAccounts: [] }),
        );
        const { children } = await registeredBy(component, registrations);
        assert.equal(children.filter((c) => c.type === types.secret).length, 2);
        assert.equal(children.filter((c) => c.type === types.attachment).length, 0);
    });

    it("grants exactly roles/artifactregistry.reader on each listed repository", async () => {
        const repositories = [
            { location: "us", repository: "gcr.io" },
            { location: "asia", repository: "asia.gcr.io" },
            { location: "asia-northeast1", repository: "images" },
        ];
        const component = new RegistryPullSecret(
            "grants",
            sampleArgs({ gcp: { project: "example-project", serviceAccountId: "image-puller", repositories } }),
        );
        const { children } = await registeredBy(component, registrations);
        const grants = children.filter((c) => c.type === types.grant);
        assert.deepEqual(
            grants.map((g) => g.inputs),
            repositories.map((r) => ({
                ...r,
                project: "example-project",
                role: "roles/artifactregistry.reader",
                member: "serviceAccount:image-puller@example-project.iam.gserviceaccount.com",
            })),
        );
    });

    it("exports the outputs the issue names with their values", async () => {
        const component = new RegistryPullSecret(
            "outputs",
            sampleArgs({ namespaces: ["a", "b"], secretName: "gcr-pull" }),
        );
        assert.equal((await resolve(component.secretName)).value, "gcr-pull");
        assert.deepEqual((await resolve(component.namespaces)).value, ["a", "b"]);
        assert.deepEqual((await resolve(component.registries)).value, ["asia.gcr.io"]);
        assert.equal(
            (await resolve(component.serviceAccountEmail)).value,
            "image-puller@example-project.iam.gserviceaccount.com",
        );
        assert.match(
            (await resolve(component.keyName)).value,
            /^projects\/-\/serviceAccounts\/image-puller@example-project\.iam\.gserviceaccount\.com\/keys\/[0-9a-f]{40}$/,
        );
    });
});
