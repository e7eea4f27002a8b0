/**
 * The chain that decides one image pull, link by link in the kubelet's order, as pure rules: what the
 * pod names (its `imagePullSecrets`, which admission copied from its ServiceAccount only when the pod
 * listed none, and only when it was created: docs/facts.md#imagepullsecrets-is-an-atomic-list), each
 * Secret (its type and docker config: ./keyring.ts), the credentials that match the image, and what the
 * registry answered each (./registry-probe.ts). The result is one verdict: the first broken link, its
 * evidence, and the fix. Evidence names objects, hosts, usernames and key ids, never a password, a
 * token, a key or a docker config (docs/troubleshooting.md).
 */
import { artifactRegistryRepositoryOf } from "../rules/artifact-registry";
import { ownershipKeys } from "../rules/ownership";
import { parseImageReference, repositoryOf, type ImageReference } from "./image-reference";
import {
    keyringKey,
    lookupCredentials,
    parseDockerConfig,
    urlsMatch,
    type KeyringEntry,
    type KeyringMatch,
    type KeyringSource,
} from "./keyring";
import { nodeCacheNotes, nodeCredentialJudgement, type NodeView } from "./node-credentials";
import type { RegistryAnswer } from "./registry-probe";

/**
 * How long IAM may take to apply a grant: "typically 2 minutes, but could potentially take 7 minutes
 * or longer" (https://cloud.google.com/iam/docs/access-change-propagation). A 403 for a credential
 * written more recently than this may be a grant that is not effective yet.
 */
export const propagationWindowMs = 7 * 60_000;

/** A pull Secret as the walk read it (data values as the API returns them: base64). */
export type SecretRead =
    | {
          name: string;
          state: "found";
          type: string;
          data: Record<string, string>;
          annotations: Record<string, string>;
          /** When its content was last written: the newest of its creation and its managed fields' times. */
          writtenAtMs?: number;
      }
    | { name: string; state: "missing" }
    | { name: string; state: "denied" };

/** The ServiceAccount the pod runs as, as the walk read it. */
export type ServiceAccountRead =
    | {
          name: string;
          state: "found";
          imagePullSecrets: string[];
          /** When its `imagePullSecrets` were last changed (its managed fields' times for that field). */
          pullSecretsChangedAtMs?: number;
      }
    | { name: string; state: "missing" }
    | { name: string; state: "denied" };

/** What the doctor was asked about, and what a pod of it has. */
export interface PullSubject {
    namespace: string;
    /** `pod/web-1`, `deployment/web` or `image` (a pod that would be created now with the ServiceAccount). */
    describe: string;
    /** The pull Secrets the kubelet reads: the pod's list (after admission), or what admission would give now. */
    pullSecretNames: string[];
    /** Whether the list is the object's own (a pod template's, a pod created with one) rather than copied. */
    ownList: boolean;
    /** When the pod was admitted; undefined for a pod not created yet. */
    admittedAtMs?: number;
    serviceAccount: ServiceAccountRead;
}

/** A credential of the chain, as it may be printed: where it is, and who it names. */
export interface CredentialInfo {
    secret: string;
    server: string;
    username: string;
    /** A Google key's `private_key_id` and `client_email`, read from the key file the password carries. */
    keyId?: string;
    account?: string;
}

/** A credential the kubelet would hand the runtime, with what can be known before asking the registry. */
export interface Candidate {
    info: CredentialInfo;
    /** The username and password the runtime sends: for the prober only, never printed. */
    credential: { username: string; password: string };
    /** A defect the docker config shows by itself (wrong key encoding, an expired token, auth disagreeing). */
    defect?: Verdict;
    writtenAtMs?: number;
}

/** The kinds of verdict, one per broken link (docs/troubleshooting.md has a section for each). */
export type VerdictKind =
    | "ok"
    | "image-reference-invalid"
    | "pod-predates-service-account"
    | "pod-has-own-list"
    | "no-pull-secrets"
    | "secret-missing"
    | "secret-wrong-type"
    | "secret-unreadable"
    | "no-matching-auth"
    | "auth-disagrees"
    | "key-encoding-mismatch"
    | "key-encoded-twice"
    | "token-expired"
    | "credential-refused"
    | "node-credential-refused"
    | "grant-missing"
    | "grant-not-yet-effective"
    | "repository-not-found"
    | "tag-not-found"
    | "rate-limited"
    | "registry-error"
    | "tls-error"
    | "host-unknown"
    | "registry-unreachable"
    | "unchecked";

