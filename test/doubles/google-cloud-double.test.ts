/**
 * The Google Cloud provider double (test/support/google-cloud-double) on its own: its rules as pure
 * functions, then the plugin process over gRPC, started and called as the Pulumi engine starts and
 * calls `pulumi-resource-gcp`, against a state file the tests read and edit.
 */
import assert from "node:assert/strict";
import { createSign, createVerify, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { startDoubleProcess, type DoubleClient, type Props } from "../support/google-cloud-double/client";
import { instantPropagation } from "../support/google-cloud-double/propagation";
import {
    accountIdProblem,
    iamMemberProblem,
    normalizeIamMember,
    repositoryName,
    sameIamMember,
    sameRepository,
    serviceAccountFqn,
    serviceAccountLinkProblem,
    terraformProvider,
    workloadIdentityIdProblem,
} from "../support/google-cloud-double/rules";
import {
    changeGoogleCloud,
    newProject,
    newServiceAccount,
    readGoogleCloud,
    writeGoogleCloud,
} from "../support/google-cloud-double/state";

/** The protocol's secret wrapper and unknown value (pulumi sdk/go/common/resource/sig, plugin/rpc.go). */
const secretKey = "4dabf18193072939515e22adb298388d";
const secretValue = "1b47061264138c4ac30d75fd1eb44270";
const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const secret = (value: unknown) => ({ [secretKey]: secretValue, value });
/** pulumirpc.PropertyDiff.Kind */
const kind = { add: 0, addReplace: 1, update: 4, updateReplace: 5 };

const types = {
    account: "gcp:serviceaccount/account:Account",
    key: "gcp:serviceaccount/key:Key",
    grant: "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    impersonation: "gcp:serviceaccount/iAMMember:IAMMember",
    pool: "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
    provider: "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
};

describe("rules, each from the Terraform Google provider's source", () => {
    it("cite hashicorp/terraform-provider-google-beta at the version the locked @pulumi/gcp bridges, by its google-beta/ paths", () => {
        const lock = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "package-lock.json"), "utf8"));
        // Read for @pulumi/gcp 9.37.0: another version bridges another provider release, to be read again.
        assert.equal(lock.packages["node_modules/@pulumi/gcp"].version, "9.37.0");
        assert.deepEqual(terraformProvider, {
            repository: "hashicorp/terraform-provider-google-beta",
            version: "v7.45.0",
            commit: "3dc173a397749158369ea839a2890d89f8c9c370",
        });
        const double = path.join(__dirname, "..", "support", "google-cloud-double");
        for (const file of ["rules.ts", "resource-types.ts", "provider.ts", "google-apis.ts"]) {
            const text = readFileSync(path.join(double, file), "utf8");
            // The GA provider's tree is google/...; the beta provider pulumi-gcp bridges keeps its code in google-beta/.
            assert.doesNotMatch(
                text,
                /(?<![\w-])google\/(services|tpgresource|tpgiamresource|verify|transport)\//,
                file,
            );
        }
        assert.match(readFileSync(path.join(double, "resource-types.ts"), "utf8"), /google-beta\/services\//);
    });

    it("account ids are RFC 1035 names of 6 to 30 characters (ValidateRFC1035Name(6, 30))", () => {
        for (const good of ["image-puller", "abcdef", "a".repeat(30), "a1-b2-c3"])
            assert.equal(accountIdProblem(good), undefined, good);
        for (const bad of ["short", "a".repeat(31), "Image-puller", "1puller", "puller-", "pul_ler"]) {
            assert.notEqual(accountIdProblem(bad), undefined, bad);
        }
    });

    it("IAM members are type:value or a special name, never a deleted principal (validateIAMMember)", () => {
        for (const good of [
            "serviceAccount:a@p.iam.gserviceaccount.com",
            "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog/subject/ns/a/sa/b",
            "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/*",
            "allUsers",
        ]) {
            assert.equal(iamMemberProblem(good), undefined, good);
        }
        for (const bad of ["someone", "deleted:serviceAccount:a@p.iam.gserviceaccount.com?uid=1", ""]) {
            assert.notEqual(iamMemberProblem(bad), undefined, bad);
        }
    });

    it("principal members keep their case; others compare and normalise case-insensitively", () => {
        assert.equal(
            normalizeIamMember("serviceAccount:Image@P.iam.gserviceaccount.com"),
            "serviceAccount:image@p.iam.gserviceaccount.com",
        );
        const principal =
            "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/P/subject/X";
        assert.equal(normalizeIamMember(principal), principal);
        assert.equal(
            sameIamMember("serviceAccount:A@p.iam.gserviceaccount.com", "serviceAccount:a@p.iam.gserviceaccount.com"),
            true,
        );
        assert.equal(sameIamMember(principal, principal.toLowerCase()), false);
    });

    it("a repository's short name is the same as the full name the state holds (CompareSelfLinkOrResourceName)", () => {
        const full = "projects/p/locations/asia/repositories/asia.gcr.io";
        assert.equal(sameRepository(full, "asia.gcr.io"), true);
        assert.equal(sameRepository(full, full), true);
        assert.equal(sameRepository(full, "images"), false);
        assert.deepEqual(repositoryName("asia.gcr.io", { project: "p", location: "asia" }), {
            project: "p",
            location: "asia",
            repository: "asia.gcr.io",
        });
        assert.deepEqual(repositoryName(full, {}), { project: "p", location: "asia", repository: "asia.gcr.io" });
        assert.ok("problem" in repositoryName("images", { project: "p" }));
    });

    it("pool and provider ids: 4 to 32 of [0-9a-z-], not gcp-, pools may end in .svc.id.goog", () => {
        assert.equal(workloadIdentityIdProblem("eks-prod", "pool"), undefined);
        assert.equal(workloadIdentityIdProblem("my-project.svc.id.goog", "pool"), undefined);
        assert.notEqual(workloadIdentityIdProblem("my-project.svc.id.goog", "provider"), undefined);
        for (const bad of ["gcp-pool", "abc", "a".repeat(33), "Eks-prod"]) {
            assert.notEqual(workloadIdentityIdProblem(bad, "pool"), undefined, bad);
        }
    });

    it("service account links and a key's service account id (ServiceAccountLinkRegex, ServiceAccountFQN)", () => {
        assert.equal(
            serviceAccountLinkProblem("projects/p-1/serviceAccounts/image-puller@p-1.iam.gserviceaccount.com"),
            undefined,
        );
        assert.equal(
            serviceAccountLinkProblem("projects/-/serviceAccounts/image-puller@p-1.iam.gserviceaccount.com"),
            undefined,
        );
        assert.notEqual(serviceAccountLinkProblem("image-puller@p-1.iam.gserviceaccount.com"), undefined);
        assert.equal(
            serviceAccountFqn("a@p.iam.gserviceaccount.com", undefined),
            "projects/-/serviceAccounts/a@p.iam.gserviceaccount.com",
        );
        assert.equal(
            serviceAccountFqn("projects/p/serviceAccounts/a@p.iam.gserviceaccount.com", "q"),
            "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com",
        );
        assert.equal(
            serviceAccountFqn("image-puller", "p"),
            "projects/-/serviceAccounts/image-puller@p.iam.gserviceaccount.com",
        );
    });
});

