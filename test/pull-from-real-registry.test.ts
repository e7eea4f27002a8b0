/**
 * End to end against a real registry (test/support/real-registry.ts: Debian's `docker-registry` with
 * htpasswd on 127.0.0.1, an image built offline and pushed with skopeo): the `.dockerconfigjson` the
 * component produces (evaluated under the mocks) given to `skopeo --authfile`: the right credential
 * pulls, wrong ones are refused with 401.
 *
 * skopeo (containers/image) reads only the `auth` field of an authfile
 * (docs/facts.md#what-kubectl-writes-for-a-docker-registry-secret), so this proves the `auth` field; the
 * username/password fields are the same values by the encoder's tests.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { resolve, settled, startMocks } from "./support/mocks";
import { serviceAccountKeyFile } from "./support/key-file";
import { bcryptBytes, RealRegistry } from "./support/real-registry";
import type { RegistryPullSecretArgs } from "../components";

startMocks();
import { RegistryPullSecret, dockerConfigJson } from "../components";

/** The key file the mocks issue for the created service account `image-puller` (test/support/mocks.ts). */
const keyFile = serviceAccountKeyFile("image-puller@example-project.iam.gserviceaccount.com");
/**
 * What Artifact Registry accepts for a key, set up here independently of the component's constants:
 * the user `_json_key_base64` with the key file in base64 (docs/facts.md#usernames-and-passwords).
 */
const keyUser = "_json_key_base64";
const keyPassword = Buffer.from(keyFile, "utf8").toString("base64");
const userPassword = randomBytes(24).toString("hex");

let registry: RealRegistry;
let host = "";
before(async () => {
    registry = await RealRegistry.start([
        { user: "ci-user", password: userPassword },
        { user: keyUser, password: keyPassword },
    ]);
    host = registry.host;
});
after(() => registry.remove());

/** The component's `.dockerconfigjson` for this registry, written where skopeo can read it. */
async function authfileFrom(
    name: string,
    credential: Pick<RegistryPullSecretArgs, "gcp" | "credentials">,
): Promise<string> {
    const component = new RegistryPullSecret(name, { namespaces: ["e2e"], registries: [host], ...credential });
    const config = await resolve(component.dockerConfigJson);
    await settled();
    assert.equal(config.secret, true);
    return registry.writeAuthfile(name, config.value);
}

const writeAuthfile = (name: string, json: string) => registry.writeAuthfile(name, json);
const passwordIn = (authfile: string) => registry.passwordIn(authfile);
const assertPulls = (authfile: string) => registry.assertPulls(authfile);
const assertRefused = (authfile: string) => registry.assertRefused(authfile);

test("the registry refuses a pull that carries no credential at all (the checks below can fail)", async () => {
    await assertRefused(writeAuthfile("no-credential", JSON.stringify({ auths: {} })));
});

test("credentials mode: the component's docker config pulls the image", async () => {
    await assertPulls(
        await authfileFrom("any-registry", {
            credentials: { username: "ci-user", password: pulumi.secret(userPassword) },
        }),
    );
});

test("credentials mode: a wrong password (different within bcrypt's first 72 bytes) is refused", async () => {
    const wrong = (userPassword[0] === "a" ? "b" : "a") + userPassword.slice(1);
    assert.notEqual(wrong.slice(0, bcryptBytes), userPassword.slice(0, bcryptBytes));
    await assertRefused(
        await authfileFrom("wrong-password", { credentials: { username: "ci-user", password: wrong } }),
    );
});

test("credentials mode: the right password under another username is refused", async () => {
    await assertRefused(
        await authfileFrom("wrong-user", { credentials: { username: "ci-usr", password: userPassword } }),
    );
});

const gcpKey = {
    project: "example-project",
    serviceAccountId: "image-puller",
    repositories: [{ location: "us", repository: "gcr.io" }],
};

test("service-account key mode: the created key's docker config (_json_key_base64) pulls the image", async () => {
    const authfile = await authfileFrom("created-key", { gcp: gcpKey });
    // The registry compares bcrypt's 72 bytes; the rest of the password is checked byte for byte here.
    assert.equal(passwordIn(authfile), keyPassword);
    await assertPulls(authfile);
});

for (const [form, existingKey] of [
    ["raw JSON", keyFile],
    ["base64", keyPassword],
] as const) {
    test(`existing key mode (${form}): the component's docker config pulls the image`, async () => {
        const authfile = await authfileFrom(`existing-key-${form.replace(/\W/g, "")}`, {
            gcp: { project: "example-project", existingKey: pulumi.secret(existingKey) },
        });
        assert.equal(passwordIn(authfile), keyPassword);
        await assertPulls(authfile);
    });
}

test("service-account key mode: another account's key (different within bcrypt's first 72 bytes) is refused", async () => {
    const otherKey = serviceAccountKeyFile("rogue@another-project.iam.gserviceaccount.com");
    const authfile = await authfileFrom("other-key", {
        gcp: { project: "example-project", existingKey: pulumi.secret(otherKey) },
    });
    assert.notEqual(passwordIn(authfile).slice(0, bcryptBytes), keyPassword.slice(0, bcryptBytes));
    await assertRefused(authfile);
});

test("service-account key mode: the key encoded twice (the classic bug) would be refused", async () => {
    const doubled = Buffer.from(keyPassword).toString("base64");
    await assertRefused(
        writeAuthfile("double-encoded", dockerConfigJson([{ server: host, username: keyUser, password: doubled }])),
    );
});

test("the registry is stopped afterwards (checked by the last test: nothing listens once it is killed)", async () => {
    await registry.stop();
    const status = await fetch(`http://${host}/v2/`).then(
        (response) => response.status,
        () => 0,
    );
    assert.equal(status, 0, "the port no longer answers");
});