/** The broken link, its evidence and its fix. */
export interface Verdict {
    kind: VerdictKind;
    /** Which link: `image`, `pod`, `ServiceAccount`, `Secret`, `docker config`, `credential`, `node`, `registry`, `network`. */
    link: string;
    evidence: string[];
    fix?: string;
}

/** One image's verdict, as the report prints it. */
export interface ImageVerdict extends Verdict {
    container: string;
    image: string;
    /** Whether the kubelet's pull would fail: true, false, or undefined when a read was denied. */
    fails: boolean | undefined;
    /** What could not be checked (a read RBAC denied), and so what the verdict does not rest on. */
    unchecked: string[];
    /** Links that are not broken for this image but would be worth fixing. */
    warnings: string[];
}

const quoteList = (names: string[]) => (names.length === 0 ? "none" : names.join(", "));

/** The pull Secrets a pod would get at admission now: its own list, else its ServiceAccount's. */
export function admittedPullSecrets(own: string[], serviceAccount: ServiceAccountRead): string[] {
    if (own.length > 0) return own;
    return serviceAccount.state === "found" ? serviceAccount.imagePullSecrets : [];
}

/** The docker config of a Secret the kubelet would use, or why it uses none (secrets.go `MakeDockerKeyring`). */
export function dockerConfigOf(
    secret: Extract<SecretRead, { state: "found" }>,
): { entries: KeyringEntry[] } | { skipped: Verdict } | { broken: Verdict } {
    const field =
        secret.type === "kubernetes.io/dockerconfigjson"
            ? ".dockerconfigjson"
            : secret.type === "kubernetes.io/dockercfg"
              ? ".dockercfg"
              : undefined;
    const encoded = field === undefined ? undefined : secret.data[field];
    if (field === undefined || encoded === undefined || encoded === "") {
        return {
            skipped: {
                kind: "secret-wrong-type",
                link: "Secret",
                evidence: [
                    field === undefined
                        ? `Secret ${secret.name} has type ${secret.type}; the kubelet reads only kubernetes.io/dockerconfigjson (or kubernetes.io/dockercfg) Secrets`
                        : `Secret ${secret.name} (type ${secret.type}) has no ${field} data; the kubelet skips it`,
                ],
                fix: `kubectl create secret docker-registry ${secret.name} --docker-server=HOST --docker-username=USER --docker-password=PASSWORD (after deleting the wrong one), or let the component write it`,
            },
        };
    }
    const parsed = parseDockerConfig(Buffer.from(encoded, "base64").toString("utf8"), field === ".dockercfg");
    if ("unreadable" in parsed) {
        return {
            broken: {
                kind: "secret-unreadable",
                link: "Secret",
                evidence: [
                    `Secret ${secret.name}: the kubelet cannot read its ${field} (${parsed.unreadable}), and fails every pull of the pod that names it`,
                ],
                fix: `kubectl create secret docker-registry ${secret.name} --dry-run=client -o yaml ... | kubectl replace -f - (kubectl writes a document the kubelet reads)`,
            },
        };
    }
    return { entries: parsed.entries };
}

/** A Google key file's id and account, from a `_json_key` / `_json_key_base64` password; nothing else of it. */
function keyFileOf(json: string): { keyId: string; account: string } | undefined {
    try {
        const file = JSON.parse(json) as Record<string, unknown> | null;
        if (file?.type !== "service_account") return undefined;
        const keyId = typeof file.private_key_id === "string" ? file.private_key_id : "";
        const account = typeof file.client_email === "string" ? file.client_email : "";
        // Ids and emails only: anything else in the file is not printed.
        if (!/^[0-9a-f]{1,64}$/.test(keyId) || !/^[a-z0-9._%+-]+@[a-z0-9.-]+$/i.test(account)) return undefined;
        return { keyId, account };
    } catch {
        return undefined;
    }
}

const fromBase64 = (text: string): string | undefined =>
    /^[A-Za-z0-9+/]+={0,2}$/.test(text.trim()) ? Buffer.from(text.trim(), "base64").toString("utf8") : undefined;

