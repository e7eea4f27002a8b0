/**
 * The file that stands for Google Cloud in tests: one JSON document (its path in the environment
 * variable {@link stateFileVariable}) that the Google Cloud provider DOUBLE (`pulumi-resource-gcp`,
 * ./plugin.ts) changes as Google's APIs would, that the Artifact Registry front (../artifact-registry-front.ts)
 * reads on every request, and that tests read and edit as someone "in the console" would.
 *
 * It holds what Google keeps and no more: a key's public certificate, never its private key (Google
 * hands the private key out once, in the create response, and does not store it). Writes replace the
 * file atomically (a new file renamed over the old one), so a reader never sees half a document.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";

export interface PropagationEntry {
    /** When the change was written (ms). */
    atMs: number;
    /** What changed, e.g. `grant roles/artifactregistry.reader serviceAccount:a@p on projects/p/.../images`. */
    what: string;
    delayMs: number;
}

/** The double's propagation settings and what it drew (./propagation.ts). */
export interface Propagation {
    /** How long a grant or revocation takes to take effect, in seconds: `[min, max]`. */
    grantSeconds: [number, number];
    /** How long a new key takes before it signs in, in seconds: `[min, max]`. */
    keySeconds: [number, number];
    seed: number;
    /** Delays drawn so far: the next draw is the `draws`-th from `seed`. */
    draws: number;
    log: PropagationEntry[];
}

/** A change of one member's role in a policy, seen by the data plane from `effectiveAtMs` on. */
export interface PendingChange {
    role: string;
    member: string;
    granted: boolean;
    effectiveAtMs: number;
}

/** The environment variable that names the state file, for the plugin process. */
export const stateFileVariable = "GOOGLE_CLOUD_DOUBLE_STATE";

/** An IAM policy's bindings; conditions are not modelled (the double refuses them at Check). */
export interface Binding {
    role: string;
    members: string[];
}

export interface Policy {
    /** Changes on every write, as a real policy's etag does. */
    etag: string;
    bindings: Binding[];
    /** Member changes the data plane does not see yet (./propagation.ts); not part of Google's policy. */
    propagating?: PendingChange[];
}

export interface ServiceAccountKey {
    keyAlgorithm: string;
    /** The X.509 certificate of the key's public key (PEM), what `keys.get` returns as `publicKeyData`. */
    publicKeyCertificate: string;
    validAfterTime: string;
    validBeforeTime: string;
    /**
     * When the key first signs in (ms), a new key's propagation (./propagation.ts); Google shows no such
     * field. Absent: at once.
     */
    signsInAfterMs?: number;
}

export interface ServiceAccount {
    uniqueId: string;
    displayName: string;
    description: string;
    disabled: boolean;
    /** User-managed keys by key id (the 40 hex digits at the end of the key's name). */
    keys: Record<string, ServiceAccountKey>;
    iamPolicy: Policy;
}

export interface Repository {
    format: "DOCKER";
    iamPolicy: Policy;
}

/** Pools and providers are soft-deleted: `DELETED` for 30 days, their ids not reusable meanwhile. */
export type LifecycleState = "ACTIVE" | "DELETED";

export interface WorkloadIdentityPoolProvider {
    displayName: string;
    description: string;
    disabled: boolean;
    attributeMapping: Record<string, string>;
    attributeCondition: string;
    oidc: { issuerUri: string; allowedAudiences: string[]; jwksJson: string };
    state: LifecycleState;
    expireTime?: string;
}

export interface WorkloadIdentityPool {
    displayName: string;
    description: string;
    disabled: boolean;
    mode: string;
    state: LifecycleState;
    expireTime?: string;
    providers: Record<string, WorkloadIdentityPoolProvider>;
}

