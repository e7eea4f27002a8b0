import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { argsFromConfig } from "../components/stack-config";
import { resolve } from "./support/mocks";
import { serviceAccountKeyFile } from "./support/key-file";

const base = {
    "registry-pull-secret:namespaces": '["team-a"]',
    "registry-pull-secret:registries": '["asia.gcr.io"]',
};

/** The sample stack's args for this config, as `pulumi up` would pass it (Pulumi.yaml defaults included). */
function argsFor(config: Record<string, string>) {
    pulumi.runtime.setAllConfig({
        ...base,
        "registry-pull-secret:keyRotationDays": "0",
        "registry-pull-secret:keyVersion": "0",
        "registry-pull-secret:existingKey": "",
        "registry-pull-secret:registryUsername": "",
        "registry-pull-secret:registryPassword": "",
        "registry-pull-secret:gcpProject": "",
        ...config,
    });
    return argsFromConfig(new pulumi.Config("registry-pull-secret"));
}

test("keyRotationDays and keyVersion from config reach the component; their 0 defaults mean unset", () => {
    const gcp = {
        "registry-pull-secret:gcpProject": "example-project",
        "registry-pull-secret:serviceAccountId": "image-puller",
    };
    const rotating = argsFor({
        ...gcp,
        "registry-pull-secret:keyRotationDays": "30",
        "registry-pull-secret:keyVersion": "2",
    }).gcp;
    assert.equal(rotating?.keyRotationDays, 30);
    assert.equal(rotating?.keyVersion, 2);
    const plain = argsFor(gcp);
    assert.equal(plain.gcp?.keyRotationDays, undefined);
    assert.equal(plain.gcp?.keyVersion, undefined);
    assert.equal(plain.gcp?.existingKey, undefined);
    assert.equal(plain.credentials, undefined);
});

test("existingKey from config is passed on as a secret, even if it was not stored with --secret", async () => {
    const keyFile = serviceAccountKeyFile("legacy-puller@example-project.iam.gserviceaccount.com");
    const args = argsFor({
        "registry-pull-secret:gcpProject": "example-project",
        "registry-pull-secret:existingKey": keyFile,
    });
    assert.ok(pulumi.Output.isInstance(args.gcp?.existingKey));
    assert.deepEqual(await resolve(pulumi.output(args.gcp?.existingKey)), {
        value: keyFile,
        known: true,
        secret: true,
    });
});

test("registryUsername selects plain credentials, with the password as a secret and no gcp", async () => {
    const args = argsFor({
        "registry-pull-secret:registryUsername": "octocat",
        "registry-pull-secret:registryPassword": "ghp_token",
    });
    assert.equal(args.gcp, undefined);
    assert.equal(args.credentials?.username, "octocat");
    assert.deepEqual(await resolve(pulumi.output(args.credentials?.password)), {
        value: "ghp_token",
        known: true,
        secret: true,
    });
});

test("registryUsername without registryPassword names the key and the command that stores it encrypted", () => {
    assert.throws(
        () => argsFor({ "registry-pull-secret:registryUsername": "octocat" }),
        (error: Error) => {
            assert.match(
                error.message,
                /registry-pull-secret:registryPassword.*is required with registryUsername: run pulumi config set --secret registryPassword/,
            );
            return true;
        },
    );
});