/** What the docker config shows about a credential by itself: key encoding, a token's expiry, `auth` disagreeing. */
export function credentialOf(match: KeyringMatch<Extract<SecretRead, { state: "found" }>>, nowMs: number): Candidate {
    const { entry, source: secret } = match;
    const info: CredentialInfo = { secret: secret.name, server: entry.server, username: entry.username };
    const candidate: Candidate = {
        info,
        credential: { username: entry.username, password: entry.password },
        writtenAtMs: secret.writtenAtMs,
    };
    const where = `Secret ${secret.name}, auths["${entry.server}"]`;
    const asJson = keyFileOf(entry.password);
    const decoded = fromBase64(entry.password);
    const asBase64 = decoded === undefined ? undefined : keyFileOf(decoded);
    const twice = decoded === undefined ? undefined : fromBase64(decoded);
    const asTwice = twice === undefined ? undefined : keyFileOf(twice);
    Object.assign(info, asJson ?? asBase64 ?? asTwice ?? {});
    const rewrite = (username: string) =>
        `kubectl create secret docker-registry ${secret.name} --docker-server=${entry.server} --docker-username=${username} --docker-password="$(cat key.json${username === "_json_key_base64" ? " | base64 -w0" : ""})" --dry-run=client -o yaml | kubectl apply -f -`;
    if (entry.username === "_json_key" && asJson === undefined && asBase64 !== undefined) {
        candidate.defect = {
            kind: "key-encoding-mismatch",
            link: "docker config",
            evidence: [
                `${where}: username _json_key expects the key file's JSON as the password, but it holds the key file in base64 (key ${asBase64.keyId} of ${asBase64.account})`,
            ],
            fix: `use username _json_key_base64 for a base64 key (the component does): ${rewrite("_json_key_base64")}`,
        };
    } else if (entry.username === "_json_key_base64" && asJson !== undefined) {
        candidate.defect = {
            kind: "key-encoding-mismatch",
            link: "docker config",
            evidence: [
                `${where}: username _json_key_base64 expects the key file in base64, but the password is the key file's JSON (key ${asJson.keyId} of ${asJson.account})`,
            ],
            fix: `use username _json_key for the raw JSON: ${rewrite("_json_key")}`,
        };
    } else if (entry.username === "_json_key_base64" && asBase64 === undefined && asTwice !== undefined) {
        candidate.defect = {
            kind: "key-encoded-twice",
            link: "docker config",
            evidence: [
                `${where}: the password is the key file base64-encoded twice (key ${asTwice.keyId} of ${asTwice.account}); gcp.serviceaccount.Key.privateKey is base64 already`,
            ],
            fix: `encode the key file once: ${rewrite("_json_key_base64")}`,
        };
    }
    const expiresAt = secret.annotations[ownershipKeys.tokenExpiresAt];
    const writer = secret.annotations[ownershipKeys.writer];
    const expiresAtMs = expiresAt === undefined ? NaN : Date.parse(expiresAt);
    if (candidate.defect === undefined && entry.username === "oauth2accesstoken" && expiresAtMs <= nowMs) {
        const refresher = writer !== undefined && /^[a-z0-9-]+\/[a-z0-9-]+$/.test(writer) ? writer : undefined;
        const [refresherNamespace, refresherName] = refresher?.split("/") ?? [];
        candidate.defect = {
            kind: "token-expired",
            link: "credential",
            evidence: [
                `${where}: the access token expired at ${new Date(expiresAtMs).toISOString()} (annotation ${ownershipKeys.tokenExpiresAt}); ${refresher ? `its refresher ${refresher} has not written a new one` : "nothing has written a new one"}`,
            ],
            // `rollout status` calls a Deployment scaled to 0 "successfully rolled out": READY tells the two apart.
            fix: refresher
                ? `kubectl -n ${refresherNamespace} get deployment ${refresherName}: READY 0/0 means it was scaled to 0 (pulumi up --refresh, or kubectl -n ${refresherNamespace} scale deployment ${refresherName} --replicas=1, starts it again); 0/1 means it runs but cannot get or write tokens (kubectl -n ${refresherNamespace} logs deployment/${refresherName}; it turns not-ready then: docs/keyless.md)`
                : "write a fresh token into the Secret, or run the component's refresher (gcp.credential: accessToken)",
        };
    }
    if (candidate.defect === undefined && (entry.usernameField !== undefined || entry.passwordFieldDiffers)) {
        candidate.defect = {
            kind: "auth-disagrees",
            link: "docker config",
            evidence: [
                `${where}: its auth field names user ${entry.username}${entry.usernameField !== undefined ? `, its username field ${entry.usernameField}` : ""}${entry.passwordFieldDiffers ? "; its password field differs from the password in auth" : ""}; the kubelet and skopeo use auth`,
            ],
            fix: `rewrite the entry so auth is base64 of username:password (kubectl create secret docker-registry ${secret.name} --docker-server=${entry.server} ... writes all three)`,
        };
    }
    return candidate;
}

