/**
 * The registries the doctor's tests break links against: Debian's real docker-registry with htpasswd
 * (test/support/real-registry.ts) serving `e2e/tiny:1` and two Artifact Registry repositories; the
 * Artifact Registry front double before it (test/support/artifact-registry-front.ts) standing for
 * `us-docker.pkg.dev`, where one service account's key holds the reader role on `us/images` and none
 * on `us/denied`; and a TLS server whose certificate (self-signed, made with openssl) nobody trusts.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { startArtifactRegistryFront, type ArtifactRegistryFront } from "./artifact-registry-front";
import { addMember, issueKey } from "./google-cloud-double/google-apis";
import { instantPropagation } from "./google-cloud-double/propagation";
import { changeGoogleCloud, newProject, newServiceAccount, writeGoogleCloud } from "./google-cloud-double/state";
import { image, RealRegistry } from "./real-registry";

const project = "example-project-dev";

export interface DoctorRegistries {
    registry: RealRegistry;
    /** The htpasswd user the registry lets pull. */
    user: { user: string; password: string };
    front: ArtifactRegistryFront;
    /** The front's `127.0.0.1:PORT`, standing for `us-docker.pkg.dev`. */
    frontHost: string;
    /** The account whose key holds the reader role on `us/images` only. */
    email: string;
    /** Its key file in base64 (`_json_key_base64`'s password). */
    keyBase64: string;
    /** Images as the front names them: one the key may pull, one it may not. */
    images: { tiny: string; front: string; denied: string };
    /** `ADDRESS:PORT` of the untrusted TLS server. */
    tlsHost: string;
    /** Deletes the key, as `gcloud iam service-accounts keys delete` would: the front refuses it from then on. */
    deleteKey(): void;
    close(): Promise<void>;
}

export async function startDoctorRegistries(work: string, tlsAddress: string): Promise<DoctorRegistries> {
    const user = { user: "ci-user", password: randomBytes(24).toString("hex") };
    const frontUser = { user: "artifact-registry-front", password: randomBytes(12).toString("hex") };
    const email = `image-puller@${project}.iam.gserviceaccount.com`;
    const images = { tiny: image, front: `${project}/images/tiny:1`, denied: `${project}/denied/tiny:1` };
    const registry = await RealRegistry.start([user, frontUser], Object.values(images));
    const stateFile = path.join(work, "google.json");
    const home = newProject("123456789012", ["us/images", "us/denied"]);
    home.serviceAccounts[email] = newServiceAccount();
    // Instant: the doctor's verdicts here are about the links it reads, not Google's delays (its "not yet
    // effective" is told from the Secret's age, test/doctor/).
    const google = { projects: { [project]: home }, auditLog: [], propagation: instantPropagation() };
    const keyBase64 = issueKey(google, email);
    addMember(home.repositories["us/images"].iamPolicy, "roles/artifactregistry.reader", `serviceAccount:${email}`);
    writeGoogleCloud(stateFile, google);
    const front = await startArtifactRegistryFront({
        stateFile,
        upstream: { host: registry.host, ...frontUser },
        standsFor: ["us-docker.pkg.dev"],
    });
    const [key, cert] = [path.join(work, "tls.key"), path.join(work, "tls.crt")];
    execFileSync(
        "openssl",
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=untrusted",
            "-days",
            "1",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        { stdio: "ignore" },
    );
    const tls = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) =>
        res.writeHead(401, { "www-authenticate": 'Basic realm="untrusted"' }).end(),
    );
    await new Promise<void>((resolve) => tls.listen(0, tlsAddress, resolve));
    return {
        registry,
        user,
        front,
        frontHost: front.hosts["us-docker.pkg.dev"],
        email,
        keyBase64,
        images,
        tlsHost: `${tlsAddress}:${(tls.address() as AddressInfo).port}`,
        deleteKey: () =>
            changeGoogleCloud(stateFile, (state) => {
                const { private_key_id: keyId } = JSON.parse(Buffer.from(keyBase64, "base64").toString("utf8")) as {
                    private_key_id: string;
                };
                delete state.projects[project].serviceAccounts[email].keys[keyId];
            }),
        close: async () => {
            tls.closeAllConnections();
            await new Promise<void>((resolve) => tls.close(() => resolve()));
            await front.close();
            await registry.remove();
        },
    };
}
