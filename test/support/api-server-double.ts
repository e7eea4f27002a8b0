/**
 * A DOUBLE of the Kubernetes API server, not a cluster: an HTTP server on 127.0.0.1 that serves GET
 * and JSON PATCH (`application/json-patch+json`) for ServiceAccounts the way the real one does for
 * what this project sends: every write bumps `metadata.resourceVersion`; a failed RFC 6902 `test`
 * (applied with fast-json-patch) answers 422, as apiserver handlers/patch.go does for a patch that
 * does not apply; a missing object or namespace answers 404; an empty list or map is dropped
 * (omitempty). Faults between the client and the double (forced statuses, a concurrent writer, lost
 * answers) come from a proxy in front of it (test/support/fault-injection.ts).
 *
 * Secrets: GET, POST (create; 409 when the name is taken), JSON merge patch
 * (`application/merge-patch+json`, RFC 7386) and DELETE. A `kubernetes.io/dockerconfigjson` Secret
 * must hold `.dockerconfigjson` as base64 of a JSON document, or the write answers 422, as the real
 * validation does (kubernetes pkg/apis/core/validation `ValidateSecret`); so does a change of the data
 * of an `immutable` Secret (`ValidateSecretUpdate`: "field is immutable when `immutable` is set"). A
 * Secret can be made forbidden (403, what RBAC answers) or answer chosen statuses next, and every
 * request's bearer token is recorded. Events: POST (201, recorded). Deployments: GET of one put by
 * the test (its uid), as the token refresher reads its own.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import jsonpatch from "fast-json-patch";

export interface ServiceAccountObject {
    apiVersion: "v1";
    kind: "ServiceAccount";
    metadata: { name: string; namespace: string; resourceVersion: string; annotations?: Record<string, string> };
    imagePullSecrets?: { name: string }[];
}

export interface SecretObject {
    apiVersion: "v1";
    kind: "Secret";
    metadata: {
        name: string;
        namespace: string;
        resourceVersion: string;
        /** Set by the server when the object is created, kept while it lives (a new object gets a new one). */
        uid?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
    };
    type?: string;
    immutable?: boolean;
    data?: Record<string, string>;
}

/** A core/v1 Event as the double received it. */
export interface EventObject {
    metadata: { namespace: string };
    involvedObject: { kind: string; name: string; namespace: string; uid?: string };
    type: string;
    reason: string;
    message: string;
}

export interface ApiServerDouble {
    /** A kubeconfig document pointing at the double. */
    kubeconfig: string;
    /** The double's base URL (plain http on 127.0.0.1). */
    url: string;
    /** Creates or replaces a ServiceAccount (as another writer would), bumping its resourceVersion. */
    put(namespace: string, name: string, pullSecrets?: string[]): void;
    /** The names listed now, `undefined` when the account does not exist. */
    pullSecrets(namespace: string, name: string): string[] | undefined;
    /** The account's annotations now (`{}` when none), `undefined` when the account does not exist. */
    annotations(namespace: string, name: string): Record<string, string> | undefined;
    /** Sets one annotation of an existing ServiceAccount (as a tenant with patch rights would), bumping its resourceVersion. */
    annotate(namespace: string, name: string, annotationKey: string, value: string): void;
    /** Replaces the list of an existing ServiceAccount, keeping the rest of it (as `kubectl patch` with the recipe's list does). */
    setPullSecrets(namespace: string, name: string, pullSecrets: string[]): void;
    /** Removes a namespace and everything in it. */
    deleteNamespace(namespace: string): void;
    /** Requests seen, as `METHOD path status`. */
    log: string[];
    /** The bearer token of every request, `""` when it had none. */
    bearers: string[];
    /** Creates or replaces a Secret as another writer would: a new object (a new uid) unless `metadata.uid` keeps the old one. */
    putSecret(
        secret: Omit<SecretObject, "apiVersion" | "kind" | "metadata"> & {
            metadata: Omit<SecretObject["metadata"], "resourceVersion">;
        },
    ): void;
    /** The Secret now, `undefined` when it does not exist. */
    secret(namespace: string, name: string): SecretObject | undefined;
    deleteSecret(namespace: string, name: string): void;
    /** Every request for this Secret answers 403 until `allow` is called. */
    forbidSecret(namespace: string, name: string): void;
    allowSecret(namespace: string, name: string): void;
    /** The next requests for this Secret answer these statuses, one each. */
    failSecretNext(namespace: string, name: string, ...statuses: number[]): void;
    /** Creates a Deployment (its name and a uid) for GET. */
    putDeployment(namespace: string, name: string, uid: string): void;
    /** TCP connections accepted so far (a client that keeps them alive opens few). */
    connections(): number;
    /** The most requests the double was answering at one time. */
    mostInFlight(): number;
    /** The Events posted so far. */
    events: EventObject[];
    close(): Promise<void>;
}

const status = (code: number, reason: string, message: string) =>
    JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message });