/** Why a docker config key does not match the image (the kubelet's rules, keyring.go `URLsMatch`), in a user's words. */
export function whyNoMatch(server: string, repository: string): string {
    const key = keyringKey(server);
    if (key === undefined) return `${server} is not a URL the kubelet can read: it ignores the entry`;
    const domain = repository.split("/")[0];
    const keyHost = key.split("/")[0];
    const keyPath = key.slice(keyHost.length);
    const [keyName, keyPort = ""] = keyHost.split(/:(?=[0-9]*$)/);
    const [imageName, imagePort = ""] = domain.split(/:(?=[0-9]*$)/);
    if (keyPort !== imagePort) {
        return `${server}: the port differs (${keyPort || "none"} in the key, ${imagePort || "none"} in the image)`;
    }
    if (keyName.split(".").length !== imageName.split(".").length) {
        return keyName.includes("*")
            ? `${server}: a glob stands for exactly one label, so ${keyName} never matches ${imageName} (${keyName.split(".").length} labels against ${imageName.split(".").length})`
            : `${server} is another host than ${imageName}`;
    }
    if (urlsMatch(keyHost, domain) && keyPath !== "") {
        return `${server}: its path ${keyPath} is not a prefix of the image's /${repository.slice(domain.length + 1)}`;
    }
    return `${server} is another host than ${imageName}`;
}

/** The chain up to the credentials: the verdict it already reaches, or the credentials to try. */
export type ChainPlan =
    | { decided: ImageVerdict }
    | {
          image: ImageReference;
          candidates: Candidate[];
          /** The verdict if no credential matches and the registry refuses an anonymous pull. */
          whenAnonymousRefused?: Verdict;
          unchecked: string[];
          warnings: string[];
      };

/** Walks the pod's chain for one image up to the credentials the kubelet would try (pure: the walk read everything). */
export function planPull(
    subject: PullSubject,
    container: { name: string; image: string },
    secrets: Map<string, SecretRead>,
    nowMs: number,
): ChainPlan {
    const base = { container: container.name, image: container.image, unchecked: [] as string[], warnings: [] };
    const image = parseImageReference(container.image);
    if ("invalid" in image) {
        return {
            decided: {
                ...base,
                kind: "image-reference-invalid",
                link: "image",
                fails: true,
                evidence: [`container ${container.name}: the image reference is invalid: ${image.invalid}`],
                fix: "write the image as REGISTRY/REPOSITORY:TAG (lowercase repository), e.g. asia-northeast1-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG",
            },
        };
    }
    const repository = repositoryOf(image);
    const unchecked: string[] = [];
    const warnings: string[] = [];
    const sources: KeyringSource<Extract<SecretRead, { state: "found" }>>[] = [];
    const skipped: Verdict[] = [];
    for (const name of subject.pullSecretNames) {
        const secret = secrets.get(name);
        if (secret === undefined || secret.state === "denied") {
            unchecked.push(`Secret ${name}: reading it was denied (get secrets), so its credentials are not checked`);
            continue;
        }
        if (secret.state === "missing") {
            skipped.push({
                kind: "secret-missing",
                link: "Secret",
                evidence: [
                    `${subject.describe} names pull Secret ${name}, which does not exist in namespace ${subject.namespace}; the kubelet pulls without it`,
                ],
                fix: `kubectl -n ${subject.namespace} create secret docker-registry ${name} --docker-server=${image.domain} --docker-username=USER --docker-password=PASSWORD, or give the component namespaces: ["${subject.namespace}"] and secretName: "${name}"`,
            });
            continue;
        }
        const config = dockerConfigOf(secret);
        if ("broken" in config) return { decided: { ...base, ...config.broken, fails: true, unchecked, warnings } };
        if ("skipped" in config) skipped.push(config.skipped);
        else sources.push({ source: secret, entries: config.entries });
    }
    const candidates = lookupCredentials(sources, repository).map((match) => credentialOf(match, nowMs));
    for (const verdict of skipped) warnings.push(...verdict.evidence);
    if (candidates.length > 0) return { image, candidates, unchecked, warnings };
    return {
        image,
        candidates,
        whenAnonymousRefused: noCredential(subject, image, sources, skipped),
        unchecked,
        warnings,
    };
}

