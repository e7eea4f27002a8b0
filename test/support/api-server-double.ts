/**
 * A DOUBLE of the Kubernetes API server, not a cluster: an HTTP server on 127.0.0.1 that serves GET
 * and JSON PATCH (`application/json-patch+json`) for ServiceAccounts the way the real one does for
 * what this project sends: every write bumps `metadata.resourceVersion`; a failed RFC 6902 `test`
 * (applied with fast-json-patch) answers 422, as apiserver handlers/patch.go does for a patch that
 * does not apply; a missing object or namespace answers 404; an empty list is dropped (omitempty).
 * Tests inject faults (status answers, writes between our read and our patch, late accounts).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import jsonpatch from "fast-json-patch";

export interface ServiceAccountObject {
    apiVersion: "v1";
    kind: "ServiceAccount";
    metadata: { name: string; namespace: string; resourceVersion: string };
    imagePullSecrets?: { name: string }[];
}

export interface ApiServerDouble {
    /** A kubeconfig document pointing at the double. */
    kubeconfig: string;
    /** Creates or replaces a ServiceAccount (as another writer would), bumping its resourceVersion. */
    put(namespace: string, name: string, pullSecrets?: string[]): void;
    /** The names listed now, `undefined` when the account does not exist. */
    pullSecrets(namespace: string, name: string): string[] | undefined;
    /** Removes a namespace and everything in it. */
    deleteNamespace(namespace: string): void;
    /** The next answers to any request are these statuses, one each, before real handling resumes. */
    failNext(...statuses: number[]): void;
    /** Runs once, after the next PATCH arrives and before it is applied: a concurrent writer. */
    beforeNextPatch(write: () => void): void;
    /** Requests seen, as `METHOD path status`. */
    log: string[];
    close(): Promise<void>;
}

const status = (code: number, reason: string, message: string) =>
    JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message });

export async function startApiServerDouble(): Promise<ApiServerDouble> {
    const accounts = new Map<string, ServiceAccountObject>();
    const faults: number[] = [];
    let hook: (() => void) | undefined;
    let version = 100;
    const log: string[] = [];
    const key = (namespace: string, name: string) => `${namespace}/${name}`;

    const store = (account: ServiceAccountObject) => {
        if (account.imagePullSecrets?.length === 0) delete account.imagePullSecrets;
        account.metadata.resourceVersion = String(++version);
        accounts.set(key(account.metadata.namespace, account.metadata.name), account);
    };

    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
            const answer = (code: number, text: string) => {
                log.push(`${req.method} ${req.url} ${code}`);
                res.writeHead(code, { "content-type": "application/json" }).end(text);
            };
            const fault = faults.shift();
            if (fault !== undefined) return answer(fault, status(fault, "Injected", "injected by the test"));
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
                const write = hook;
                hook = undefined;
                write?.();
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
        kubeconfig,
        put(namespace, name, pullSecrets) {
            store({
                apiVersion: "v1",
                kind: "ServiceAccount",
                metadata: { name, namespace, resourceVersion: "" },
                ...(pullSecrets ? { imagePullSecrets: pullSecrets.map((n) => ({ name: n })) } : {}),
            });
        },
        pullSecrets: (namespace, name) => {
            const account = accounts.get(key(namespace, name));
            return account ? (account.imagePullSecrets ?? []).map((e) => e.name) : undefined;
        },
        deleteNamespace(namespace) {
            for (const k of [...accounts.keys()]) if (k.startsWith(`${namespace}/`)) accounts.delete(k);
        },
        failNext: (...statuses) => void faults.push(...statuses),
        beforeNextPatch: (write) => void (hook = write),
        log,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
