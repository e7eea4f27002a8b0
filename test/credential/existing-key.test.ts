import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { isSecretValue, resolve, reveal, settled, startMocks, type Registration } from "../support/mocks";
import { serviceAccountKeyFile } from "../support/key-file";
import type { RegistryPullSecretArgs } from "../../components";

startMocks();
import { RegistryPullSecret } from "../../components";

const repositoryRoot = path.resolve(__dirname, "..", "..");
const email = "legacy-puller@other-project.iam.gserviceaccount.com";
const keyFile = serviceAccountKeyFile(email);
const keyFileBase64 = Buffer.from(keyFile, "utf8").toString("base64");
const keyId = JSON.parse(keyFile).private_key_id as string;
const privateKeyPem = JSON.parse(keyFile).private_key as string;

function args(gcp: Partial<NonNullable<RegistryPullSecretArgs["gcp"]>>): RegistryPullSecretArgs {
    return {
        namespaces: ["team-a", "team-b"],
        registries: ["asia.gcr.io", "asia-northeast1-docker.pkg.dev"],
        gcp: {
            project: "example-project",
            repositories: [
                { location: "asia", repository: "asia.gcr.io" },
                { location: "asia-northeast1", repository: "images" },
            ],
            ...gcp,
        },
    };
}

/** Every input as the engine would store it in plain text: secrets masked. */
function plainText(registrations: Registration[]): string {
    return JSON.stringify(
        registrations.map((r) => r.inputs),
        (_key, value) => (isSecretValue(value) ? "[secret]" : value),
    );
}

for (const [form, existingKey] of [
    ["raw JSON from a secret", pulumi.secret(keyFile)],
    ["base64 from a secret", pulumi.secret(keyFileBase64)],
    ["raw JSON given as a plain string", keyFile],
] as const) {
    test(`an existing key (${form}) creates no service account and no key, and becomes the _json_key_base64 password once encoded`, async () => {
        const registrations = startMocks();
        const component = new RegistryPullSecret("regcred", args({ existingKey }));
        await settled();
        const types = registrations.map((r) => r.type);
        assert.ok(!types.includes("gcp:serviceaccount/account:Account"));
        assert.ok(!types.includes("gcp:serviceaccount/key:Key"));
        assert.deepEqual(
            types.filter((type) => type.startsWith("gcp:")),
            [
                "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
                "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
            ],
        );
        const config = await resolve(component.dockerConfigJson);
        assert.equal(config.secret, true);
        const auths = JSON.parse(config.value).auths as Record<
            string,
            { username: string; password: string; auth: string }
        >;
        for (const host of ["asia.gcr.io", "asia-northeast1-docker.pkg.dev"]) {
            assert.equal(auths[host].username, "_json_key_base64");
            assert.equal(auths[host].password, keyFileBase64);
            assert.equal(Buffer.from(auths[host].auth, "base64").toString(), `_json_key_base64:${keyFileBase64}`);
        }
    });
}

test("the grants go to the key's own account, and the Secrets wait for them", async () => {
    const registrations = startMocks();
    new RegistryPullSecret("regcred", args({ existingKey: pulumi.secret(keyFile) }));
    await settled();
    const grants = registrations.filter(
        (r) => r.type === "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    );
    assert.deepEqual(
        grants.map((g) => [g.name, reveal(g.inputs.member), isSecretValue(g.inputs.member), g.inputs.role]),
        [
            ["regcred/reader/asia/asia.gcr.io", `serviceAccount:${email}`, false, "roles/artifactregistry.reader"],
            [
                "regcred/reader/asia-northeast1/images",
                `serviceAccount:${email}`,
                false,
                "roles/artifactregistry.reader",
            ],
        ],
    );
    for (const secret of registrations.filter((r) => r.type === "kubernetes:core/v1:Secret")) {
        for (const grant of grants)
            assert.ok(secret.propertyDependencies.data.includes(grant.urn), `${secret.name} waits for ${grant.name}`);
        assert.ok(isSecretValue(secret.inputs.data));
    }
});

test("in a preview the key's account and key name are already known (they come from the key file) and the config stays secret", async () => {
    const registrations = startMocks({ preview: true });
    const component = new RegistryPullSecret("regcred", args({ existingKey: pulumi.secret(keyFile) }));
    await settled();
    assert.equal((await resolve(component.serviceAccountEmail)).value, email);
    assert.equal((await resolve(component.keyName)).known, true);
    assert.equal((await resolve(component.dockerConfigJson)).secret, true);
    assert.deepEqual(registrations.map((r) => r.type).sort(), [
        "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
        "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
        "kubernetes:core/v1:Secret",
        "kubernetes:core/v1:Secret",
        "pulumi-nodejs:dynamic/registry-pull-secret:PullReadiness",
        "pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry",
        "pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry",
        "pulumi-nodejs:dynamic/registry-pull-secret:SecretClaim",
        "pulumi:providers:kubernetes",
        "registry-pull-secret:index:RegistryPullSecret",
    ]);
});

test("outputs name the key's account and key (not secret), and keyRotatesAfter is empty", async () => {
    startMocks();
    const component = new RegistryPullSecret("regcred", args({ existingKey: pulumi.secret(keyFileBase64) }));
    assert.deepEqual(await resolve(component.serviceAccountEmail), { value: email, known: true, secret: false });
    assert.deepEqual(await resolve(component.keyName), {
        value: `projects/other-project/serviceAccounts/${email}/keys/${keyId}`,
        known: true,
        secret: false,
    });
    assert.deepEqual(await resolve(component.keyRotatesAfter), { value: "", known: true, secret: false });
    await settled();
});

test("no key material appears in any plain input: the key file, its base64 and its private key stay secret", async () => {
    for (const existingKey of [keyFile, pulumi.secret(keyFile), pulumi.secret(keyFileBase64)]) {
        const registrations = startMocks();
        new RegistryPullSecret("regcred", args({ existingKey }));
        await settled();
        const text = plainText(registrations);
        assert.ok(text.includes("[secret]"), "the Secret data is there, masked");
        for (const material of [
            keyFileBase64,
            privateKeyPem,
            JSON.stringify(privateKeyPem).slice(1, -1),
            keyFileBase64.slice(0, 40),
        ]) {
            assert.ok(!text.includes(material));
        }
    }
});

/**
 * Runs a program under the mocks in its own process, as `pulumi up` would run it: a value that
 * fails its check only when it resolves makes the program exit with the component's message.
 */
function runProgram(gcp: string): { status: number | null; stderr: string } {
    const program = `
        const { installMocks } = require("./test/support/mocks");
        installMocks();
        const pulumi = require("@pulumi/pulumi");
        const { serviceAccountKeyFile } = require("./test/support/key-file");
        const { RegistryPullSecret } = require("./components");
        new RegistryPullSecret("regcred", {
            namespaces: ["team-a"],
            registries: ["asia.gcr.io"],
            gcp: { project: "example-project", repositories: [{ location: "asia", repository: "asia.gcr.io" }], ${gcp} },
        });`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "-e", program], {
        cwd: repositoryRoot,
        encoding: "utf8",
        timeout: 60_000,
    });
    return { status: run.status, stderr: run.stderr };
}

