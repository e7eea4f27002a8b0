/**
 * Whether a credential pulls now, asked as `docker pull` asks (distribution/distribution
 * docs/spec/auth/token.md, v2.8.3): `GET /v2/`; on a `Bearer` challenge a token from the challenge's
 * realm for `repository:<path>:pull` with the credential as Basic auth, on a `Basic` challenge the
 * credential itself; then `GET /v2/<path>/<probe image>/manifests/latest`. No image of that name exists,
 * so a 404 means the registry looked, which Artifact Registry does only for a caller that may read the
 * repository: without `artifactregistry.repositories.downloadArtifacts` it answers 403 `denied:
 * Permission ... denied on resource ... (or it may not exist)` whether the image exists or not. A token
 * answer alone is not taken as proof: Docker's token spec lets a token server grant fewer actions than
 * asked, so only the manifest request shows what is granted.
 *
 * Shared by the readiness gate's provider (components/credential/pull-readiness-provider.ts: a key or a
 * password, before the Secrets take it) and the in-cluster token refresher
 * (components/refresher/token-refresher.ts: its first token, before it writes one), so it loads Node
 * built-ins only and does no I/O of its own: it asks through the `fetch` it is given. It never returns
 * the credential: reasons are the registry's words with the credential cut out.
 */
import { probeImage, registryReason, type ReadinessProbe, type Refusal } from "./readiness";

/** What the proof asks through: `fetch`, or a test's stand-in. */
export interface PullProofWorld {
    fetch: typeof fetch;
}

const manifestTypes = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/**
 * Plain HTTP only for loopback hosts, as Docker treats 127.0.0.0/8 as insecure registries by default
 * (docs.docker.com/reference/cli/dockerd/#insecure-registries); every other host is asked over HTTPS.
 */
function baseUrl(host: string): string {
    const name = host.replace(/:\d+$/, "");
    const loopback = name === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(name) || name === "[::1]";
    return `${loopback ? "http" : "https"}://${host}`;
}

/** `Bearer realm="...",service="..."` or `Basic realm="..."`, as RFC 7235 writes a challenge. */
function parseChallenge(
    header: string | null,
): { scheme: "bearer" | "basic"; params: Record<string, string> } | undefined {
    const match = /^\s*(Bearer|Basic)\b(.*)$/i.exec(header ?? "");
    if (!match) return undefined;
    const params: Record<string, string> = {};
    for (const [, key, quoted, bare] of match[2].matchAll(/([a-z]+)=(?:"([^"]*)"|([^,\s]*))/gi)) {
        params[key.toLowerCase()] = quoted ?? bare;
    }
    return { scheme: match[1].toLowerCase() as "bearer" | "basic", params };
}

type Answer = { status: number; body: string; headers: Headers } | { unreachable: string };

async function ask(world: PullProofWorld, url: string, headers: Record<string, string> = {}): Promise<Answer> {
    try {
        const response = await world.fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(10_000) });
        return { status: response.status, body: await response.text(), headers: response.headers };
    } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        return { unreachable: cause?.code ?? cause?.message ?? (error as Error).name };
    }
}

/** Every refusal one host gives the credential now: none when it signs in and grants pull on each repository. */
export async function probeHost(
    world: PullProofWorld,
    probe: ReadinessProbe,
    username: string,
    password: string,
): Promise<Refusal[]> {
    const base = baseUrl(probe.host);
    const basic = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    const secrets = [password, basic.slice(6), Buffer.from(password).toString("base64")];
    const refused = (answer: Answer, repository?: string): Refusal =>
        "unreachable" in answer
            ? { host: probe.host, repository, status: 0, reason: answer.unreachable }
            : {
                  host: probe.host,
                  repository,
                  status: answer.status,
                  reason: registryReason(answer.body, `HTTP ${answer.status}`, secrets),
              };
    const hello = await ask(world, `${base}/v2/`);
    if ("unreachable" in hello) return [refused(hello)];
    const challenge = hello.status === 401 ? parseChallenge(hello.headers.get("www-authenticate")) : undefined;
    const realm = challenge?.scheme === "bearer" ? challenge.params.realm : undefined;
    if (realm !== undefined && !(realm.startsWith("https://") || new URL(realm).origin === new URL(base).origin)) {
        return [{ host: probe.host, status: 401, reason: "the token realm is neither HTTPS nor the registry itself" }];
    }
    /** The Authorization header for `scope` (none: sign-in only), or the refusal. */
    const authorize = async (scope?: string): Promise<string | Answer> => {
        if (realm === undefined) return basic;
        const url = new URL(realm);
        if (challenge?.params.service) url.searchParams.set("service", challenge.params.service);
        if (scope) url.searchParams.set("scope", scope);
        const answer = await ask(world, url.toString(), { authorization: basic });
        if ("unreachable" in answer || answer.status !== 200) return answer;
        const { token, access_token: accessToken } = JSON.parse(answer.body) as {
            token?: string;
            access_token?: string;
        };
        return `Bearer ${token ?? accessToken}`;
    };
    const signIn = await authorize();
    if (typeof signIn !== "string") return [refused(signIn)];
    if (realm === undefined) {
        const again = await ask(world, `${base}/v2/`, { authorization: basic });
        if ("unreachable" in again || again.status !== 200) return [refused(again)];
    }
    const refusals = await Promise.all(
        probe.repositories.map(async ({ name, path }) => {
            const image = `${path}/${probeImage}`;
            const authorization = await authorize(`repository:${image}:pull`);
            if (typeof authorization !== "string") return refused(authorization, name);
            const answer = await ask(world, `${base}/v2/${image}/manifests/latest`, {
                authorization,
                accept: manifestTypes,
            });
            const looked = !("unreachable" in answer) && (answer.status === 404 || answer.status < 400);
            return looked ? undefined : refused(answer, name);
        }),
    );
    return refusals.filter((r): r is Refusal => r !== undefined);
}