/** Why no credential matched: the pod's list, a missing or wrong Secret, or hosts that do not match. */
function noCredential(
    subject: PullSubject,
    image: ImageReference,
    sources: KeyringSource<{ name: string }>[],
    skipped: Verdict[],
): Verdict {
    const sa = subject.serviceAccount;
    const notCopied =
        sa.state === "found" ? sa.imagePullSecrets.filter((n) => !subject.pullSecretNames.includes(n)) : [];
    if (notCopied.length > 0 && subject.admittedAtMs !== undefined) {
        const changedLater =
            sa.state === "found" &&
            sa.pullSecretsChangedAtMs !== undefined &&
            sa.pullSecretsChangedAtMs > subject.admittedAtMs;
        if (subject.pullSecretNames.length === 0 || (changedLater && !subject.ownList)) {
            return {
                kind: "pod-predates-service-account",
                link: "pod",
                evidence: [
                    `${subject.describe} was created at ${new Date(subject.admittedAtMs).toISOString()} with imagePullSecrets [${quoteList(subject.pullSecretNames)}]; ServiceAccount ${sa.name} lists [${quoteList(notCopied)}] now${changedLater ? `, changed at ${new Date(sa.pullSecretsChangedAtMs as number).toISOString()}` : ""}`,
                    "admission copies a ServiceAccount's imagePullSecrets into a pod only when the pod is created: a running pod never gets them",
                ],
                fix: `recreate the pod: kubectl -n ${subject.namespace} delete ${subject.describe} (its controller makes a new one), or kubectl -n ${subject.namespace} rollout restart deployment/NAME`,
            };
        }
    }
    if (notCopied.length > 0) {
        return {
            kind: "pod-has-own-list",
            link: "pod",
            evidence: [
                `${subject.describe} lists its own imagePullSecrets [${quoteList(subject.pullSecretNames)}], so ServiceAccount ${sa.name}'s [${quoteList(notCopied)}] are not copied into it, and none of its own holds a credential for ${image.domain}`,
            ],
            fix: `add the Secret to the pod template: spec.template.spec.imagePullSecrets: [${[...subject.pullSecretNames, ...notCopied].map((n) => `{name: ${n}}`).join(", ")}], or drop the pod's own list`,
        };
    }
    const first = skipped[0];
    if (first !== undefined) return first;
    if (sources.length > 0) {
        return {
            kind: "no-matching-auth",
            link: "docker config",
            evidence: [
                `no auths key of Secrets [${sources.map((s) => s.source.name).join(", ")}] matches ${repositoryOf(image)}:`,
                ...sourcesEvidence(sources, image),
            ],
            fix: `list the image's host: with the component, registries: ["${image.domain}"]; by hand, kubectl -n ${subject.namespace} create secret docker-registry NAME --docker-server=${image.domain} ...`,
        };
    }
    return {
        kind: "no-pull-secrets",
        link: "pod",
        evidence: [
            `${subject.describe} has no imagePullSecrets${sa.state === "found" ? `, nor has ServiceAccount ${sa.name}` : ""}: the kubelet pulls ${repositoryOf(image)} anonymously`,
        ],
        fix: `kubectl -n ${subject.namespace} patch serviceaccount ${sa.name} --type=json -p '[{"op":"add","path":"/imagePullSecrets/-","value":{"name":"regcred"}}]' (then recreate the pod), or give the component namespaces: ["${subject.namespace}"]`,
    };
}

function sourcesEvidence(sources: KeyringSource<{ name: string }>[], image: ImageReference): string[] {
    return sources.flatMap(({ source, entries }) =>
        entries.length === 0
            ? [`  Secret ${source.name} has no auths entries`]
            : entries.map((e) => `  Secret ${source.name}: ${whyNoMatch(e.server, repositoryOf(image))}`),
    );
}