export interface Project {
    /** The project number principals and pool names use. */
    number: string;
    /** Organization policy constraints enforced on the project, e.g. `iam.disableServiceAccountKeyCreation`. */
    constraints: string[];
    /**
     * The organization policy `constraints/iam.serviceAccountKeyExpiryHours` for the project: new keys
     * expire this many hours after creation (8 to 2160). Absent: keys never expire (9999-12-31).
     */
    keyExpiryHours?: number;
    /** By email. */
    serviceAccounts: Record<string, ServiceAccount>;
    /** By `LOCATION/REPOSITORY`. Repositories are made by tests (the component only reads them). */
    repositories: Record<string, Repository>;
    workloadIdentityPools: Record<string, WorkloadIdentityPool>;
}

/** One line of the double's audit log: what was changed, when (ms), named as Cloud Audit Logs name methods. */
export interface AuditEntry {
    atMs: number;
    method: string;
    resource: string;
}

export interface GoogleCloud {
    /** By project id. */
    projects: Record<string, Project>;
    auditLog: AuditEntry[];
    /** How long changes take to reach the data plane, and the delays drawn (./propagation.ts). */
    propagation: Propagation;
}

export function newEtag(): string {
    return randomBytes(8).toString("base64");
}

export function emptyPolicy(): Policy {
    return { etag: newEtag(), bindings: [] };
}

export function readGoogleCloud(file: string): GoogleCloud {
    return JSON.parse(readFileSync(file, "utf8")) as GoogleCloud;
}

export function writeGoogleCloud(file: string, google: GoogleCloud): void {
    const next = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    writeFileSync(next, JSON.stringify(google, null, 2));
    renameSync(next, file);
}

/** Reads the file, lets `change` edit the document, writes it back; returns what `change` returned. */
export function changeGoogleCloud<T>(file: string, change: (google: GoogleCloud) => T): T {
    const google = readGoogleCloud(file);
    const result = change(google);
    writeGoogleCloud(file, google);
    return result;
}

/** A project with these Docker repositories (`LOCATION/REPOSITORY`) and nothing else. */
export function newProject(number: string, repositories: string[] = []): Project {
    return {
        number,
        constraints: [],
        serviceAccounts: {},
        repositories: Object.fromEntries(
            repositories.map((name) => [name, { format: "DOCKER" as const, iamPolicy: emptyPolicy() }]),
        ),
        workloadIdentityPools: {},
    };
}

/** A service account as the console would make it (tests seed node pools' and key issuers' accounts). */
export function newServiceAccount(displayName = ""): ServiceAccount {
    return {
        uniqueId: `1${BigInt(`0x${randomBytes(9).toString("hex")}`)
            .toString()
            .padStart(20, "0")
            .slice(0, 20)}`,
        displayName,
        description: "",
        disabled: false,
        keys: {},
        iamPolicy: emptyPolicy(),
    };
}

/**
 * What Google holds, without what changes on every write (policy etags) and without the audit log:
 * two states that are equal here grant the same access to the same accounts, keys, pools and providers.
 */
export function googleResources(google: GoogleCloud): unknown {
    const policy = (p: Policy) => p.bindings.map((b) => ({ role: b.role, members: [...b.members].sort() }));
    // When a key first signs in is the double's propagation, not something Google holds.
    const key = (k: ServiceAccountKey) => {
        const rest = { ...k };
        delete rest.signsInAfterMs;
        return rest;
    };
    return Object.fromEntries(
        Object.entries(google.projects).map(([id, project]) => [
            id,
            {
                ...project,
                serviceAccounts: Object.fromEntries(
                    Object.entries(project.serviceAccounts).map(([email, account]) => [
                        email,
                        {
                            ...account,
                            keys: Object.fromEntries(Object.entries(account.keys).map(([id, k]) => [id, key(k)])),
                            iamPolicy: policy(account.iamPolicy),
                        },
                    ]),
                ),
                repositories: Object.fromEntries(
                    Object.entries(project.repositories).map(([name, repository]) => [
                        name,
                        { ...repository, iamPolicy: policy(repository.iamPolicy) },
                    ]),
                ),
            },
        ]),
    );
}
