import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { isSecretValue, resolve, settled, startMocks } from "../support/mocks";
import type { RegistryPullSecretArgs } from "../../components";

startMocks();
import { RegistryPullSecret } from "../../components";

const password = "ghp_3xampleT0kenThatIsLongEnough0123456789";

function args(overrides: Partial<RegistryPullSecretArgs> = {}): RegistryPullSecretArgs {
    return {
        namespaces: ["team-a", "team-b"],
        registries: ["ghcr.io", "registry.example.com:5000"],
        serviceAccounts: ["default", "builder"],
        credentials: { username: "octocat", password },
        ...overrides,
    };
}

test("credentials declare only the Secrets (after their claim and on their own provider) and attachments: no Google Cloud resource, and no readiness gate unless asked", async () => {
    const registrations = startMocks();
    new RegistryPullSecret("regcred", args());
    await settled();
    assert.deepEqual(
        registrations.map((r) => [r.type, r.name]).sort(),
        [
            ["registry-pull-secret:index:RegistryPullSecret", "regcred"],
            ["pulumi-nodejs:dynamic/registry-pull-secret:SecretClaim", "regcred-claim"],
            ["pulumi:providers:kubernetes", "regcred-secrets"],
            ["kubernetes:core/v1:Secret", "regcred/team-a"],
            ["pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry", "regcred/team-a/default"],
            ["pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry", "regcred/team-a/builder"],
            ["kubernetes:core/v1:Secret", "regcred/team-b"],
            ["pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry", "regcred/team-b/default"],
            ["pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry", "regcred/team-b/builder"],
        ].sort(),
    );
});

test("credentials with readiness.wait true: every Secret waits for a gate that asks each registry to sign the password in", async () => {
    const registrations = startMocks();
    new RegistryPullSecret("regcred", args({ readiness: { wait: true, timeoutSeconds: 120 } }));
    await settled();
    const gate = registrations.find((r) => r.type === "pulumi-nodejs:dynamic/registry-pull-secret:PullReadiness")!;
    assert.deepEqual(
        { probes: gate.inputs.probes, timeoutSeconds: gate.inputs.timeoutSeconds, username: gate.inputs.username },
        {
            probes: [
                { host: "ghcr.io", repositories: [] },
                { host: "registry.example.com:5000", repositories: [] },
            ],
            timeoutSeconds: 120,
            username: "octocat",
        },
    );
    for (const secret of registrations.filter((r) => r.type === "kubernetes:core/v1:Secret")) {
        assert.ok(secret.dependencies.includes(gate.urn), `${secret.name} waits for the gate`);
    }
});

test("the docker config carries the username, password and matching auth for every registry, as a secret", async () => {
    startMocks();
    const component = new RegistryPullSecret("regcred", args({ email: "ci@example.com" }));
    const config = await resolve(component.dockerConfigJson);
    assert.equal(config.secret, true);
    const auth = Buffer.from(`octocat:${password}`).toString("base64");
    assert.equal(
        config.value,
        `{"auths":{"ghcr.io":{"username":"octocat","password":"${password}","email":"ci@example.com","auth":"${auth}"},` +
            `"registry.example.com:5000":{"username":"octocat","password":"${password}","email":"ci@example.com","auth":"${auth}"}}}`,
    );
    await settled();
});

test("the password is secret everywhere it flows, even when given as a plain string", async () => {
    const registrations = startMocks();
    new RegistryPullSecret("regcred", args());
    await settled();
    const secrets = registrations.filter((r) => r.type === "kubernetes:core/v1:Secret");
    assert.equal(secrets.length, 2);
    for (const secret of secrets) assert.ok(isSecretValue(secret.inputs.data));
    const plain = JSON.stringify(
        registrations.map((r) => r.inputs),
        (_key, value) => (isSecretValue(value) ? "[secret]" : value),
    );
    assert.ok(!plain.includes(password));
    assert.ok(!plain.includes(Buffer.from(`octocat:${password}`).toString("base64")));
});

test("Google-only outputs exist with empty values: no service account, no key, no rotation", async () => {
    startMocks();
    const component = new RegistryPullSecret("regcred", args());
    for (const output of [component.serviceAccountEmail, component.keyName, component.keyRotatesAfter]) {
        assert.deepEqual(await resolve(output), { value: "", known: true, secret: false });
    }
    assert.equal((await resolve(component.secretName)).value, "regcred");
    await settled();
});

test("a password known only later (a secret from config) works the same", async () => {
    startMocks();
    const component = new RegistryPullSecret(
        "regcred",
        args({ credentials: { username: "octocat", password: pulumi.secret(password) } }),
    );
    const config = await resolve(component.dockerConfigJson);
    assert.equal(config.secret, true);
    assert.equal(JSON.parse(config.value).auths["ghcr.io"].password, password);
    await settled();
});

const refused: [string, Partial<RegistryPullSecretArgs>, string][] = [
    [
        "neither gcp nor credentials",
        { credentials: undefined },
        "gcp or credentials: exactly one is required; neither is set (gcp for a Google Cloud credential: a service-account key, the GKE node pool's account or short-lived tokens; credentials for a username and password of any registry)",
    ],
    [
        "both gcp and credentials",
        { gcp: { project: "example-project", serviceAccountEmail: "puller@example-project.iam.gserviceaccount.com" } },
        "credentials or gcp: exactly one is required; both are set",
    ],
    [
        "a username with ':'",
        { credentials: { username: "octo:cat", password } },
        "credentials.username must not contain ':' (basic auth splits username and password on the first ':')",
    ],
    ["an empty username", { credentials: { username: "", password } }, "credentials.username must not be empty"],
    [
        "an empty password",
        { credentials: { username: "octocat", password: "" } },
        "credentials.password must not be empty",
    ],
    [
        "no password",
        { credentials: { username: "octocat" } as RegistryPullSecretArgs["credentials"] },
        "credentials.password is required; it is not set",
    ],
];

for (const [what, overrides, message] of refused) {
    test(`${what} is refused before anything is registered`, () => {
        const registrations = startMocks();
        assert.throws(
            () => new RegistryPullSecret("regcred", args(overrides)),
            (error: Error & { propertyPath?: string }) =>
                error instanceof pulumi.InputPropertyError &&
                error.message === message &&
                error.propertyPath === message.split(" ")[0],
        );
        assert.equal(registrations.length, 0);
    });
}
