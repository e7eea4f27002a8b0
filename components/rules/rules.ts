/**
 * Validation rules as pure functions: each returns the reason a value breaks its rule, or
 * `undefined` when it is fine. The component turns a reason into a `pulumi.InputPropertyError`
 * naming the property; nothing here knows about Pulumi.
 */

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes namespace name: an RFC 1123 label (apimachinery `IsDNS1123Label`). */
export function namespaceNameProblem(value: string): string | undefined {
    if (value.length === 0) return "must not be empty";
    if (value.length > 63) return `must be at most 63 characters (RFC 1123 label), got ${value.length}`;
    if (!dnsLabel.test(value)) {
        return "must be an RFC 1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit";
    }
    return undefined;
}

/** A Secret or ServiceAccount name: an RFC 1123 subdomain (apimachinery `IsDNS1123Subdomain`). */
export function objectNameProblem(value: string): string | undefined {
    if (value.length === 0) return "must not be empty";
    if (value.length > 253) return `must be at most 253 characters (RFC 1123 subdomain), got ${value.length}`;
    if (!value.split(".").every((label) => dnsLabel.test(label))) {
        return "must be an RFC 1123 subdomain: dot-separated labels of lowercase letters, digits and '-', each starting and ending with a letter or digit";
    }
    return undefined;
}

/** A list must not name the same value twice; returns the index of the first repeat. */
export function firstDuplicateIndex(values: readonly string[]): number | undefined {
    const index = values.findIndex((value, i) => values.indexOf(value) !== i);
    return index === -1 ? undefined : index;
}

/** A glob-capable host label, as the kubelet matches them part by part with `filepath.Match`. */
const hostLabel = /^[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?$/;

/**
 * A registry key as the kubelet's keyring matches it (kubernetes `pkg/credentialprovider/keyring.go`):
 * `host` or `host:port`, lowercase, dot-separated labels that may hold `*` and `?` globs. Schemes and
 * paths are refused here: they would make the entry match nothing the user expects.
 */
export function registryHostProblem(value: string): string | undefined {
    if (value.length === 0) return "must not be empty";
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
        return "must be a host or host:port without a scheme (write 'gcr.io', not 'https://gcr.io')";
    }
    if (value.includes("/")) return "must be a host or host:port without a path";
    const match = /^([^:]*)(?::(\d+))?$/.exec(value);
    if (!match) return "must be a host or host:port (one ':' followed by a port number)";
    const [, host, port] = match;
    if (port !== undefined && (port.startsWith("0") || Number(port) < 1 || Number(port) > 65535)) {
        return `port must be a number from 1 to 65535, got ${port}`;
    }
    if (host.length > 253) return `host must be at most 253 characters, got ${host.length}`;
    if (host !== host.toLowerCase()) return "host must be lowercase";
    const labels = host.split(".");
    if (!labels.every((label) => label.length <= 63 && hostLabel.test(label))) {
        return "host must be dot-separated labels of lowercase letters, digits, '-' and the globs '*' and '?'";
    }
    // The kubelet offers the credential to every host a pattern matches: a glob may narrow one registry
    // domain (`*.gcr.io`), never stand for the domain itself (`*.*`, `*.io`, `gcr.*`).
    if (/[*?]/.test(host) && (labels.length < 3 || labels.slice(-2).some((label) => /[*?]/.test(label)))) {
        return "host may use globs only left of a registry domain written out in full (e.g. '*.gcr.io'): a pattern like '*.*' or '*.io' would hand the credential to any host it matches";
    }
    return undefined;
}

/** A Google Cloud service account id: 6 to 30 characters, `[a-z][-a-z0-9]*[a-z0-9]`. */
export function serviceAccountIdProblem(value: string): string | undefined {
    if (value.length < 6 || value.length > 30) return `must be 6 to 30 characters, got ${value.length}`;
    if (!/^[a-z][-a-z0-9]*[a-z0-9]$/.test(value)) {
        return "must start with a lowercase letter, end with a letter or digit, and hold only lowercase letters, digits and '-'";
    }
    return undefined;
}

