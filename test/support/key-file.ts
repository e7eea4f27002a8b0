import { createHash } from "node:crypto";

/** The parts of a key file that differ from key to key. */
export interface KeyFileParts {
    projectId: string;
    privateKeyId: string;
    /** PKCS #8 PEM, as Google writes it (`-----BEGIN PRIVATE KEY-----`). */
    privateKeyPem: string;
    clientId: string;
}

/**
 * A service-account key file shaped like the ones Google issues (the JSON that `privateKey` holds in
 * base64): the fields of `gcloud iam service-accounts keys create`'s output, in its order, indented by
 * two spaces. Without `parts`, the private key is not a real RSA key: nothing signs with it. The
 * Google Cloud double (test/support/google-cloud-double) passes a real key.
 */
export function serviceAccountKeyFile(email: string, parts?: KeyFileParts): string {
    const id = createHash("sha256").update(email).digest("hex");
    const project = email.split("@")[1]?.split(".")[0] ?? "project";
    return JSON.stringify(
        {
            type: "service_account",
            project_id: parts?.projectId ?? project,
            private_key_id: parts?.privateKeyId ?? id.slice(0, 40),
            private_key:
                parts?.privateKeyPem ??
                `-----BEGIN PRIVATE KEY-----\n${Buffer.from(id).toString("base64")}\n-----END PRIVATE KEY-----\n`,
            client_email: email,
            client_id: parts?.clientId ?? BigInt(`0x${id.slice(0, 15)}`).toString(),
            auth_uri: "https://accounts.google.com/o/oauth2/auth",
            token_uri: "https://oauth2.googleapis.com/token",
            auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
            client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
            universe_domain: "googleapis.com",
        },
        null,
        2,
    );
}
