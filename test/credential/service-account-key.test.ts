import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { readServiceAccountKey, serviceAccountKeyName } from "../../components/credential/service-account-key";
import { serviceAccountKeyFile } from "../support/key-file";

/** The reason `text` is not a service-account key file, or `undefined`. */
function serviceAccountKeyProblem(text: string): string | undefined {
    const key = readServiceAccountKey(text);
    return "problem" in key ? key.problem : undefined;
}

const email = "image-puller@example-project.iam.gserviceaccount.com";
const keyFile = serviceAccountKeyFile(email);
const keyFileBase64 = Buffer.from(keyFile, "utf8").toString("base64");
const keyId = JSON.parse(keyFile).private_key_id as string;

/** A key file with some fields replaced (undefined removes one). */
function variant(fields: Record<string, unknown>): string {
    return JSON.stringify({ ...JSON.parse(keyFile), ...fields });
}

function read(text: string) {
    const key = readServiceAccountKey(text);
    if ("problem" in key) assert.fail(`expected a key file, got: ${key.problem}`);
    return key;
}

test("raw JSON and its base64 (one line or wrapped like base64(1)) read as the same key", () => {
    const wrapped = keyFileBase64.replace(/(.{76})/g, "$1\n") + "\n";
    for (const text of [keyFile, keyFileBase64, wrapped, `\n  ${keyFile}\n`.trimEnd()]) {
        const key = read(text);
        assert.deepEqual(key.identity, { projectId: "example-project", privateKeyId: keyId, clientEmail: email });
    }
    assert.equal(read(keyFile).base64, keyFileBase64);
    assert.equal(read(keyFileBase64).base64, keyFileBase64);
    assert.equal(read(wrapped).base64, keyFileBase64);
});

test("the password is the key file encoded exactly once, whichever form came in", () => {
    fc.assert(
        fc.property(fc.emailAddress(), fc.boolean(), (address, asBase64) => {
            const file = serviceAccountKeyFile(address);
            const text = asBase64 ? Buffer.from(file, "utf8").toString("base64") : file;
            const decoded = Buffer.from(read(text).base64, "base64").toString("utf8");
            assert.equal(decoded, file);
        }),
    );
});

test("the key's resource name is the one the Google provider reports for a key", () => {
    assert.equal(
        serviceAccountKeyName(read(keyFile).identity),
        `projects/example-project/serviceAccounts/${email}/keys/${keyId}`,
    );
});

const rejected: [string, string, string][] = [
    [
        "text that is neither JSON nor base64",
        "not a key!",
        "must be a service-account key file: its JSON (starting with '{') or the standard base64 of it",
    ],
    [
        "an empty string",
        "",
        "must be a service-account key file: its JSON (starting with '{') or the standard base64 of it",
    ],
    [
        "broken JSON",
        keyFile.slice(0, -1),
        "must be a service-account key file, but it is not a JSON object (nor base64 of one)",
    ],
    [
        "base64 of something that is not JSON",
        Buffer.from("hello world!").toString("base64"),
        "must be a service-account key file, but it is not a JSON object (nor base64 of one)",
    ],
    [
        "a JSON array",
        "[1]",
        "must be a service-account key file: its JSON (starting with '{') or the standard base64 of it",
    ],
    [
        "a Workload Identity Federation config",
        variant({ type: "external_account" }),
        "is a Workload Identity Federation configuration (type external_account), not a service-account key: it holds no private key a registry accepts as a password",
    ],
    [
        "an OAuth user credential",
        variant({ type: "authorized_user" }),
        "must be a service-account key file: its type must be service_account",
    ],
    [
        "a key without client_email",
        variant({ client_email: undefined }),
        "must be a service-account key file, but it has no client_email",
    ],
    [
        "a key without private_key",
        variant({ private_key: undefined }),
        "must be a service-account key file, but it has no private_key",
    ],
    [
        "a key without private_key_id",
        variant({ private_key_id: "" }),
        "must be a service-account key file, but it has no private_key_id",
    ],
    [
        "a key without project_id",
        variant({ project_id: 7 }),
        "must be a service-account key file, but it has no project_id",
    ],
    [
        "a private key that is not PEM",
        variant({ private_key: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" }),
        "must be a service-account key file, but its private_key is not a PEM private key",
    ],
    [
        "a client_email that is not an email",
        variant({ client_email: "image-puller" }),
        "must be a service-account key file, but its client_email is not an email address",
    ],
    [
        "a private_key_id with a path in it",
        variant({ private_key_id: "../x" }),
        "must be a service-account key file, but its private_key_id is not a key id",
    ],
];

for (const [what, text, problem] of rejected) {
    test(`rejects ${what} with a reason that quotes none of it`, () => {
        assert.equal(serviceAccountKeyProblem(text), problem);
    });
}

test("a valid key file has no problem", () => {
    assert.equal(serviceAccountKeyProblem(keyFile), undefined);
    assert.equal(serviceAccountKeyProblem(keyFileBase64), undefined);
});

test("no reason ever contains the private key, whatever is broken around it", () => {
    fc.assert(
        fc.property(
            fc.string({ minLength: 8, unit: "grapheme" }),
            fc.constantFrom("type", "client_email", "project_id", "private_key_id", "none"),
            fc.boolean(),
            (secret, broken, asBase64) => {
                const privateKey = `-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----\n`;
                const file = variant({ private_key: privateKey, ...(broken === "none" ? {} : { [broken]: 42 }) });
                const text = asBase64 ? Buffer.from(file).toString("base64") : file.slice(0, -2);
                const problem = serviceAccountKeyProblem(text) ?? "";
                assert.ok(!problem.includes(secret), problem);
            },
        ),
    );
});
