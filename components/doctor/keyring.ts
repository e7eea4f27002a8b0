/**
 * Which credentials of a pod's pull Secrets the kubelet hands the runtime for an image, rule for rule
 * as kubernetes v1.37 does it:
 *
 * - `pkg/credentialprovider/secrets/secrets.go` `MakeDockerKeyring`: only a Secret of type
 *   `kubernetes.io/dockerconfigjson` with a non-empty `.dockerconfigjson` (or `kubernetes.io/dockercfg`
 *   with `.dockercfg`) counts; a document that does not parse fails the whole pull.
 * - `pkg/credentialprovider/config.go` `DockerConfigEntry.UnmarshalJSON`: a non-empty `auth` replaces
 *   `username` and `password`; it is base64 (padded if it ends in `=`, else unpadded) of `user:password`,
 *   split at the first `:`, and a malformed one fails the whole pull too.
 * - `pkg/credentialprovider/keyring.go` `BasicDockerKeyring.Add`: a key without a scheme gets `https://`,
 *   the scheme is dropped, a leading `/v1/` or `/v2/` of the path is cut to `/`; `Lookup` tries the keys in
 *   reverse byte order (longer and non-glob keys first) and returns every match; with none, an image of
 *   Docker Hub gets the `index.docker.io` key's credentials.
 * - `keyring.go` `URLsMatch`: ports equal, the same number of dot-separated labels, each label
 *   glob-matched (`filepath.Match`: `*` never crosses a dot), the key's path a plain prefix of the image's.
 *
 * The runtime then tries those credentials in order and stops at the first that pulls; with none it
 * pulls anonymously (`pkg/kubelet/kuberuntime/kuberuntime_image.go` `PullImage`).
 */

/** One credential of a docker config, as the kubelet reads it (after `auth` replaced the fields). */
export interface KeyringEntry {
    /** The `auths` key as written (`https://asia.gcr.io`, `*.gcr.io`). */
    server: string;
    username: string;
    password: string;
    /** The `username` field as written, when `auth` replaced it with another. */
    usernameField?: string;
    /** Whether the `password` field differs from the one `auth` carries (never the passwords themselves). */
    passwordFieldDiffers?: boolean;
}

/** A docker config's credentials, or why the kubelet cannot read it (a reason that quotes nothing of it). */
export type ParsedDockerConfig = { entries: KeyringEntry[] } | { unreadable: string };

/**
 * The entries of a `.dockerconfigjson` (`{"auths": {...}}`) or, with `legacy`, a `.dockercfg` (the
 * map itself). Field types follow Go's encoding/json: a string field may be absent or null, nothing else.
 */
export function parseDockerConfig(text: string, legacy = false): ParsedDockerConfig {
    let document: unknown;
    try {
        document = JSON.parse(text);
    } catch {
        return { unreadable: "it is not JSON" };
    }
    if (!isObject(document)) return { unreadable: "it is not a JSON object" };
    const auths = legacy ? document : document.auths;
    if (auths === undefined || auths === null) return { entries: [] };
    if (!isObject(auths)) return { unreadable: "its auths is not an object" };
    const entries: KeyringEntry[] = [];
    for (const [server, value] of Object.entries(auths)) {
        if (value === null) {
            entries.push({ server, username: "", password: "" });
            continue;
        }
        if (!isObject(value)) return { unreadable: `its entry for ${server} is not an object` };
        const field = (name: string): string | undefined => {
            const v = value[name];
            return v === undefined || v === null ? "" : typeof v === "string" ? v : undefined;
        };
        const [username, password, auth] = [field("username"), field("password"), field("auth")];
        if (username === undefined || password === undefined || auth === undefined || field("email") === undefined) {
            return { unreadable: `a field of its entry for ${server} is not a string` };
        }
        if (auth === "") {
            entries.push({ server, username, password });
            continue;
        }
        const decoded = decodeAuth(auth);
        if (decoded === undefined) {
            return { unreadable: `the auth of its entry for ${server} is not base64 of username:password` };
        }
        const entry: KeyringEntry = { server, username: decoded.username, password: decoded.password };
        if (username !== "" && username !== decoded.username) entry.usernameField = username;
        if (password !== "" && password !== decoded.password) entry.passwordFieldDiffers = true;
        entries.push(entry);
    }
    return { entries };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);