/** A registry answer (the credential's, or an anonymous pull's) as the verdict it proves. */
export function verdictOfAnswer(
    answer: RegistryAnswer,
    image: ImageReference,
    candidate: Candidate | undefined,
    nowMs: number,
): Verdict {
    const who = candidate
        ? `user ${candidate.info.username}${candidate.info.keyId ? ` (key ${candidate.info.keyId} of ${candidate.info.account})` : ""} from Secret ${candidate.info.secret}`
        : "an anonymous pull";
    const target = `${repositoryOf(image)}${image.digest ? `@${image.digest}` : `:${image.tag}`}`;
    if ("network" in answer) {
        const kinds = {
            dns: [
                "host-unknown",
                `${answer.host} does not resolve (${answer.network})`,
                `check the image's host: is ${image.domain} the registry's name, and does the node's DNS know it?`,
            ],
            tls: [
                "tls-error",
                `the TLS handshake with ${answer.host} failed (${answer.network})`,
                `give the node's runtime the registry's CA (containerd: /etc/containerd/certs.d/${image.domain}/hosts.toml ca = ...), or serve a certificate for ${image.domain} that the node trusts`,
            ],
            connect: [
                "registry-unreachable",
                `${answer.host} did not answer (${answer.network})`,
                `check that the registry listens at ${image.domain} and the node may reach it`,
            ],
        } as const;
        const [kind, evidence, fix] = kinds[answer.kind];
        return { kind, link: "network", evidence: [evidence], fix };
    }
    const said = `${answer.step === "token" ? "its token endpoint" : "the registry"} answered ${answer.status}${answer.code ? ` ${answer.code}` : ""} to ${who} for ${target}`;
    const status = answer.status;
    if (status === 200) return { kind: "ok", link: "registry", evidence: [said] };
    if (status === 401) {
        return {
            kind: "credential-refused",
            link: "credential",
            evidence: [
                said,
                "the registry does not accept the credential: a wrong or deleted key, a disabled account, a wrong password or an expired token",
            ],
            fix: candidate?.info.keyId
                ? `gcloud iam service-accounts keys list --iam-account=${candidate.info.account} (is key ${candidate.info.keyId} there and enabled?); then write a valid key into Secret ${candidate.info.secret}, or let the component rotate it (gcp.keyRotationDays)`
                : candidate
                  ? `write a valid credential into Secret ${candidate.info.secret} for ${candidate.info.server}`
                  : `the registry needs a credential for ${image.domain}: add a pull Secret`,
        };
    }
    if (status === 403) {
        const recent = candidate?.writtenAtMs !== undefined && nowMs - candidate.writtenAtMs < propagationWindowMs;
        const grantee = candidate?.info.account
            ? `serviceAccount:${candidate.info.account}`
            : "the credential's account";
        const repository = artifactRegistryRepositoryOf(image.domain, image.path);
        const grant = repository
            ? `gcloud artifacts repositories add-iam-policy-binding ${repository.repository} --project=${repository.project} --location=${repository.location} --member=${grantee} --role=roles/artifactregistry.reader`
            : `grant ${grantee} read access to ${repositoryOf(image)}`;
        if (recent) {
            return {
                kind: "grant-not-yet-effective",
                link: "registry",
                evidence: [
                    said,
                    `Secret ${candidate?.info.secret} was written ${Math.round((nowMs - (candidate?.writtenAtMs as number)) / 1000)} s ago, within IAM's propagation window of ${propagationWindowMs / 60_000} minutes: a grant made with it may not be effective yet`,
                ],
                fix: `wait ${Math.ceil((propagationWindowMs - (nowMs - (candidate?.writtenAtMs as number))) / 60_000)} minutes and run the doctor again; if it still fails: ${grant}`,
            };
        }
        return {
            kind: "grant-missing",
            link: "registry",
            evidence: [
                said,
                "the credential authenticates but may not read this repository (Artifact Registry also answers 403 for a repository that does not exist)",
            ],
            fix: grant,
        };
    }
    if (status === 404) {
        const missingRepository = answer.repositoryExists === false;
        return {
            kind: missingRepository ? "repository-not-found" : "tag-not-found",
            link: "registry",
            evidence: [
                said,
                missingRepository
                    ? `the registry has no repository ${image.path}`
                    : `repository ${image.path} exists, but not ${image.digest ?? `tag ${image.tag}`}`,
            ],
            fix: missingRepository
                ? `check the image name (${repositoryOf(image)}) or push it`
                : `push ${target}, or use a tag the repository has (skopeo list-tags docker://${repositoryOf(image)})`,
        };
    }
    if (status === 429) {
        return {
            kind: "rate-limited",
            link: "registry",
            evidence: [said],
            fix: "pull with a credential (anonymous pulls have the lowest limits), pull less often (imagePullPolicy: IfNotPresent), or use a mirror",
        };
    }
    return {
        kind: "registry-error",
        link: "registry",
        evidence: [said],
        fix: "the registry failed: retry later, or check its status page",
    };
}