export async function startApiServerDouble(): Promise<ApiServerDouble> {
    const accounts = new Map<string, ServiceAccountObject>();
    let version = 100;
    const log: string[] = [];
    const bearers: string[] = [];
    const key = (namespace: string, name: string) => `${namespace}/${name}`;
    const secrets = new Map<string, SecretObject>();
    const forbidden = new Set<string>();
    const secretFaults = new Map<string, number[]>();
    const deployments = new Map<string, string>();
    const events: EventObject[] = [];

    const storeSecret = (secret: SecretObject): string | undefined => {
        if (secret.type === "kubernetes.io/dockerconfigjson") {
            const encoded = secret.data?.[".dockerconfigjson"];
            if (encoded === undefined) return "data[.dockerconfigjson]: Required value";
            try {
                JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
            } catch {
                return "data[.dockerconfigjson]: Invalid value: <secret contents redacted>";
            }
        }
        secret.metadata.resourceVersion = String(++version);
        secrets.set(key(secret.metadata.namespace, secret.metadata.name), secret);
        return undefined;
    };

    /** The Secrets API; `undefined` when the path is not a Secret's. */
    const serveSecret = (
        method: string,
        url: string,
        contentType: string | undefined,
        body: string,
    ): [number, string] | undefined => {
        const match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/?]+))?(?:\?.*)?$/.exec(url);
        if (!match) return undefined;
        const [, namespace, name] = match;
        const target = name ?? (method === "POST" ? (JSON.parse(body) as SecretObject).metadata?.name : undefined);
        if (target !== undefined && forbidden.has(key(namespace, target))) {
            return [403, status(403, "Forbidden", `secrets "${target}" is forbidden`)];
        }
        const fault = target === undefined ? undefined : secretFaults.get(key(namespace, target))?.shift();
        if (fault !== undefined) return [fault, status(fault, "Injected", "injected by the test")];
        const current = name === undefined ? undefined : secrets.get(key(namespace, name));
        if (method === "POST" && name === undefined) {
            const created = JSON.parse(body) as SecretObject;
            created.metadata.namespace = namespace;
            created.metadata.uid = randomUUID();
            if (secrets.has(key(namespace, created.metadata.name))) {
                return [409, status(409, "AlreadyExists", `secrets "${created.metadata.name}" already exists`)];
            }
            const invalid = storeSecret(created);
            return invalid ? [422, status(422, "Invalid", invalid)] : [201, JSON.stringify(created)];
        }
        if (name === undefined) return [405, status(405, "MethodNotAllowed", "double serves single Secrets")];
        if (!current) return [404, status(404, "NotFound", `secrets "${name}" not found`)];
        if (method === "GET") return [200, JSON.stringify(current)];
        if (method === "DELETE") {
            secrets.delete(key(namespace, name));
            return [200, JSON.stringify(status(200, "", ""))];
        }
        if (method === "PATCH") {
            if (contentType !== "application/merge-patch+json") {
                return [
                    415,
                    status(415, "UnsupportedMediaType", `double serves merge patch for Secrets, got ${contentType}`),
                ];
            }
            const patched = mergePatch(structuredClone(current), JSON.parse(body)) as SecretObject;
            if (current.immutable === true && JSON.stringify(patched.data) !== JSON.stringify(current.data)) {
                return [422, status(422, "Invalid", "data: Forbidden: field is immutable when `immutable` is set")];
            }
            const invalid = storeSecret(patched);
            return invalid ? [422, status(422, "Invalid", invalid)] : [200, JSON.stringify(patched)];
        }
        return [405, status(405, "MethodNotAllowed", "double serves GET, POST, PATCH and DELETE for Secrets")];
    };

    /** Events and the one Deployment GET the refresher sends; `undefined` for other paths. */
    const serveOther = (method: string, url: string, body: string): [number, string] | undefined => {
        const event = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(url);
        if (event && method === "POST") {
            const received = JSON.parse(body) as EventObject;
            events.push(received);
            return [201, JSON.stringify(received)];
        }
        const deployment = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/?]+)$/.exec(url);
        if (deployment && method === "GET") {
            const uid = deployments.get(key(deployment[1], deployment[2]));
            if (uid === undefined)
                return [404, status(404, "NotFound", `deployments.apps "${deployment[2]}" not found`)];
            return [200, JSON.stringify({ metadata: { name: deployment[2], namespace: deployment[1], uid } })];
        }
        return undefined;
    };

    const store = (account: ServiceAccountObject) => {
        if (account.imagePullSecrets?.length === 0) delete account.imagePullSecrets;
        if (account.metadata.annotations && Object.keys(account.metadata.annotations).length === 0) {
            delete account.metadata.annotations;
        }
        account.metadata.resourceVersion = String(++version);
        accounts.set(key(account.metadata.namespace, account.metadata.name), account);
    };

    let connections = 0;
    let inFlight = 0;
    let mostInFlight = 0;
    const server = http.createServer((req, res) => {
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        res.on("finish", () => inFlight--);
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
            const answer = (code: number, text: string) => {
                log.push(`${req.method} ${req.url} ${code}`);
                res.writeHead(code, { "content-type": "application/json" }).end(text);
            };
            bearers.push(/^Bearer (.*)$/.exec(req.headers.authorization ?? "")?.[1] ?? "");
            const secretAnswer = serveSecret(req.method ?? "", req.url ?? "", req.headers["content-type"], body);
            if (secretAnswer) return answer(...secretAnswer);
            const otherAnswer = serveOther(req.method ?? "", req.url ?? "", body);
            if (otherAnswer) return answer(...otherAnswer);
            const match = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/?]+)/.exec(req.url ?? "");
            if (!match) return answer(404, status(404, "NotFound", "not served by the double"));
            const [, namespace, name] = match;
            if (req.method === "PATCH") {
                if (req.headers["content-type"] !== "application/json-patch+json") {
                    return answer(
                        415,
                        status(
                            415,
                            "UnsupportedMediaType",
                            `double serves JSON patch only, got ${req.headers["content-type"]}`,
                        ),
                    );
                }
            } else if (req.method !== "GET") {
                return answer(405, status(405, "MethodNotAllowed", "double serves GET and PATCH"));
            }
            const current = accounts.get(key(namespace, name));
            if (!current) return answer(404, status(404, "NotFound", `serviceaccounts "${name}" not found`));
            if (req.method === "GET") return answer(200, JSON.stringify(current));
            try {
                const patched = jsonpatch.applyPatch(
                    structuredClone(current),
                    JSON.parse(body),
                    true,
                    false,
                ).newDocument;
                store(patched);
                return answer(200, JSON.stringify(patched));
            } catch (error) {
                return answer(422, status(422, "Invalid", String((error as Error).name)));
            }
        });
    });
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const kubeconfig = JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        // client-node refuses plain http unless TLS checks are declared off; the double has no TLS.
        clusters: [
            { name: "double", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } },
        ],
        users: [{ name: "double", user: {} }],
        contexts: [{ name: "double", context: { cluster: "double", user: "double" } }],
        "current-context": "double",
    });

    return {
        connections: () => connections,
        mostInFlight: () => mostInFlight,
        kubeconfig,
        url: `http://127.0.0.1:${port}`,
        put(namespace, name, pullSecrets) {
            store({
                apiVersion: "v1",
                kind: "ServiceAccount",
                metadata: { name, namespace, resourceVersion: "" },
                ...(pullSecrets ? { imagePullSecrets: pullSecrets.map((n) => ({ name: n })) } : {}),
            });
        },
        setPullSecrets(namespace, name, pullSecrets) {
            const account = structuredClone(accounts.get(key(namespace, name)));
            if (!account) throw new Error(`no ServiceAccount ${namespace}/${name}`);
            if (pullSecrets.length === 0) delete account.imagePullSecrets;
            else account.imagePullSecrets = pullSecrets.map((n) => ({ name: n }));
            store(account);
        },
        annotate(namespace, name, annotationKey, value) {
            const account = structuredClone(accounts.get(key(namespace, name)));
            if (!account) throw new Error(`no ServiceAccount ${namespace}/${name}`);
            account.metadata.annotations = { ...account.metadata.annotations, [annotationKey]: value };
            store(account);
        },
        pullSecrets: (namespace, name) => {
            const account = accounts.get(key(namespace, name));
            return account ? (account.imagePullSecrets ?? []).map((e) => e.name) : undefined;
        },
        annotations: (namespace, name) => {
            const account = accounts.get(key(namespace, name));
            return account ? { ...account.metadata.annotations } : undefined;
        },
        deleteNamespace(namespace) {
            for (const k of [...accounts.keys()]) if (k.startsWith(`${namespace}/`)) accounts.delete(k);
            for (const k of [...secrets.keys()]) if (k.startsWith(`${namespace}/`)) secrets.delete(k);
        },
        log,
        bearers,
        putSecret(secret) {
            const invalid = storeSecret({
                apiVersion: "v1",
                kind: "Secret",
                ...structuredClone(secret),
                metadata: {
                    ...structuredClone(secret.metadata),
                    uid: secret.metadata.uid ?? randomUUID(),
                    resourceVersion: "",
                },
            });
            if (invalid) throw new Error(invalid);
        },
        secret: (namespace, name) => structuredClone(secrets.get(key(namespace, name))),
        deleteSecret: (namespace, name) => void secrets.delete(key(namespace, name)),
        forbidSecret: (namespace, name) => void forbidden.add(key(namespace, name)),
        allowSecret: (namespace, name) => void forbidden.delete(key(namespace, name)),
        failSecretNext: (namespace, name, ...statuses) =>
            void secretFaults.set(key(namespace, name), [
                ...(secretFaults.get(key(namespace, name)) ?? []),
                ...statuses,
            ]),
        putDeployment: (namespace, name, uid) => void deployments.set(key(namespace, name), uid),
        events,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

/** RFC 7386 JSON merge patch: objects merge key by key, `null` removes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
    if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
    const result: Record<string, unknown> =
        typeof target === "object" && target !== null && !Array.isArray(target) ? { ...target } : {};
    for (const [name, value] of Object.entries(patch)) {
        if (value === null) delete result[name];
        else result[name] = mergePatch(result[name], value);
    }
    return result;
}
