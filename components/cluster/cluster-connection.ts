/**
 * How a dynamic provider in this package reaches the cluster (shared by every one of them), and what
 * its errors may say. Pulumi prints a provider's error to the terminal, to CI logs and into the
 * backend's operation log, so no error leaving these providers carries anything it did not write
 * itself: not a kubeconfig's text (the YAML parser quotes the lines around a fault, token or client
 * key included), not a file path (a misplaced token would be taken for one), not a response body.
 */
import { statSync } from "node:fs";
import { homedir } from "node:os";
import type * as pulumi from "@pulumi/pulumi";
import type { CoreV1Api, KubeConfig } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { isOwnerId } from "../rules/ownership";

/** Where the cluster is: a kubeconfig (contents or a path) and a context, each optional. */
export interface ClusterConnection {
    kubeconfig?: string;
    context?: string;
}

/** An error whose whole message was written here: it names what failed and quotes nothing it received. */
export class ClusterError extends Error {
    override name = "ClusterError";
}

/**
 * `pulumi import` of one of this package's resources: the engine calls `read` with the id alone, no
 * state. None of them can be imported, because what makes each one ours is known only to the component
 * that declares it (its owner id, its Secret's claim, its refresher): refused with what to do instead.
 * A refresh always has the state, so `props` tells the two apart.
 */
export function refuseImport(type: string, props: object | undefined): void {
    if (props !== undefined && Object.keys(props).length > 0) return;
    throw new ClusterError(
        `${type} cannot be imported: the RegistryPullSecret component declares it. Declare the component instead and run pulumi up: it finds what is already in the cluster (an imagePullSecrets entry or Secret of the kubectl recipe with takeOver: true, its own earlier writes by their owner marks) and never overwrites anybody else's (docs/takeover.md)`,
    );
}

/** Whether a resource now reaches the cluster another way (a diff of either half is a change to apply). */
export const connectionChanged = (olds: ClusterConnection, news: ClusterConnection): boolean =>
    olds.kubeconfig !== news.kubeconfig || olds.context !== news.context;

/** The HTTP status of a client-node error, if it has one. */
export function statusOf(error: unknown): number | undefined {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === "number" ? code : undefined;
}

/**
 * The system error code of a request that got no answer (client-node's fetch fails with a
 * `TypeError` whose `cause` carries it: `ECONNREFUSED`, `ECONNRESET`, `UND_ERR_SOCKET` ...), or
 * `undefined` when the error is not a network failure.
 */