/**
 * The verdict for one image: the runtime tries the credentials in order and the pull works with the
 * first the registry accepts; with none, it pulls anonymously, or with the node's own credential
 * (./node-credentials.ts). `answers` holds the registry's answer for each candidate in order (or the
 * anonymous pull's, when there are none); `node` is where the pod runs and what the kubelet reported.
 * Notes on the node's image cache join the warnings.
 */
export function judgePull(
    plan: Exclude<ChainPlan, { decided: ImageVerdict }>,
    container: { name: string; image: string },
    answers: RegistryAnswer[],
    nowMs: number,
    node: NodeView,
): ImageVerdict {
    const verdict = judgeCredentials(plan, container, answers, nowMs, node);
    return { ...verdict, warnings: [...verdict.warnings, ...nodeCacheNotes(verdict.fails, node)] };
}

function judgeCredentials(
    plan: Exclude<ChainPlan, { decided: ImageVerdict }>,
    container: { name: string; image: string },
    answers: RegistryAnswer[],
    nowMs: number,
    node: NodeView,
): ImageVerdict {
    const base = {
        container: container.name,
        image: container.image,
        unchecked: plan.unchecked,
        warnings: [...plan.warnings],
    };
    if (plan.candidates.length === 0) {
        const verdict = verdictOfAnswer(answers[0], plan.image, undefined, nowMs);
        if (verdict.kind === "ok") {
            return {
                ...base,
                ...verdict,
                evidence: [...verdict.evidence, "no credential matches: the registry lets anyone pull it"],
                fails: false,
            };
        }
        const refused = "status" in answers[0] && [401, 403].includes(answers[0].status);
        const byNode = refused ? nodeCredentialJudgement(plan.image, node) : undefined;
        if (byNode !== undefined && "verdict" in byNode) {
            return {
                ...base,
                ...byNode.verdict,
                evidence: [...byNode.verdict.evidence, verdict.evidence[0]],
                fails: byNode.fails,
            };
        }
        const chosen = refused && plan.whenAnonymousRefused ? plan.whenAnonymousRefused : verdict;
        const unchecked = byNode === undefined ? plan.unchecked : [...plan.unchecked, byNode.unchecked];
        return {
            ...base,
            ...chosen,
            evidence: chosen === verdict ? verdict.evidence : [...chosen.evidence, verdict.evidence[0]],
            unchecked,
            fails: unchecked.length > 0 && refused ? undefined : true,
        };
    }
    // `answers` ends at the first credential the registry accepted: the runtime tries no further.
    const verdicts = answers.map((answer, i) => verdictOfAnswer(answer, plan.image, plan.candidates[i], nowMs));
    const working = verdicts.findIndex((v) => v.kind === "ok");
    if (working >= 0) {
        const others = plan.candidates.slice(0, working).flatMap((c) => c.defect?.evidence ?? []);
        return {
            ...base,
            ...verdicts[working],
            evidence: [
                `credential: user ${plan.candidates[working].info.username} from Secret ${plan.candidates[working].info.secret}, auths["${plan.candidates[working].info.server}"]`,
                ...verdicts[working].evidence,
            ],
            warnings: [...base.warnings, ...others, ...(plan.candidates[working].defect?.evidence ?? [])],
            fails: false,
        };
    }
    // Every credential failed: the one that got furthest (it authenticated, then was refused or missed
    // the image) says most; else the first the runtime tried.
    const deepest = Math.max(
        0,
        verdicts.findIndex((v) => v.kind !== "credential-refused"),
    );
    const first = plan.candidates[deepest];
    const answered = verdicts[deepest];
    const chosen =
        first.defect && ["credential-refused", "grant-missing"].includes(answered.kind) ? first.defect : answered;
    const rest = verdicts.flatMap((v, i) =>
        i === deepest
            ? []
            : [
                  `also tried Secret ${plan.candidates[i].info.secret} (${plan.candidates[i].info.server}): ${v.evidence[0]}`,
              ],
    );
    return {
        ...base,
        ...chosen,
        evidence: [...chosen.evidence, ...(chosen === answered ? [] : [answered.evidence[0]]), ...rest],
        fails: true,
    };
}
