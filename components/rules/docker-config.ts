/**
 * The `.dockerconfigjson` encoder, byte-for-byte what `kubectl create secret docker-registry` stores.
 *
 * kubectl (kubernetes/kubectl pkg/cmd/create/create_secret_docker.go) marshals
 * `{"auths":{server:{username,password,email,auth}}}` with Go's encoding/json: compact, no trailing
 * newline, map keys sorted by their UTF-8 bytes, struct fields in declaration order, empty fields
 * omitted (`omitempty`), and `<`, `>`, `&`, U+2028, U+2029 escaped as `\u003c` and so on.
 */

/** One registry's credential, as kubectl's `--docker-server/-username/-password/-email` flags. */
export interface DockerRegistryEntry {
    /** The registry host as the kubelet matches it: `host` or `host:port`, globs allowed (`*.gcr.io`). */
    server: string;
    /** The registry user (`_json_key_base64` with a Google service-account key, `oauth2accesstoken` with an access token). */
    username: string;
    /** Written as given, and with the username base64-encoded in `auth`. */
    password: string;
    /** Written into the entry like `--docker-email`; left out when empty. */
    email?: string;
}

/**
 * `auth` is base64("username:password"). The kubelet lets it override username and password, and
 * some clients (skopeo, containers/image) read only `auth`, so it is always written beside them.
 */
export function basicAuth(username: string, password: string): string {
    return Buffer.from(`${toUtf8(username)}:${toUtf8(password)}`, "utf8").toString("base64");
}

/** The `.dockerconfigjson` document for these entries; servers must be distinct. */
export function dockerConfigJson(entries: readonly DockerRegistryEntry[]): string {
    const servers = entries.map((entry) => toUtf8(entry.server));
    const duplicate = servers.find((server, i) => servers.indexOf(server) !== i);
    if (duplicate !== undefined) {
        throw new Error(`dockerConfigJson: server ${goString(duplicate)} is listed twice`);
    }
    const auths = entries
        .map((entry, i) => ({ key: servers[i], value: authEntry(entry) }))
        .sort((a, b) => Buffer.compare(Buffer.from(a.key, "utf8"), Buffer.from(b.key, "utf8")))
        .map(({ key, value }) => `${goString(key)}:${value}`);
    return `{"auths":{${auths.join(",")}}}`;
}

function authEntry(entry: DockerRegistryEntry): string {
    const fields: [string, string | undefined][] = [
        ["username", entry.username],
        ["password", entry.password],
        ["email", entry.email],
        ["auth", basicAuth(entry.username, entry.password)],
    ];
    const present = fields.filter(([, value]) => value !== undefined && value !== "");
    return `{${present.map(([name, value]) => `"${name}":${goString(toUtf8(value as string))}`).join(",")}}`;
}

/**
 * Strings reach kubectl as UTF-8 bytes; a lone UTF-16 surrogate has no UTF-8 form and becomes
 * U+FFFD on the way (Node's argv and Buffer encoding do the same), so the encoder does it first.
 */
function toUtf8(value: string): string {
    return value.toWellFormed();
}

const shortEscapes: Record<string, string> = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
};

/** A JSON string literal as Go's encoding/json writes it (HTML-safe escaping on, the default). */
export function goString(value: string): string {
    const escaped = value.replace(/["\\\u0000-\u001f<>&\u2028\u2029]/g, (char) => {
        return shortEscapes[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
    });
    return `"${escaped}"`;
}
