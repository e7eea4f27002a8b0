/**
 * A pull as a kubelet makes one with an image pull Secret, in a few milliseconds and without a
 * process per pull, for loops that pull every 100 ms: the docker config's entry for the host gives
 * the Basic credential (its `auth` field, which the kubelet prefers to username and password,
 * docs/facts.md#what-kubectl-writes-for-a-docker-registry-secret). As containerd's resolver does
 * (`core/remotes/docker/resolver.go`, `authorizer.go`), it asks for the manifest without credentials
 * first and answers the registry's challenge: `Basic`, the credential on each request; `Bearer`, a
 * token from the challenge's realm for `repository:NAME:pull` with the credential as Basic (the Docker
 * token protocol, distribution/distribution docs/spec/auth/token.md), then the token on each request.
 * Then the config and every layer are fetched and each blob's digest checked. skopeo and the real
 * kubelet (test/support/real-registry.ts, real-node.ts) make the same requests; this client makes
 * them faster.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { parseChallenge } from "../../components/doctor/registry-probe";

/** A GET over HTTP, or over HTTPS whose certificate chains to `ca` (a realm's URL says which). */
function get(url: string, authorization?: string, accept?: string, ca?: string) {
    return new Promise<{ status: number; body: Buffer; challenge?: string }>((resolve, reject) => {
        const request = (url.startsWith("https:") ? https : http).get(
            url,
            {
                agent: false,
                ...(ca ? { ca } : {}),
                headers: { ...(authorization ? { authorization } : {}), ...(accept ? { accept } : {}) },
            },
            (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("end", () =>
                    resolve({
                        status: response.statusCode ?? 0,
                        body: Buffer.concat(chunks),
                        challenge: response.headers["www-authenticate"],
                    }),
                );
            },
        );
        request.on("error", reject);
    });
}

const manifestTypes = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

type Refused = { pulled: false; status: number; what: string };

/** The Authorization header the registry's challenge asks for, with the Basic credential `auth`; or the token endpoint's refusal. */
async function authorizationFor(
    challenge: string | undefined,
    auth: string,
    name: string,
    ca?: string,
): Promise<string | Refused> {
    const parsed = parseChallenge(challenge);
    if (parsed?.scheme !== "bearer" || parsed.params.realm === undefined) return `Basic ${auth}`;
    const realm = new URL(parsed.params.realm);
    if (parsed.params.service !== undefined) realm.searchParams.set("service", parsed.params.service);
    realm.searchParams.set("scope", `repository:${name}:pull`);
    const answer = await get(realm.toString(), `Basic ${auth}`, undefined, ca);
    if (answer.status !== 200) return { pulled: false, status: answer.status, what: "token" };
    const { token, access_token: accessToken } = JSON.parse(answer.body.toString("utf8")) as {
        token?: string;
        access_token?: string;
    };
    return `Bearer ${token ?? accessToken}`;
}

/**
 * Pulls `image` (`NAME:TAG`) from `host` with the credential `dockerConfigJson` holds for it: over
 * plain HTTP, or with `ca` over HTTPS whose certificate chains to it.
 */
export async function pullWithDockerConfig(
    dockerConfigJson: string,
    host: string,
    image: string,
    ca?: string,
): Promise<{ pulled: true } | Refused> {
    const auth: string | undefined = JSON.parse(dockerConfigJson).auths?.[host]?.auth;
    if (auth === undefined) return { pulled: false, status: 0, what: `no credential for ${host}` };
    const [name, tag] = image.split(":");
    const base = `${ca ? "https" : "http"}://${host}`;
    const manifestUrl = `${base}/v2/${name}/manifests/${tag}`;
    let manifest = await get(manifestUrl, undefined, manifestTypes, ca);
    let authorization: string | undefined;
    if (manifest.status === 401) {
        const answered = await authorizationFor(manifest.challenge, auth, name, ca);
        if (typeof answered !== "string") return answered;
        authorization = answered;
        manifest = await get(manifestUrl, authorization, manifestTypes, ca);
    }
    if (manifest.status !== 200) return { pulled: false, status: manifest.status, what: "manifest" };
    const { config, layers } = JSON.parse(manifest.body.toString("utf8"));
    for (const { digest } of [config, ...layers] as { digest: string }[]) {
        const blob = await get(`${base}/v2/${name}/blobs/${digest}`, authorization, undefined, ca);
        if (blob.status !== 200) return { pulled: false, status: blob.status, what: digest };
        if (`sha256:${createHash("sha256").update(blob.body).digest("hex")}` !== digest) {
            return { pulled: false, status: blob.status, what: `${digest} (content differs)` };
        }
    }
    return { pulled: true };
}

/** One image to pull with the docker config some Secret holds right now. */
export interface PullSource {
    /** What the report calls it, e.g. `team-a-dev via asia.gcr.io`. */
    label: string;
    dockerConfigJson: () => Promise<string>;
    host: string;
    image: string;
    /** The CA of a host served over HTTPS; plain HTTP without. */
    ca?: string;
    /** Names the credential a docker config holds (a key's id, never the key), for the report. */
    identify?: (dockerConfigJson: string) => string;
}

export interface PullAttempt {
    atMs: number;
    /** How long the pull took, reading the Secret included. */
    tookMs: number;
    label: string;
    credential?: string;
    pulled: boolean;
    /** Why it failed: an HTTP status and the request, or the error reading the Secret. */
    failure?: string;
}

/**
 * Pulls each source every `everyMs` (or as soon as the previous pull of it finished, if that took
 * longer), all sources at once, until stopped: whatever credential the cluster holds at that moment,
 * as kubelets starting pods would.
 */
export function startPullLoop(sources: PullSource[], everyMs = 100): { stop(): Promise<PullAttempt[]> } {
    const attempts: PullAttempt[] = [];
    let running = true;
    const pullOnce = async (source: PullSource): Promise<PullAttempt> => {
        const atMs = Date.now();
        const attempt = { atMs, label: source.label };
        try {
            const config = await source.dockerConfigJson();
            const credential = source.identify?.(config);
            const result = await pullWithDockerConfig(config, source.host, source.image, source.ca);
            return result.pulled
                ? { ...attempt, credential, pulled: true, tookMs: Date.now() - atMs }
                : {
                      ...attempt,
                      credential,
                      pulled: false,
                      failure: `${result.status} ${result.what}`,
                      tookMs: Date.now() - atMs,
                  };
        } catch (error) {
            return { ...attempt, pulled: false, failure: (error as Error).message, tookMs: Date.now() - atMs };
        }
    };
    const loops = sources.map(async (source) => {
        while (running) {
            const attempt = await pullOnce(source);
            attempts.push(attempt);
            await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - attempt.tookMs)));
        }
    });
    return {
        async stop() {
            running = false;
            await Promise.all(loops);
            return attempts.sort((x, y) => x.atMs - y.atMs);
        },
    };
}