describe("the plugin process, called as the engine calls it", () => {
    const project = "example-project-dev";
    const email = `image-puller-dev@${project}.iam.gserviceaccount.com`;
    const reader = "roles/artifactregistry.reader";
    const theirs = "serviceAccount:ci-reader@example-project-dev.iam.gserviceaccount.com";
    let work: string;
    let stateFile: string;
    let gcp: DoubleClient;
    const urn = (token: string, name: string) => gcp.urn(token, name);
    const google = () => readGoogleCloud(stateFile);
    /** The checked inputs, failing the test on any Check failure. */
    const checked = async (token: string, news: Props) => {
        const result = await gcp.check(urn(token, "x"), news);
        assert.deepEqual(result.failures, []);
        return result.inputs;
    };

    before(async () => {
        work = mkdtempSync(path.join(tmpdir(), "gcp-double-test-"));
        stateFile = path.join(work, "google.json");
        const home = newProject("123456789012", ["asia/asia.gcr.io", "asia-northeast1/images"]);
        home.serviceAccounts["ci-reader@example-project-dev.iam.gserviceaccount.com"] = newServiceAccount("CI");
        home.repositories["asia/asia.gcr.io"].iamPolicy.bindings.push({ role: reader, members: [theirs] });
        // Instant: these tests prove the double's control plane (what its APIs store and answer), not when
        // the data plane sees it; test/doubles/propagation.test.ts proves the delays.
        writeGoogleCloud(stateFile, {
            projects: { [project]: home, other: newProject("210987654321") },
            auditLog: [],
            propagation: instantPropagation(),
        });
        gcp = await startDoubleProcess(stateFile);
    });
    after(async () => {
        await gcp?.stop();
        rmSync(work, { recursive: true, force: true });
    });

    it("answers with the plugin version it was installed as, accepts secrets and supports previews", async () => {
        assert.equal(await gcp.pluginVersion(), "9.37.0");
        assert.deepEqual(await gcp.configure({ project }), { acceptSecrets: true, supportsPreview: true });
    });

    it("Check applies the Terraform defaults and refuses bad values naming the property, as Check failures", async () => {
        assert.deepEqual(await checked(types.key, { serviceAccountId: email }), {
            serviceAccountId: email,
            keyAlgorithm: "KEY_ALG_RSA_2048",
            privateKeyType: "TYPE_GOOGLE_CREDENTIALS_FILE",
            publicKeyType: "TYPE_X509_PEM_FILE",
        });
        const bad = await gcp.check(urn(types.account, "bad"), { accountId: "Bad_Id", project });
        assert.deepEqual(
            bad.failures.map((f) => f.property),
            ["accountId"],
        );
        const missing = await gcp.check(urn(types.grant, "bad"), { repository: "images", role: reader });
        assert.deepEqual(missing.failures, [{ property: "member", reason: "is required" }]);
        const notImplemented = await gcp.check(urn(types.grant, "bad"), {
            repository: "images",
            role: reader,
            member: theirs,
            condition: { title: "t", expression: "true" },
        });
        assert.match(notImplemented.failures[0].reason, /not implemented by the Google Cloud double/);
        // x509 is in @pulumi/gcp 9.37.0's Args (terraform-provider-google-beta v7.45.0 has it): refused, not unknown.
        const x509 = await gcp.check(urn(types.provider, "x509"), {
            workloadIdentityPoolId: "pool",
            workloadIdentityPoolProviderId: "x509-provider",
            x509: { trustStore: {} },
        });
        assert.deepEqual(
            x509.failures.map((f) => [f.property, /not implemented by the Google Cloud double/.test(f.reason)]),
            [["x509", true]],
        );
        // An unknown value (a preview before the account exists) is not validated yet.
        assert.deepEqual(
            (await gcp.check(urn(types.grant, "later"), { repository: "images", role: reader, member: unknown }))
                .failures,
            [],
        );
    });

    let account: { id: string; outputs: Props };
    it("creates a service account with Google's formats: email, name, member, a 21-digit unique id", async () => {
        const inputs = await checked(types.account, {
            accountId: "image-puller-dev",
            project,
            displayName: "Image pulls",
        });
        const preview = await gcp.create(urn(types.account, "account"), inputs, true);
        assert.equal(preview.outputs.email, unknown, "a preview does not know the email yet");
        account = await gcp.create(urn(types.account, "account"), inputs);
        assert.equal(account.id, `projects/${project}/serviceAccounts/${email}`);
        assert.equal(account.outputs.email, email);
        assert.equal(account.outputs.name, account.id);
        assert.equal(account.outputs.member, `serviceAccount:${email}`);
        assert.match(account.outputs.uniqueId, /^1\d{20}$/);
        assert.equal(google().projects[project].serviceAccounts[email].displayName, "Image pulls");
        await assert.rejects(
            gcp.create(urn(types.account, "again"), inputs),
            /Error 409: Service account image-puller-dev already exists/,
        );
    });

    let key: { id: string; outputs: Props };
    it("creates a key named projects/P/serviceAccounts/E/keys/K whose privateKey is a secret holding a real key file in base64", async () => {
        const inputs = await checked(types.key, {
            serviceAccountId: account.outputs.name,
            keepers: { keyVersion: "1" },
        });
        key = await gcp.create(urn(types.key, "key"), inputs);
        assert.match(key.id, new RegExp(`^projects/${project}/serviceAccounts/${email}/keys/[0-9a-f]{40}$`));
        assert.equal(key.outputs.name, key.id);
        assert.equal(key.outputs.privateKey[secretKey], secretValue, "privateKey is a secret");
        const file = JSON.parse(Buffer.from(key.outputs.privateKey.value, "base64").toString("utf8"));
        assert.deepEqual(Object.keys(file), [
            "type",
            "project_id",
            "private_key_id",
            "private_key",
            "client_email",
            "client_id",
            "auth_uri",
            "token_uri",
            "auth_provider_x509_cert_url",
            "client_x509_cert_url",
            "universe_domain",
        ]);
        assert.equal(file.type, "service_account");
        assert.equal(file.client_email, email);
        assert.equal(file.private_key_id, key.id.split("/").pop());
        assert.equal(file.client_id, account.outputs.uniqueId);
        // The key signs, and the certificate Google keeps (and publicKey returns) verifies it.
        const signature = createSign("sha256").update("challenge").sign(file.private_key);
        const certificate = new X509Certificate(Buffer.from(key.outputs.publicKey, "base64"));
        assert.equal(createVerify("sha256").update("challenge").verify(certificate.publicKey, signature), true);
        assert.equal(key.outputs.validBefore, "9999-12-31T23:59:59Z");
        assert.equal(readFileSync(stateFile, "utf8").includes("PRIVATE KEY"), false, "Google keeps no private key");
    });

    it("Diff: changed keepers replace the key (detailed per keeper); the same inputs are no change", async () => {
        const same = await checked(types.key, { serviceAccountId: account.outputs.name, keepers: { keyVersion: "1" } });
        assert.deepEqual(await gcp.diff(urn(types.key, "key"), key.outputs, same), {
            changes: "none",
            replaces: [],
            detailedDiff: {},
        });
        const raised = await checked(types.key, {
            serviceAccountId: account.outputs.name,
            keepers: { keyVersion: "2" },
        });
        assert.deepEqual(await gcp.diff(urn(types.key, "key"), key.outputs, raised), {
            changes: "some",
            replaces: ["keepers"],
            detailedDiff: { "keepers.keyVersion": kind.updateReplace },
        });
        const period = await checked(types.key, {
            serviceAccountId: account.outputs.name,
            keepers: { keyVersion: "1", rotationPeriod: "2026-01-01T00:00:00.000Z/P30D" },
        });
        assert.deepEqual((await gcp.diff(urn(types.key, "key"), key.outputs, period)).detailedDiff, {
            "keepers.rotationPeriod": kind.addReplace,
        });
        const later = await checked(types.key, { serviceAccountId: unknown, keepers: { keyVersion: "1" } });
        assert.deepEqual((await gcp.diff(urn(types.key, "key"), key.outputs, later)).replaces, ["serviceAccountId"]);
    });

    it("Diff and Update: an account's display name changes in place", async () => {
        const renamed = await checked(types.account, { accountId: "image-puller-dev", project, displayName: "Pulls" });
        assert.deepEqual(await gcp.diff(urn(types.account, "account"), account.outputs, renamed), {
            changes: "some",
            replaces: [],
            detailedDiff: { displayName: kind.update },
        });
        const outputs = await gcp.update(urn(types.account, "account"), account.id, account.outputs, renamed);
        assert.equal(outputs.displayName, "Pulls");
        assert.equal(outputs.email, email);
        assert.equal(google().projects[project].serviceAccounts[email].displayName, "Pulls");
    });

    let grant: { id: string; outputs: Props };
    it("a repository grant is non-authoritative: another owner's member on the same role stays", async () => {
        const inputs = await checked(types.grant, {
            project,
            location: "asia",
            repository: "asia.gcr.io",
            role: reader,
            member: `serviceAccount:${email}`,
        });
        grant = await gcp.create(urn(types.grant, "grant"), inputs);
        assert.equal(
            grant.id,
            `projects/${project}/locations/asia/repositories/asia.gcr.io/${reader}/serviceAccount:${email}`,
        );
        assert.equal(grant.outputs.repository, `projects/${project}/locations/asia/repositories/asia.gcr.io`);
        assert.deepEqual(google().projects[project].repositories["asia/asia.gcr.io"].iamPolicy.bindings, [
            { role: reader, members: [theirs, `serviceAccount:${email}`] },
        ]);
        // The state's full repository name and the program's short one are the same setting.
        assert.equal((await gcp.diff(urn(types.grant, "grant"), grant.outputs, inputs)).changes, "none");
    });

    it("refuses grants Google refuses: a missing repository, a member that is no account, a role the resource does not take", async () => {
        const grantOf = (over: Props) =>
            checked(types.grant, {
                project,
                location: "asia",
                repository: "asia.gcr.io",
                role: reader,
                member: `serviceAccount:${email}`,
                ...over,
            });
        await assert.rejects(gcp.create(urn(types.grant, "g1"), await grantOf({ repository: "missing" })), /Error 404/);
        await assert.rejects(
            gcp.create(
                urn(types.grant, "g2"),
                await grantOf({ member: `serviceAccount:nobody@${project}.iam.gserviceaccount.com` }),
            ),
            /Error 400: Service account nobody@example-project-dev.iam.gserviceaccount.com does not exist/,
        );
        await assert.rejects(
            gcp.create(urn(types.grant, "g3"), await grantOf({ role: "roles/iam.workloadIdentityUser" })),
            /Role roles\/iam.workloadIdentityUser is not supported for this resource/,
        );
    });

    it("Read shows drift made in the console: a renamed account, and a removed member reads as gone", async () => {
        changeGoogleCloud(
            stateFile,
            (g) => void (g.projects[project].serviceAccounts[email].displayName = "edited by hand"),
        );
        const read = await gcp.read(urn(types.account, "account"), account.id, account.outputs);
        assert.equal(read.outputs.displayName, "edited by hand");
        assert.equal(read.inputs.displayName, "edited by hand");
        changeGoogleCloud(stateFile, (g) => {
            const binding = g.projects[project].repositories["asia/asia.gcr.io"].iamPolicy.bindings[0];
            binding.members = binding.members.filter((m) => m === theirs);
        });
        assert.equal((await gcp.read(urn(types.grant, "grant"), grant.id, grant.outputs)).id, "");
        changeGoogleCloud(stateFile, (g) =>
            g.projects[project].repositories["asia/asia.gcr.io"].iamPolicy.bindings[0].members.push(
                `serviceAccount:${email}`,
            ),
        );
        assert.equal((await gcp.read(urn(types.grant, "grant"), grant.id, grant.outputs)).id, grant.id);
    });

    it("deleting a grant removes our member only", async () => {
        await gcp.delete(urn(types.grant, "grant"), grant.id, grant.outputs);
        assert.deepEqual(google().projects[project].repositories["asia/asia.gcr.io"].iamPolicy.bindings, [
            { role: reader, members: [theirs] },
        ]);
    });

    it("a grant of a role the member already held adds nothing, and its delete removes the member all the same (Terraform semantics, issue 29 item 4)", async () => {
        // A GKE node pool's account that held the reader role before any stack granted it (seeded as the console would).
        const nodes = "serviceAccount:gke-nodes@example-project-dev.iam.gserviceaccount.com";
        changeGoogleCloud(stateFile, (g) => {
            g.projects[project].serviceAccounts["gke-nodes@example-project-dev.iam.gserviceaccount.com"] =
                newServiceAccount("GKE nodes");
            g.projects[project].repositories["asia-northeast1/images"].iamPolicy.bindings.push({
                role: reader,
                members: [nodes],
            });
        });
        const before = google().projects[project].repositories["asia-northeast1/images"].iamPolicy.bindings;
        const inputs = await checked(types.grant, {
            project,
            location: "asia-northeast1",
            repository: "images",
            role: reader,
            member: nodes,
        });
        const granted = await gcp.create(urn(types.grant, "nodes"), inputs);
        assert.deepEqual(google().projects[project].repositories["asia-northeast1/images"].iamPolicy.bindings, before);
        await gcp.delete(urn(types.grant, "nodes"), granted.id, granted.outputs);
        assert.deepEqual(google().projects[project].repositories["asia-northeast1/images"].iamPolicy.bindings, []);
    });

    it("keys belong to their account: deleting the account deletes its keys, which then read as gone", async () => {
        const second = await gcp.create(
            urn(types.key, "second"),
            await checked(types.key, { serviceAccountId: email }),
        );
        assert.equal(Object.keys(google().projects[project].serviceAccounts[email].keys).length, 2);
        await gcp.delete(urn(types.key, "key"), key.id, key.outputs);
        assert.deepEqual(Object.keys(google().projects[project].serviceAccounts[email].keys), [
            second.id.split("/").pop(),
        ]);
        await gcp.delete(urn(types.account, "account"), account.id, account.outputs);
        assert.equal(google().projects[project].serviceAccounts[email], undefined);
        assert.equal((await gcp.read(urn(types.key, "second"), second.id, second.outputs)).id, "");
        await gcp.delete(urn(types.key, "second"), second.id, second.outputs); // gone already: success
        await assert.rejects(
            gcp.create(urn(types.key, "orphan"), await checked(types.key, { serviceAccountId: email })),
            /Error 404: Service account projects\/-\/serviceAccounts\/image-puller-dev@example-project-dev.iam.gserviceaccount.com does not exist/,
        );
    });

    it("key creation fails as Google refuses it where iam.disableServiceAccountKeyCreation is enforced: 400 FAILED_PRECONDITION, the constraint only in a PreconditionFailure detail", async () => {
        changeGoogleCloud(stateFile, (g) => {
            g.projects.other.constraints.push("iam.disableServiceAccountKeyCreation");
            g.projects.other.serviceAccounts["puller@other.iam.gserviceaccount.com"] = newServiceAccount();
        });
        const refused = await gcp
            .create(
                urn(types.key, "forbidden"),
                await checked(types.key, { serviceAccountId: "puller@other.iam.gserviceaccount.com" }),
            )
            .then(
                () => assert.fail("the key was created"),
                (error: { details: string }) => error.details,
            );
        // What the Terraform provider returns (resourceGoogleServiceAccountKeyCreate wrapping googleapi.Error).
        assert.equal(
            refused,
            [
                "Error creating service account key: googleapi: Error 400: Key creation is not allowed on this service account.",
                "Details:",
                "[",
                "  {",
                '    "@type": "type.googleapis.com/google.rpc.PreconditionFailure",',
                '    "violations": [',
                "      {",
                '        "description": "Key creation is not allowed on this service account.",',
                '        "subject": "projects/other/serviceAccounts/puller@other.iam.gserviceaccount.com?configvalue=puller%40other.iam.gserviceaccount.com",',
                '        "type": "constraints/iam.disableServiceAccountKeyCreation"',
                "      }",
                "    ]",
                "  }",
                "]",
                ", failedPrecondition",
            ].join("\n"),
        );
        assert.deepEqual(google().projects.other.serviceAccounts["puller@other.iam.gserviceaccount.com"].keys, {});
    });

    it("secret inputs stay secret in the outputs", async () => {
        const inputs = await checked(types.account, {
            accountId: "secret-desc",
            project,
            description: secret("quiet"),
        });
        const created = await gcp.create(urn(types.account, "secret"), inputs);
        assert.deepEqual(created.outputs.description, secret("quiet"));
        assert.equal(created.outputs.email[secretKey], undefined);
    });

    it("pools and providers: names by project number, OIDC rules, soft delete keeps the id taken", async () => {
        const pool = await gcp.create(
            urn(types.pool, "pool"),
            await checked(types.pool, { project, workloadIdentityPoolId: "eks-prod", displayName: "eks-prod" }),
        );
        assert.equal(pool.outputs.name, "projects/123456789012/locations/global/workloadIdentityPools/eks-prod");
        assert.equal(pool.outputs.state, "ACTIVE");
        const providerArgs = {
            project,
            workloadIdentityPoolId: "eks-prod",
            workloadIdentityPoolProviderId: "eks-prod-oidc",
            attributeMapping: { "google.subject": "assertion.sub" },
            oidc: { issuerUri: "https://oidc.example" },
        };
        assert.deepEqual(
            (await gcp.check(urn(types.provider, "p"), { ...providerArgs, attributeMapping: {} })).failures,
            [{ property: "attributeMapping", reason: "attributeMapping must map google.subject for an OIDC provider" }],
        );
        assert.deepEqual(
            (
                await gcp.check(urn(types.provider, "p"), {
                    ...providerArgs,
                    oidc: { issuerUri: "http://oidc.example" },
                })
            ).failures.map((f) => f.property),
            ["oidc"],
        );
        const provider = await gcp.create(urn(types.provider, "provider"), await checked(types.provider, providerArgs));
        assert.equal(
            provider.outputs.name,
            "projects/123456789012/locations/global/workloadIdentityPools/eks-prod/providers/eks-prod-oidc",
        );
        await gcp.delete(urn(types.provider, "provider"), provider.id, provider.outputs);
        await gcp.delete(urn(types.pool, "pool"), pool.id, pool.outputs);
        assert.equal(google().projects[project].workloadIdentityPools["eks-prod"].state, "DELETED");
        assert.equal((await gcp.read(urn(types.pool, "pool"), pool.id, pool.outputs)).id, "");
        await assert.rejects(
            gcp.create(
                urn(types.pool, "again"),
                await checked(types.pool, { project, workloadIdentityPoolId: "eks-prod" }),
            ),
            /Error 409/,
        );
    });

    it("GetSchema names package gcp, the six types, and privateKey as a secret", async () => {
        const schema = await gcp.schema();
        assert.equal(schema.name, "gcp");
        assert.equal(schema.version, "9.37.0");
        assert.deepEqual(Object.keys(schema.resources).sort(), Object.values(types).sort());
        assert.equal(schema.resources[types.key].properties.privateKey.secret, true);
        assert.deepEqual(schema.resources[types.key].requiredInputs, ["serviceAccountId"]);
    });

    it("writes an audit log of what changed, in order", () => {
        const methods = google().auditLog.map((entry) => entry.method);
        assert.equal(methods[0], "google.iam.admin.v1.CreateServiceAccount");
        assert.ok(
            methods.indexOf("google.iam.admin.v1.DeleteServiceAccountKey") <
                methods.indexOf("google.iam.admin.v1.DeleteServiceAccount"),
        );
    });
});
