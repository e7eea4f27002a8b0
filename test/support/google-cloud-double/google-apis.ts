/**
 * What Google's APIs do to the state file (./state.ts) when the provider double calls them: find an
 * account, a repository, a pool; create and delete keys; add and remove IAM members. Errors are
 * `GoogleApiError`s worded as the API words them (code, message, reason), which the provider wraps
 * as the Terraform provider does ("Error creating service account key: googleapi: Error 404: ...").
 */
import { createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { serviceAccountKeyFile } from "../key-file";
import { drawDelayMs } from "./propagation";
import { normalizeIamMember } from "./rules";
import {
    newEtag,
    type GoogleCloud,
    type Policy,
    type Project,
    type ServiceAccount,
    type ServiceAccountKey,
} from "./state";

export class GoogleApiError extends Error {
    constructor(
        readonly code: number,
        message: string,
        readonly reason: string,
        /** The error's `details` (google.rpc types such as PreconditionFailure), as the API sends them. */
        readonly details: Record<string, unknown>[] = [],
    ) {
        super(message);
    }
    /**
     * As google.golang.org/api's googleapi.Error prints itself (`Error()` in googleapi/googleapi.go,
     * read at v0.290.0; terraform-provider-google-beta v7.45.0 requires v0.293.0): the message, then any
     * details as indented JSON after "Details:", then the one error item's reason. The JSON REST answers
     * of the IAM API carry one error item whose message is the error's own, so the reason follows.
     */
    describe(): string {
        const details = this.details.length > 0 ? `\nDetails:\n${goJsonIndent(this.details)}\n` : "";
        return `googleapi: Error ${this.code}: ${this.message}${details}, ${this.reason}`;
    }
}

/**
 * Go's json.Encoder with SetIndent("", "  ") on values decoded into interface{}: map keys sorted, two
 * spaces, and `<`, `>`, `&` escaped (the encoder's default HTML escaping).
 */
function goJsonIndent(value: unknown): string {
    const sorted = (v: unknown): unknown =>
        Array.isArray(v)
            ? v.map(sorted)
            : v !== null && typeof v === "object"
              ? Object.fromEntries(
                    Object.keys(v)
                        .sort()
                        .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
                )
              : v;
    return JSON.stringify(sorted(value), null, 2)
        .replace(/</g, "\\u003c")
        .replace(/>/g, "\\u003e")
        .replace(/&/g, "\\u0026");
}

export const notFound = (message = "Requested entity was not found.") => new GoogleApiError(404, message, "notFound");

export function projectOf(google: GoogleCloud, projectId: string, permission: string): Project {
    const project = google.projects[projectId];
    // The API answers a project it does not know (or the caller may not see) with 403.
    if (!project) {
        throw new GoogleApiError(
            403,
            `Permission '${permission}' denied on resource (or it may not exist).`,
            "forbidden",
        );
    }
    return project;
}

export interface FoundAccount {
    projectId: string;
    email: string;
    account: ServiceAccount;
}

/**
 * `projects/{project or -}/serviceAccounts/{email or unique id}`, as the IAM API resolves it
 * (cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/get: `-` infers the project).
 */
export function findAccount(google: GoogleCloud, name: string): FoundAccount | undefined {
    const match = /^projects\/([^/]+)\/serviceAccounts\/([^/]+)$/.exec(name);
    if (!match) return undefined;
    const [, projectId, which] = match;
    for (const [id, project] of Object.entries(google.projects)) {
        if (projectId !== "-" && projectId !== id) continue;
        for (const [email, account] of Object.entries(project.serviceAccounts)) {
            if (email === which.toLowerCase() || account.uniqueId === which) return { projectId: id, email, account };
        }
    }
    return undefined;
}

export function accountName(found: FoundAccount): string {
    return `projects/${found.projectId}/serviceAccounts/${found.email}`;
}

/** Every member of every binding, with `serviceAccount:` members of a deleted account rewritten as Google does. */
export function markAccountDeleted(google: GoogleCloud, email: string, uniqueId: string): void {
    const deleted = `deleted:serviceAccount:${email}?uid=${uniqueId}`;
    const policies = Object.values(google.projects).flatMap((project) => [
        ...Object.values(project.repositories).map((r) => r.iamPolicy),
        ...Object.values(project.serviceAccounts).map((a) => a.iamPolicy),
    ]);
    for (const policy of policies) {
        for (const binding of policy.bindings) {
            binding.members = binding.members.map((m) =>
                normalizeIamMember(m) === `serviceAccount:${email}` ? deleted : m,
            );
        }
    }
}

/** Adds `member` to `role` (MergeBindings: non-authoritative, other members and roles stay). */
export function addMember(policy: Policy, role: string, member: string): void {
    const binding = policy.bindings.find((b) => b.role === role);
    if (!binding) policy.bindings.push({ role, members: [member] });
    else if (!binding.members.some((m) => normalizeIamMember(m) === normalizeIamMember(member))) {
        binding.members.push(member);
    }
    policy.etag = newEtag();
}

/** Removes `member` from `role` only (subtractFromBindings); a binding left empty disappears. */
export function removeMember(policy: Policy, role: string, member: string): void {
    for (const binding of policy.bindings) {
        if (binding.role !== role) continue;
        binding.members = binding.members.filter((m) => normalizeIamMember(m) !== normalizeIamMember(member));
    }
    policy.bindings = policy.bindings.filter((b) => b.members.length > 0);
    policy.etag = newEtag();
}

/** Whether `member` holds one of `roles` in the policy (members compared as the provider normalises them). */
export function holdsRole(policy: Policy | undefined, roles: readonly string[], member: string): boolean {
    return (policy?.bindings ?? []).some(
        (b) => roles.includes(b.role) && b.members.some((m) => normalizeIamMember(m) === normalizeIamMember(member)),
    );
}

/** The member as the policy holds it (its own casing), or undefined. */
export function memberIn(policy: Policy, role: string, member: string): string | undefined {
    return policy.bindings
        .find((b) => b.role === role)
        ?.members.find((m) => normalizeIamMember(m) === normalizeIamMember(member));
}

/**
 * Members the API checks before it stores a policy: a `serviceAccount:` member must name an existing
 * account (the API answers 400 "Service account ... does not exist."); `principal://` and
 * `principalSet://` members must name the IAM service (cloud.google.com/iam/docs/principal-identifiers).
 */
export function checkMemberExists(google: GoogleCloud, member: string): void {
    if (member.startsWith("serviceAccount:")) {
        const email = member.slice("serviceAccount:".length);
        if (!findAccount(google, `projects/-/serviceAccounts/${email}`)) {
            throw new GoogleApiError(400, `Service account ${email} does not exist.`, "badRequest");
        }
    }
    if (
        /^principal(Set)?:/.test(member) &&
        !/^principal(Set)?:\/\/iam\.googleapis\.com\/projects\/\d+\//.test(member)
    ) {
        throw new GoogleApiError(400, `Invalid principal identifier ${member}.`, "badRequest");
    }
}

/** A user-managed key never expires unless an org policy says so (cloud.google.com/iam/docs/keys-create-delete). */
const userManagedKeyValidBefore = "9999-12-31T23:59:59Z";

function rfc3339Seconds(date: Date): string {
    return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// DER (ITU-T X.690) for the few ASN.1 values an X.509 certificate (RFC 5280 section 4.1) needs.
function der(tag: number, content: Buffer): Buffer {
    const n = content.length;
    // Short form below 128, else 0x80 | byte count followed by the length in big-endian bytes.
    const long = Buffer.from(n.toString(16).padStart(n.toString(16).length + (n.toString(16).length % 2), "0"), "hex");
    const length = n < 0x80 ? Buffer.from([n]) : Buffer.concat([Buffer.from([0x80 | long.length]), long]);
    return Buffer.concat([Buffer.from([tag]), length, content]);
}
const sequence = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const sha256WithRsa = sequence(der(0x06, Buffer.from("2a864886f70d01010b", "hex")), Buffer.from([0x05, 0x00]));
const commonName = (cn: string) =>
    sequence(der(0x31, sequence(der(0x06, Buffer.from("550403", "hex")), der(0x0c, Buffer.from(cn, "utf8")))));
/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 section 4.1.2.5). */
function time(date: Date): Buffer {
    const text = date
        .toISOString()
        .replace(/[-:T]/g, "")
        .replace(/\.\d{3}Z$/, "Z");
    return date.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(text.slice(2))) : der(0x18, Buffer.from(text));
}

