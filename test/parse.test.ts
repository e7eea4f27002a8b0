/**
 * components/parse.ts: the args become one description, `ParsedArgs`, whose credential is one
 * `ParsedCredential` per way of making it (`mode`), with every default applied. What each bad input
 * throws is proved through the component (test/validation.test.ts, test/keyless/keyless-validation.test.ts,
 * test/validation-later.test.ts); here, what the declaring code receives.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { resolve, startMocks } from "./support/mocks";
import { serviceAccountKeyFile } from "./support/key-file";
startMocks();
import type { RegistryPullSecretArgs } from "../components";
import { defaultRefresherImage, parseArgs, parseClusterReach } from "../components/parse";

const project = "example-project";
const repositories = [{ location: "asia", repository: "asia.gcr.io" }];
const email = "puller@example-project.iam.gserviceaccount.com";
const cluster = { namespaces: ["team-a", "team-b"], registries: ["asia.gcr.io"] };

describe("parseArgs", () => {
    it("applies the defaults: regcred, the default ServiceAccount, merge, no takeOver, no email", () => {
        const parsed = parseArgs("regcred", {
            ...cluster,
            gcp: { project, repositories, serviceAccountId: "image-puller" },
        });
        assert.deepEqual(parsed.namespaces, ["team-a", "team-b"]);
        assert.deepEqual(parsed.registries, ["asia.gcr.io"]);
        assert.deepEqual(parsed.serviceAccounts, ["default"]);
        assert.equal(parsed.secretName, "regcred");
        assert.equal(parsed.attachMode, "merge");
        assert.equal(parsed.takeOver, false);
        assert.equal(parsed.email, undefined);
        assert.equal(parsed.kubeconfig, undefined);
    });

    it("gives each way of making the credential its own mode, with only that way's fields", async () => {
        const createKey = parseArgs("regcred", {
            ...cluster,
            gcp: { project, repositories, serviceAccountId: "image-puller", keyRotationDays: 30 },
        }).credential;
        assert.equal(createKey.mode, "createKey");
        assert.deepEqual(createKey.gcp, {
            project,
            repositories,
            serviceAccountId: "image-puller",
            serviceAccountEmail: undefined,
            keyRotationDays: 30,
            keyVersion: undefined,
        });

        const existingKey = parseArgs("regcred", {
            ...cluster,
            gcp: { project, repositories, existingKey: serviceAccountKeyFile(email) },
        }).credential;
        assert.ok(existingKey.mode === "existingKey");
        const read = await resolve(existingKey.gcp.existingKey);
        assert.equal(read.secret, true, "the key file stays a secret");
        const account = await resolve(existingKey.gcp.serviceAccountEmail);
        assert.deepEqual([account.value, account.secret], [email, false]);

        const credentials = parseArgs("regcred", {
            ...cluster,
            credentials: { username: "robot", password: "pw" },
        }).credential;
        assert.ok(credentials.mode === "credentials");
        assert.equal(credentials.username, "robot");
        assert.equal((await resolve(credentials.password)).secret, true);

        const gkeNode = parseArgs("regcred", {
            gcp: { project, repositories, credential: "gkeNode", serviceAccountEmail: email },
        });
        assert.equal(gkeNode.credential.mode, "gkeNode");
        assert.deepEqual([gkeNode.namespaces, gkeNode.registries], [[], []]);

        const accessToken = parseArgs("regcred", {
            ...cluster,
            gcp: {
                project,
                repositories,
                credential: "accessToken",
                projectNumber: "123456789012",
                refresher: { namespace: "pull-tokens" },
            },
        }).credential;
        assert.ok(accessToken.mode === "accessToken");
        assert.deepEqual(accessToken.gcp.refresher, { namespace: "pull-tokens", image: defaultRefresherImage });
        assert.equal(accessToken.gcp.federation, undefined);
    });
});

describe("parseClusterReach", () => {
    const args = (extra: Partial<RegistryPullSecretArgs>) =>
        parseArgs("regcred", { ...cluster, credentials: { username: "robot", password: "pw" }, ...extra });

    it("declares the claims when they reach the Secrets' cluster: no explicit provider, or kubeconfig", () => {
        assert.deepEqual(parseClusterReach(args({}), false), { explicitProvider: false, claims: true });
        assert.deepEqual(parseClusterReach(args({ kubeconfig: "apiVersion: v1" }), true), {
            explicitProvider: true,
            claims: true,
        });
    });

    it("leaves the claims out with an explicit provider and patch attachments, and refuses merge without kubeconfig", () => {
        assert.deepEqual(parseClusterReach(args({ attachMode: "patch" }), true), {
            explicitProvider: true,
            claims: false,
        });
        assert.throws(
            () => parseClusterReach(args({}), true),
            (error: unknown) =>
                error instanceof pulumi.InputPropertyError &&
                /^kubeconfig must be given when a Kubernetes provider reaches the component/.test(error.reason),
        );
    });
});