export function networkCodeOf(error: unknown): string | undefined {
    if (!(error instanceof Error) || statusOf(error) !== undefined) return undefined;
    const cause = (error as { cause?: { code?: unknown } }).cause;
    const code = typeof cause?.code === "string" ? cause.code : (error as { code?: unknown }).code;
    if (typeof code === "string" && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
    return error.name === "TypeError" && error.message === "fetch failed" ? "network" : undefined;
}

/** The `reason` of a Kubernetes `Status` body (`Forbidden`, `Invalid`), never its message. */
function reasonOf(error: unknown): string | undefined {
    let body = (error as { body?: unknown } | null)?.body;
    if (typeof body === "string") {
        try {
            body = JSON.parse(body);
        } catch {
            return undefined;
        }
    }
    const reason = (body as { reason?: unknown } | null)?.reason;
    return typeof reason === "string" && /^[A-Za-z]{1,40}$/.test(reason) ? reason : undefined;
}

/**
 * Where a request that got no answer went: the address and port Node.js reports for a refused or
 * unreachable connection (`127.0.0.1:6443`), checked to be only that; `undefined` otherwise.
 */
function addressOf(error: unknown): string | undefined {
    const cause = (error as { cause?: { address?: unknown; port?: unknown } } | null)?.cause;
    const address = typeof cause?.address === "string" ? cause.address : undefined;
    const port = typeof cause?.port === "number" ? cause.port : undefined;
    if (address === undefined || !/^[0-9a-fA-F.:]{2,45}$/.test(address)) return undefined;
    return port === undefined ? address : address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * No answer, and none soon: nothing listens there (a stopped or wrong cluster), or the name or route
 * leads nowhere. Asked once more, not a dozen times: a wrong kubeconfig must fail in seconds.
 */
export const isRefusal = (error: unknown): boolean =>
    ["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"].includes(networkCodeOf(error) ?? "");

/** What went wrong, in words that quote nothing the error carried but a checked address. */
export function describeFailure(error: unknown): string {
    const status = statusOf(error);
    if (status !== undefined) {
        const reason = reasonOf(error);
        return `the API server answered ${status}${reason ? ` (${reason})` : ""}`;
    }
    const network = networkCodeOf(error);
    if (network !== undefined) {
        const address = addressOf(error);
        return `the API server could not be reached (${network}${address ? ` at ${address}` : ""}); check the kubeconfig it was reached through: the component's kubeconfig, else the stack's kubernetes:kubeconfig, else KUBECONFIG or ~/.kube/config`;
    }
    return `the request failed (${error instanceof Error ? error.name : "unknown error"})`;
}

/** Refuses to write without a valid owner id (components/rules/ownership.ts): what we write must say whose it is. */
export function requireOwner(owner: unknown): string {
    if (!isOwnerId(owner)) throw new ClusterError("owner must be the component's owner id (16 hex digits)");
    return owner;
}

/** Runs one provider step; an error it did not write itself becomes one that names `what` and quotes nothing. */
export async function guarded<T>(what: string, step: () => Promise<T>): Promise<T> {
    try {
        return await step();
    } catch (error) {
        if (error instanceof ClusterError) throw error;
        throw new ClusterError(`${what}: ${describeFailure(error)}`);
    }
}

/**
 * Why a kubeconfig was refused: client-node's own "clusters[0].cluster.server is missing" as it is,
 * a YAML or JSON parser's error by line only (js-yaml's `mark.line` counts from 0): its message quotes
 * the document.
 */
function parseFailure(error: unknown): ClusterError {
    const message = error instanceof Error ? error.message : "";
    if (/^(clusters|users|contexts)\[\d+\]\.[a-z.]+ is missing$/.test(message)) {
        return new ClusterError(`kubeconfig is not a valid kubeconfig document: ${message}`);
    }
    const line = (error as { mark?: { line?: unknown } } | null)?.mark?.line;
    const where = typeof line === "number" ? ` (a syntax error at line ${line + 1})` : "";
    return new ClusterError(`kubeconfig is not a valid kubeconfig document${where}`);
}

/**
 * A client for the cluster, found the way the default Kubernetes provider finds it: the given
 * kubeconfig (the component arg, else `kubernetes:kubeconfig` stack config), else `KUBECONFIG`, else
 * `~/.kube/config`, else in-cluster (client-node `loadFromDefault`); `kubernetes:context` picks the context.
 */
export function connect(connection: ClusterConnection): Promise<CoreV1Api> {
    const key = connectionKey(connection);
    let client = clients.get(key);
    if (client === undefined) {
        client = makeClient(connection);
        clients.set(key, client);
        // A connection that failed is not kept: the next call reads the kubeconfig again.
        client.catch(() => clients.delete(key));
    }
    return client;
}

/**
 * One client per connection (kubeconfig and context) for the life of the process: every call of a
 * `pulumi` command's providers shares its kept-alive connections, and an exec plugin's cached token.
 * A changed kubeconfig or context is another key, so another client: a document by its text, a file by
 * its path and modification time, the default by `KUBECONFIG` and the home folder.
 */
const clients = new Map<string, Promise<CoreV1Api>>();

function connectionKey({ kubeconfig, context }: ClusterConnection): string {
    let source: string;
    if (kubeconfig === undefined || kubeconfig === "") source = `default ${process.env.KUBECONFIG ?? ""} ${homedir()}`;
    else if (/[\n{]/.test(kubeconfig)) source = kubeconfig;
    else source = `file ${kubeconfig} ${modified(kubeconfig)}`;
    return JSON.stringify([source, context ?? ""]);
}

function modified(file: string): number {
    try {
        return statSync(file).mtimeMs;
    } catch {
        return -1; // missing: makeClient names the problem
    }
}

async function makeClient(connection: ClusterConnection): Promise<CoreV1Api> {
    const k8s = await import("@kubernetes/client-node");
    return (await loadKubeConfig(connection)).makeApiClient(k8s.CoreV1Api);
}

/**
 * The kubeconfig `connect` reaches the cluster with, for a program that needs other API groups too
 * (the doctor reads Deployments); errors as `connect`'s.
 */
export async function loadKubeConfig(connection: ClusterConnection): Promise<KubeConfig> {
    // Loaded when used: client-node is an ES module, and only the dynamic-provider process needs it.
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    shareDispatcher(config);
    const { kubeconfig, context } = connection;
    try {
        // Like pulumi-kubernetes, `kubernetes:kubeconfig` may hold the document itself or a path to it.
        if (kubeconfig === undefined || kubeconfig === "") config.loadFromDefault();
        else if (/[\n{]/.test(kubeconfig)) config.loadFromString(kubeconfig);
        else config.loadFromFile(kubeconfig);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
            throw new ClusterError(`kubeconfig: the file it names cannot be read (${code})`);
        }
        throw parseFailure(error);
    }
    if (context) {
        if (config.getContextObject(context) === null) {
            throw new ClusterError(`kubernetes context "${context}" is not in the kubeconfig`);
        }
        config.setCurrentContext(context);
    }
    if (config.getCurrentCluster() === null) {
        throw new ClusterError("the kubeconfig's current context names no cluster");
    }
    return config;
}

/**
 * client-node 2.0 makes a new undici Agent for every request (dist/config.js
 * `applySecurityAuthentication` calls `createDispatcher`), so every API call opened its own TCP and TLS
 * connection. The agent depends only on the cluster's and user's TLS settings, which one KubeConfig
 * keeps; tokens travel in headers. So one agent per KubeConfig, made on first use.
 */
function shareDispatcher(config: object): void {
    const internals = config as { createDispatcher(cluster: unknown, options: unknown): unknown };
    const make = internals.createDispatcher.bind(config);
    let shared: { value: unknown } | undefined;
    internals.createDispatcher = (cluster, options) => (shared ??= { value: make(cluster, options) }).value;
}

/**
 * What every provider here does with the cluster: `configure` keeps the stack's
 * `kubernetes:kubeconfig` and `kubernetes:context` (Pulumi's dynamic-provider host passes the stack
 * config), and `client` connects with a resource's own kubeconfig and context, else that stack config
 * (then the defaults `connect` falls back to). A resource the plugin serves carries both itself
 * (components/cluster/provider-by-name.ts): a plugin's `configure` receives only its own package's config.
 */
export function stackCluster(connectTo: (connection: ClusterConnection) => Promise<CoreV1Api> = connect) {
    const stack: ClusterConnection = {};
    return {
        configure: (req: pulumi.dynamic.ConfigureRequest): Promise<void> => {
            stack.kubeconfig = req.config.get("kubernetes:kubeconfig");
            stack.context = req.config.get("kubernetes:context");
            return Promise.resolve();
        },
        client: (resource: ClusterConnection) =>
            connectTo({
                kubeconfig: resource.kubeconfig ?? stack.kubeconfig,
                context: resource.context ?? stack.context,
            }),
    };
}