test("serviceAccountEmail may name the key's account", async () => {
    startMocks();
    const same = new RegistryPullSecret("same", args({ existingKey: keyFile, serviceAccountEmail: email }));
    assert.equal((await resolve(same.serviceAccountEmail)).value, email);
    await settled();
});

test("a serviceAccountEmail that is not the key's account fails the program when the key resolves", () => {
    const run = runProgram(
        `existingKey: pulumi.secret(serviceAccountKeyFile(${JSON.stringify(email)})), serviceAccountEmail: "someone@example-project.iam.gserviceaccount.com"`,
    );
    assert.equal(run.status, 1);
    assert.match(
        run.stderr,
        /gcp\.serviceAccountEmail must be the service account of gcp\.existingKey \(its client_email\), or be left out/,
    );
    assert.ok(!run.stderr.includes(keyFileBase64.slice(0, 40)) && !run.stderr.includes("BEGIN PRIVATE KEY"));
});

test("a secret existingKey that is not a key file fails the program with a reason that quotes none of it", () => {
    const notAKey = JSON.stringify({
        type: "service_account",
        private_key: "-----BEGIN PRIVATE KEY-----\\nTOPSECRETMATERIAL\\n",
    });
    const run = runProgram(`existingKey: pulumi.secret(${JSON.stringify(notAKey)})`);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /gcp\.existingKey must be a service-account key file, but it has no project_id/);
    assert.ok(!run.stderr.includes("TOPSECRETMATERIAL"));
});

const refused: [string, Partial<NonNullable<RegistryPullSecretArgs["gcp"]>>, string][] = [
    [
        "with serviceAccountId",
        { existingKey: keyFile, serviceAccountId: "image-puller" },
        "gcp.serviceAccountId cannot be given with gcp.existingKey: that key already exists and belongs to its own service account; the component creates no account and no key, and whoever issued the key rotates it",
    ],
    [
        "with keyRotationDays",
        { existingKey: keyFile, keyRotationDays: 30 },
        "gcp.keyRotationDays cannot be given with gcp.existingKey: that key already exists and belongs to its own service account; the component creates no account and no key, and whoever issued the key rotates it",
    ],
    [
        "with keyVersion",
        { existingKey: keyFile, keyVersion: 1 },
        "gcp.keyVersion cannot be given with gcp.existingKey: that key already exists and belongs to its own service account; the component creates no account and no key, and whoever issued the key rotates it",
    ],
    [
        "that is not a key file",
        { existingKey: keyFile.replace("service_account", "authorized_user") },
        "gcp.existingKey must be a service-account key file: its type must be service_account",
    ],
];

for (const [what, gcp, message] of refused) {
    test(`an existing key ${what} is refused before anything is registered, without quoting the key`, () => {
        const registrations = startMocks();
        assert.throws(
            () => new RegistryPullSecret("regcred", args(gcp)),
            (error: Error & { propertyPath?: string }) =>
                error instanceof pulumi.InputPropertyError &&
                error.message === message &&
                error.propertyPath === message.split(" ")[0] &&
                !error.message.includes(privateKeyPem),
        );
        assert.equal(registrations.length, 0);
    });
}
