import { createHash } from "node:crypto";

/**
 * A service-account key file shaped like the ones Google issues (the JSON that `privateKey` holds in
 * base64). The private key is not a real RSA key: nothing here signs with it.
 */
export function serviceAccountKeyFile(email: string): string {
    const id = createHash("sha256").update(email).digest("hex");
    const project = email.split("@")[1]?.split(".")[0] ?? "project";
    return JSON.stringify(
        {
            type: "service_account",
            project_id: project,
            private_key_id: id.slice(0, 40),
            private_key: `-----BEGIN PRIVATE KEY-----\n${Buffer.from(id).toString("base64")}\n-----END PRIVATE KEY-----\n`,
            client_email: email,
            client_id: BigInt(`0x${id.slice(0, 15)}`).toString(),
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