/** config.go `decodeDockerConfigFieldAuth`; Go's decoder skips `\r` and `\n`. */
function decodeAuth(field: string): { username: string; password: string } | undefined {
    const data = field.replace(/[\r\n]/g, "");
    const padded = field.trim().endsWith("=");
    const valid = padded
        ? /^[A-Za-z0-9+/]*={0,2}$/.test(data) && data.length % 4 === 0
        : /^[A-Za-z0-9+/]*$/.test(data) && data.length % 4 !== 1;
    if (!valid) return undefined;
    const text = Buffer.from(data, "base64").toString("utf8");
    const colon = text.indexOf(":");
    if (colon < 0) return undefined;
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** A schemeless URL split as Go's net/url splits `https://` + it: the host, and the path (query and fragment cut). */
interface SchemelessUrl {
    host: string;
    path: string;
}

function parseSchemeless(value: string): SchemelessUrl | undefined {
    const end = value.search(/[/?#]/);
    let host = end < 0 ? value : value.slice(0, end);
    const rest = end < 0 ? "" : value.slice(end);
    const path = rest.startsWith("/") ? rest.replace(/[?#].*$/, "") : "";
    // net/url: userinfo before `@` is not the host; a port after the last `:` must be digits.
    host = host.slice(host.lastIndexOf("@") + 1);
    if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"]*$/.test(host)) return undefined;
    const close = host.startsWith("[") ? host.indexOf("]") : -1;
    if (host.startsWith("[") && close < 0) return undefined;
    const colon = host.startsWith("[") ? (host.length > close + 1 ? close + 1 : -1) : host.lastIndexOf(":");
    if (colon >= 0 && !/^:[0-9]*$/.test(host.slice(colon))) return undefined;
    return { host, path };
}

/** keyring.go `Add`: the key a docker config's server becomes, or undefined when the kubelet ignores it. */
export function keyringKey(server: string): string | undefined {
    const withoutScheme = server.replace(/^https?:\/\//, "");
    const url = parseSchemeless(withoutScheme);
    if (url === undefined) return undefined;
    let path = url.path;
    if (path.startsWith("/v2/") || path.startsWith("/v1/")) path = path.slice(3);
    return path !== "" && path !== "/" ? url.host + path : url.host;
}

/** keyring.go `SplitURL`: the host's labels and its port (net.SplitHostPort, failing to no port). */
function splitHost(host: string): { labels: string[]; port: string } {
    const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(host);
    if (bracketed) return { labels: bracketed[1].split("."), port: bracketed[2] };
    const colons = host.split(":").length - 1;
    if (colons === 1 && !host.includes("[") && !host.includes("]")) {
        const [name, port] = host.split(":");
        return { labels: name.split("."), port };
    }
    return { labels: host.split("."), port: "" };
}

/** keyring.go `URLsMatchStr`: whether the key `glob` matches the image name `target` (both schemeless). */
export function urlsMatch(glob: string, target: string): boolean {
    const [globUrl, targetUrl] = [parseSchemeless(glob), parseSchemeless(target)];
    if (globUrl === undefined || targetUrl === undefined) return false;
    const [g, t] = [splitHost(globUrl.host), splitHost(targetUrl.host)];
    if (g.port !== t.port || g.labels.length !== t.labels.length) return false;
    if (!targetUrl.path.startsWith(globUrl.path)) return false;
    return g.labels.every((label, i) => globMatches(label, t.labels[i]));
}

/**
 * Go's `path/filepath.Match` on one label (Unix: `\` escapes): `*` any run, `?` one character,
 * `[...]` / `[^...]` a class with ranges. A malformed pattern matches nothing (Lookup drops the error).
 */
export function globMatches(pattern: string, name: string): boolean {
    let source = "";
    const chars = [...pattern];
    for (let i = 0; i < chars.length; i++) {
        const c = chars[i];
        if (c === "*") source += "[^/]*";
        else if (c === "?") source += "[^/]";
        else if (c === "\\") {
            if (i + 1 >= chars.length) return false;
            source += literal(chars[++i]);
        } else if (c === "[") {
            let j = i + 1;
            let klass = "";
            if (chars[j] === "^") {
                klass += "^";
                j++;
            }
            let ranges = 0;
            for (;;) {
                if (j >= chars.length) return false;
                if (chars[j] === "]" && ranges > 0) break;
                const lo = classChar(chars, j);
                if (lo === undefined) return false;
                j = lo.next;
                let item = classLiteral(lo.char);
                if (chars[j] === "-") {
                    const hi = classChar(chars, j + 1);
                    if (hi === undefined) return false;
                    j = hi.next;
                    item += `-${classLiteral(hi.char)}`;
                }
                klass += item;
                ranges++;
            }
            source += `[${klass}]`;
            i = j;
        } else source += literal(c);
    }
    try {
        return new RegExp(`^${source}$`, "u").test(name);
    } catch {
        return false;
    }
}

/** filepath.Match `getEsc`: one character of a class; `-` and `]` unescaped, or nothing left, are malformed. */
function classChar(chars: string[], at: number): { char: string; next: number } | undefined {
    const c = chars[at];
    if (c === undefined || c === "-" || c === "]") return undefined;
    if (c === "\\") return chars[at + 1] === undefined ? undefined : { char: chars[at + 1], next: at + 2 };
    return { char: c, next: at + 1 };
}

/** A literal character in a `u` regular expression: only syntax characters may be escaped there, and `-` in a class. */
const literal = (c: string): string => (/[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c);
const classLiteral = (c: string): string => (c === "-" ? "\\-" : literal(c));

/** keyring.go `isDefaultRegistryMatch`: whether an image name falls back to Docker Hub's credentials. */
function isDefaultRegistryMatch(image: string): boolean {
    const slash = image.indexOf("/");
    const first = slash < 0 ? image : image.slice(0, slash);
    if (first === "") return false;
    if (slash < 0) return true;
    if (first === "docker.io" || first === "index.docker.io") return true;
    return !/[.:]/.test(first);
}

/** One docker config of a pull Secret, in the pod's order. */
export interface KeyringSource<S> {
    source: S;
    entries: KeyringEntry[];
}

/** A credential the kubelet would try, with where it came from. */
export interface KeyringMatch<S> {
    source: S;
    entry: KeyringEntry;
    /** The key it matched under (normalized as `Add` does). */
    key: string;
}

/** keyring.go `Lookup`: the credentials for `repository` (`DOMAIN/PATH`), in the order the runtime tries them. */
export function lookupCredentials<S>(sources: KeyringSource<S>[], repository: string): KeyringMatch<S>[] {
    const byKey = new Map<string, KeyringMatch<S>[]>();
    for (const { source, entries } of sources) {
        for (const entry of entries) {
            const key = keyringKey(entry.server);
            if (key === undefined) continue;
            byKey.set(key, [...(byKey.get(key) ?? []), { source, entry, key }]);
        }
    }
    const index = [...byKey.keys()].sort((a, b) => Buffer.compare(Buffer.from(b), Buffer.from(a)));
    const matches = index.filter((key) => urlsMatch(key, repository)).flatMap((key) => byKey.get(key) ?? []);
    if (matches.length > 0) return matches;
    return isDefaultRegistryMatch(repository) ? (byKey.get("index.docker.io") ?? []) : [];
}