/** A Google Cloud project id: 6 to 30 characters, optionally domain-scoped (`example.com:my-project`). */
export function projectIdProblem(value: string): string | undefined {
    const id = value.slice(value.lastIndexOf(":") + 1);
    if (id.length < 6 || id.length > 30) return `must be a project id of 6 to 30 characters, got ${id.length}`;
    if (!/^[a-z][-a-z0-9]*[a-z0-9]$/.test(id)) {
        return "must be a project id: a lowercase letter first, then lowercase letters, digits and '-', not ending in '-'";
    }
    return undefined;
}

/** An email address: one '@', no spaces, a dotted domain. Deliberately loose, like the APIs it feeds. */
export function emailProblem(value: string): string | undefined {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s.]+$/.test(value)) {
        return "must be an email address like name@example.com";
    }
    return undefined;
}

/** An Artifact Registry location (`us`, `asia`, `europe`, `asia-northeast1`). */
export function repositoryLocationProblem(value: string): string | undefined {
    if (!/^[a-z]+(-[a-z]+[0-9]+)?$/.test(value)) {
        return "must be an Artifact Registry location such as 'us', 'asia' or 'asia-northeast1'";
    }
    return undefined;
}

/** An Artifact Registry repository id; `gcr.io`-style hosts are repositories named after the host. */
export function repositoryIdProblem(value: string): string | undefined {
    if (value.length === 0 || value.length > 63) return `must be 1 to 63 characters, got ${value.length}`;
    if (!/^[a-z]([-.a-z0-9]*[a-z0-9])?$/.test(value)) {
        return "must be a repository id: a lowercase letter first, then lowercase letters, digits, '-' and '.'";
    }
    return undefined;
}

/**
 * A registry username (`credentials.username`). The `auth` field is base64("username:password") and
 * the kubelet splits it on the first ':' (RFC 7617 forbids ':' in a user-id), so a ':' in the
 * username would silently move part of it into the password.
 */
export function registryUsernameProblem(value: string): string | undefined {
    if (value.length === 0) return "must not be empty";
    if (value.includes(":")) return "must not contain ':' (basic auth splits username and password on the first ':')";
    return undefined;
}

/** A registry password or token (`credentials.password`). */
export function registryPasswordProblem(value: string): string | undefined {
    return value.length === 0 ? "must not be empty" : undefined;
}

/** A Google Cloud project number: digits only, no leading zero. */
export function projectNumberProblem(value: string): string | undefined {
    if (!/^[1-9][0-9]{0,19}$/.test(value)) {
        return "must be the project's number (digits only, e.g. 123456789012), not its id";
    }
    return undefined;
}

/**
 * A workload identity pool or provider id: 4 to 32 characters of lowercase letters, digits and '-'
 * (IAM `workloadIdentityPools.create`); the prefix `gcp-` is reserved by Google.
 */
export function workloadIdentityIdProblem(value: string): string | undefined {
    if (value.length < 4 || value.length > 32) return `must be 4 to 32 characters, got ${value.length}`;
    if (!/^[a-z0-9-]+$/.test(value)) return "must hold only lowercase letters, digits and '-'";
    if (value.startsWith("gcp-")) return "must not start with 'gcp-' (reserved by Google)";
    return undefined;
}

/** An OIDC issuer: an absolute `https://` URL (Google fetches its discovery document over TLS only). */
export function issuerUriProblem(value: string): string | undefined {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return "must be an absolute https:// URL";
    }
    if (url.protocol !== "https:") return "must be an https:// URL: Google accepts OIDC issuers over TLS only";
    if (url.search !== "" || url.hash !== "") return "must have no query and no fragment";
    return undefined;
}

/** A JSON Web Key Set document: a JSON object with a `keys` list. */
export function jwksJsonProblem(value: string): string | undefined {
    try {
        const parsed = JSON.parse(value) as { keys?: unknown };
        if (Array.isArray(parsed?.keys)) return undefined;
    } catch {
        // reported below
    }
    return 'must be a JSON Web Key Set: a JSON object like {"keys":[...]}';
}

/** A container image reference: no spaces, not empty. The registry decides the rest. */
export function containerImageProblem(value: string): string | undefined {
    if (value.length === 0) return "must not be empty";
    if (/\s/.test(value)) return "must not contain whitespace";
    return undefined;
}

/**
 * Whether an image reference is pinned by digest (`name@sha256:` and 64 hex digits): a tag such as
 * `node:24-alpine` can be moved to other content by whoever controls the repository.
 */
export function isPinnedByDigest(image: string): boolean {
    return /@sha256:[0-9a-f]{64}$/.test(image);
}