/**
 * A self-signed X.509 certificate of the key, the form keys.get returns for TYPE_X509_PEM_FILE.
 * Google's own issuer and subject names are not modelled: the subject here is the account's unique id.
 */
function certificate(privateKey: KeyObject, subject: string, validAfter: Date, validBefore: Date): string {
    const serial = Buffer.concat([Buffer.from([0x01]), randomBytes(15)]);
    const tbs = sequence(
        Buffer.from("a003020102", "hex"), // [0] EXPLICIT version v3
        der(0x02, serial),
        sha256WithRsa,
        commonName(subject),
        sequence(time(validAfter), time(validBefore)),
        commonName(subject),
        createPublicKey(privateKey).export({ type: "spki", format: "der" }),
    );
    const signature = sign("sha256", tbs, privateKey);
    const body = sequence(tbs, sha256WithRsa, der(0x03, Buffer.concat([Buffer.from([0x00]), signature])));
    const lines = body
        .toString("base64")
        .match(/.{1,64}/g)!
        .join("\n");
    return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

export interface CreatedKey {
    keyId: string;
    key: ServiceAccountKey;
    /** The key file's bytes in base64: `privateKeyData` of the create response, the only copy of the private key. */
    privateKeyData: string;
}

/** The organization policy constraint that forbids new user-managed keys. */
export const keyCreationConstraint = "iam.disableServiceAccountKeyCreation";

/**
 * The refusal of a key where {@link keyCreationConstraint} is enforced, as Google words it: HTTP 400
 * FAILED_PRECONDITION, "Key creation is not allowed on this service account.", and the constraint named
 * only in a google.rpc.PreconditionFailure detail (cloud.google.com/iam/docs/troubleshoot-org-policies,
 * "Key creation error"; the detail's fields as gcloud printed them in google/create-service-account#21:
 * the violation's type, the account with `?configvalue=` and the same description).
 */
export function keyCreationRefused(found: FoundAccount): GoogleApiError {
    const message = "Key creation is not allowed on this service account.";
    const account = accountName(found);
    return new GoogleApiError(400, message, "failedPrecondition", [
        {
            "@type": "type.googleapis.com/google.rpc.PreconditionFailure",
            violations: [
                {
                    type: `constraints/${keyCreationConstraint}`,
                    subject: `${account}?configvalue=${encodeURIComponent(found.email)}`,
                    description: message,
                },
            ],
        },
    ]);
}

/**
 * projects.serviceAccounts.keys.create (cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts.keys/create),
 * with the new key's propagation and the project's key expiry (./propagation.ts):
 * refused with FAILED_PRECONDITION where `iam.disableServiceAccountKeyCreation` is enforced
 * ({@link keyCreationRefused}) and when the account already has 10 user-managed keys (cloud.google.com/iam/quotas).
 */
export function createKey(google: GoogleCloud, found: FoundAccount, keyAlgorithm: string, now: Date): CreatedKey {
    const project = google.projects[found.projectId];
    if (project.constraints.includes(keyCreationConstraint)) throw keyCreationRefused(found);
    if (Object.keys(found.account.keys).length >= 10) {
        throw new GoogleApiError(400, "Precondition check failed.", "failedPrecondition");
    }
    const bits = keyAlgorithm === "KEY_ALG_RSA_1024" ? 1024 : 2048;
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: bits });
    const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const keyId = randomBytes(20).toString("hex");
    // Under constraints/iam.serviceAccountKeyExpiryHours a key expires that many hours after it is made.
    const validBefore =
        project.keyExpiryHours === undefined
            ? new Date(userManagedKeyValidBefore)
            : new Date(Math.floor(now.getTime() / 1000) * 1000 + project.keyExpiryHours * 3_600_000);
    const name = `projects/${found.projectId}/serviceAccounts/${found.email}/keys/${keyId}`;
    const key: ServiceAccountKey = {
        keyAlgorithm: `KEY_ALG_RSA_${bits}`,
        publicKeyCertificate: certificate(privateKey, found.account.uniqueId, now, validBefore),
        validAfterTime: rfc3339Seconds(now),
        validBeforeTime: rfc3339Seconds(validBefore),
        signsInAfterMs:
            now.getTime() + drawDelayMs(google, google.propagation.keySeconds, `new key ${name}`, now.getTime()),
    };
    found.account.keys[keyId] = key;
    const keyFile = serviceAccountKeyFile(found.email, {
        projectId: found.projectId,
        privateKeyId: keyId,
        privateKeyPem,
        clientId: found.account.uniqueId,
    });
    return { keyId, key, privateKeyData: Buffer.from(keyFile, "utf8").toString("base64") };
}

/** A key issued outside Pulumi (as `gcloud iam service-accounts keys create` would): its key file in base64. */
export function issueKey(google: GoogleCloud, email: string): string {
    const found = findAccount(google, `projects/-/serviceAccounts/${email}`);
    if (!found) throw new Error(`no service account ${email} to issue a key for`);
    return createKey(google, found, "KEY_ALG_RSA_2048", new Date()).privateKeyData;
}

export function audit(google: GoogleCloud, method: string, resource: string): void {
    google.auditLog.push({ atMs: Date.now(), method, resource });
}
