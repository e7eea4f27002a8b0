/**
 * Reading a service-account key file that already exists (`gcp.existingKey`), as raw JSON or base64.
 * Pure: no Pulumi. Reasons never quote the input or a parser's message, which could echo key material.
 */

import { emailProblem } from "../rules/rules";

/** What the component needs from a key file; none of it is key material. */
export interface ServiceAccountKeyIdentity {
    projectId: string;
    privateKeyId: string;
    clientEmail: string;
}

/** A key file that passed every check. */
export interface ServiceAccountKey {
    identity: ServiceAccountKeyIdentity;
    /**
     * The key file's bytes in base64, exactly as `gcp.serviceaccount.Key.privateKey` holds a key the
     * component creates: the `_json_key_base64` password. Raw JSON is encoded once; base64 input is
     * decoded to check it and re-encoded from the same bytes, so it is never encoded twice.
     */
    base64: string;
}

const base64Text = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The key file's bytes: text starting with `{` is the JSON itself, anything else must be standard
 * base64 (line breaks allowed, as `base64` writes them) of it. `undefined` when it is neither.
 */
function keyFileBytes(text: string): Buffer | undefined {
    if (text.trimStart().startsWith("{")) return Buffer.from(text, "utf8");
    const compact = text.replace(/\s+/g, "");
    if (compact.length === 0 || compact.length % 4 !== 0 || !base64Text.test(compact)) return undefined;
    return Buffer.from(compact, "base64");
}

/** Parses JSON without letting the parser's message (which may quote the text) escape. */
function parseJson(bytes: Buffer): unknown {
    try {
        return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch {
        return undefined;
    }
}

const requiredFields = ["project_id", "private_key_id", "private_key", "client_email"] as const;

/**
 * Checks that `text` is a Google service-account key file (the JSON `gcloud iam service-accounts keys
 * create` writes, or its base64) and returns it, or the reason it is not one.
 */
export function readServiceAccountKey(text: string): ServiceAccountKey | { problem: string } {
    if (typeof text !== "string") return { problem: "must be a string" };
    const bytes = keyFileBytes(text);
    if (bytes === undefined) {
        return {
            problem: "must be a service-account key file: its JSON (starting with '{') or the standard base64 of it",
        };
    }
    const file = parseJson(bytes) as Record<string, unknown> | undefined;
    if (file === null || typeof file !== "object" || Array.isArray(file)) {
        return { problem: "must be a service-account key file, but it is not a JSON object (nor base64 of one)" };
    }
    if (file.type === "external_account") {
        return {
            problem:
                "is a Workload Identity Federation configuration (type external_account), not a service-account key: it holds no private key a registry accepts as a password",
        };
    }
    if (file.type !== "service_account") {
        return { problem: "must be a service-account key file: its type must be service_account" };
    }
    const missing = requiredFields.find((field) => typeof file[field] !== "string" || file[field] === "");
    if (missing !== undefined) {
        return { problem: `must be a service-account key file, but it has no ${missing}` };
    }
    if (!/^-----BEGIN (RSA )?PRIVATE KEY-----/.test(file.private_key as string)) {
        return { problem: "must be a service-account key file, but its private_key is not a PEM private key" };
    }
    if (emailProblem(file.client_email as string) !== undefined) {
        return { problem: "must be a service-account key file, but its client_email is not an email address" };
    }
    if (!/^[A-Za-z0-9_-]+$/.test(file.private_key_id as string)) {
        return { problem: "must be a service-account key file, but its private_key_id is not a key id" };
    }
    return {
        identity: {
            projectId: file.project_id as string,
            privateKeyId: file.private_key_id as string,
            clientEmail: file.client_email as string,
        },
        base64: bytes.toString("base64"),
    };
}

/** The key's resource name, as `gcp.serviceaccount.Key.name` has it: `projects/P/serviceAccounts/E/keys/K`. */
export function serviceAccountKeyName(identity: ServiceAccountKeyIdentity): string {
    return `projects/${identity.projectId}/serviceAccounts/${identity.clientEmail}/keys/${identity.privateKeyId}`;
}
