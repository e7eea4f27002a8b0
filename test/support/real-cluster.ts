/**
 * A REAL Kubernetes control plane on 127.0.0.1, for test/engine: etcd, kube-apiserver and
 * kube-controller-manager built from their Go modules by test/engine/build.sh into .engine/bin.
 * Token authentication (an admin in system:masters), RBAC, a service-account key pair, a small
 * service CIDR; the controller manager runs only the namespace, garbage-collector and
 * service-account controllers; with {@link ClusterOptions.podsAt} also kube-scheduler and the
 * controllers of a Deployment's rollout (test/support/real-node.ts then runs the pods). Everything lives in a
 * temporary folder and is stopped by `stop()`, and killed if the test process exits first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import https from "node:https";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { inNetns } from "./netns";

export const engineBin = path.join(__dirname, "..", "..", ".engine", "bin");

export interface RealCluster {
    /** A kubeconfig document for the admin (context `real`). */
    kubeconfig: string;
    /** The API server's URL, `https://127.0.0.1:PORT`. */
    server: string;
    /** The admin's bearer token. */
    token: string;
    /** The API server's serving certificate bundle (PEM), to verify TLS. */
    certificateAuthority: string;
    /** The temporary folder (logs: etcd.log, kube-apiserver.log, kube-controller-manager.log). */
    dir: string;
    stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as { port: number };
    await new Promise<void>((done) => server.close(() => done()));
    return port;
}

/** The path of a binary test/engine/build.sh builds; a missing one is an error naming the fix. */
export function engineBinary(name: string): string {
    const file = path.join(engineBin, name);
    if (!existsSync(file)) throw new Error(`${file} is missing: run test/engine/build.sh (as .ci/run does)`);
    return file;
}

const children = new Set<ChildProcess>();
// Nothing outlives the test process, even when a test fails before its `after` hook runs.
process.once("exit", () => {
    for (const child of children) child.kill("SIGKILL");
});

/**
 * Starts a binary of test/engine/build.sh in `dir`, logging to `dir/<name>.log`, inside network
 * namespace `netns` when given (nsenter execs it: the child is the binary itself); killed at exit at
 * the latest.
 */
export function start(
    dir: string,
    name: string,
    args: string[],
    env?: NodeJS.ProcessEnv,
    netns?: string,
): ChildProcess {
    const log = openSync(path.join(dir, `${name}.log`), "w");
    const [command, commandArgs] = netns ? inNetns(netns, engineBinary(name), args) : [engineBinary(name), args];
    const child = spawn(command, commandArgs, { stdio: ["ignore", log, log], cwd: dir, env });
    children.add(child);
    child.once("exit", () => children.delete(child));
    return child;
}

export async function stopProcess(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
}

/** Polls until `ready` says yes, failing early (with the log's tail) when the process exits. */
export async function waitFor(
    dir: string,
    name: string,
    child: ChildProcess,
    ready: () => Promise<boolean>,
    timeoutMs = 120_000,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const tail = () =>
        readFileSync(path.join(dir, `${name}.log`), "utf8")
            .split("\n")
            .slice(-30)
            .join("\n");
    for (;;) {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${tail()}`);
        if (await ready().catch(() => false)) return;
        if (Date.now() > deadline) throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${tail()}`);
        await new Promise((done) => setTimeout(done, 250));
    }
}

export interface ClusterOptions {
    /**
     * Run ordinary pods: the API server listens and advertises on this address (the host end of the
     * test network's veth, test/support/pod-network.ts) instead of 127.0.0.1, so the `kubernetes`
     * Service has an endpoint pods can reach (Endpoints may not hold a loopback address); and
     * kube-scheduler and the controllers a Deployment's rollout needs run too.
     */
    podsAt?: string;
    /**
     * Audit every request the admin makes (at level Metadata, never a body): `npm run bench:engine`
     * counts the API calls each command costs from it ({@link auditEvents}).
     */
    auditAdmin?: boolean;
}

/** The controllers every cluster here runs, and those only a cluster that runs pods needs. */
const controllers = {
    // Namespaces get their `default` ServiceAccount, deleted namespaces are emptied, and foreground
    // deletion (which the Pulumi Kubernetes provider uses) finishes.
    always: ["namespace-controller", "garbage-collector-controller", "serviceaccount-controller"],
    // Deployments roll out through ReplicaSets; every namespace gets `kube-root-ca.crt`, the CA that
    // the kubelet puts beside each pod's ServiceAccount token; the kubelet registers its Node with the
    // `node.kubernetes.io/not-ready` taint, which only the node lifecycle controller lifts once it is Ready.
    pods: [
        "deployment-controller",
        "replicaset-controller",
        "root-ca-certificate-publisher-controller",
        "node-lifecycle-controller",
    ],
};

/**
 * What a cluster started with `podsAt` audits: writes to Secrets, ServiceAccounts, Pods and Deployments
 * and reads of Secrets, the API server's own record of the order things happened in.
 */
const podRules = (() => {
    const resources = [
        { group: "", resources: ["secrets", "serviceaccounts", "pods"] },
        { group: "apps", resources: ["deployments", "replicasets"] },
    ];
    return [
        { level: "Metadata", verbs: ["create", "update", "patch", "delete"], resources },
        { level: "Metadata", verbs: ["get"], resources: [{ group: "", resources: ["secrets"] }] },
    ];
})();

/**
 * An audit log of the requests `rules` select, at level Metadata (who, what, when to the microsecond;
 * never a request or response body, so never a Secret's data); nothing else is logged.
 */
function auditFlags(dir: string, rules: object[]): string[] {
    const policy = path.join(dir, "audit-policy.json");
    writeFileSync(
        policy,
        JSON.stringify({
            apiVersion: "audit.k8s.io/v1",
            kind: "Policy",
            omitStages: ["RequestReceived"],
            rules: [...rules, { level: "None" }],
        }),
    );
    return [
        `--audit-policy-file=${policy}`,
        `--audit-log-path=${path.join(dir, "audit.log")}`,
        "--audit-log-format=json",
    ];
}

/** One entry of the audit log (audit.k8s.io/v1 Event, the fields the tests read). */
export interface AuditEvent {
    verb: string;
    stage: string;
    userAgent?: string;
    user: { username: string; extra?: Record<string, string[]> };
    objectRef?: { resource: string; namespace?: string; name?: string };
    responseStatus?: { code: number };
    requestReceivedTimestamp: string;
    stageTimestamp: string;
}

/** The audit log so far (a cluster started with `podsAt` or `auditAdmin`). */
export function auditEvents(cluster: RealCluster): AuditEvent[] {
    return readFileSync(path.join(cluster.dir, "audit.log"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as AuditEvent);
}

export async function startRealCluster(options: ClusterOptions = {}): Promise<RealCluster> {
    const address = options.podsAt ?? "127.0.0.1";
    const dir = mkdtempSync(path.join(tmpdir(), "real-cluster-"));
    const started: ChildProcess[] = [];
    const stop = async () => {
        for (const child of started.reverse()) await stopProcess(child);
        rmSync(dir, { recursive: true, force: true });
    };
    try {
        const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
        const etcdUrl = `http://127.0.0.1:${etcdPort}`;
        const peerUrl = `http://127.0.0.1:${peerPort}`;
        const etcd = start(dir, "etcd", [
            "--name=test",
            `--data-dir=${path.join(dir, "etcd-data")}`,
            `--listen-client-urls=${etcdUrl}`,
            `--advertise-client-urls=${etcdUrl}`,
            `--listen-peer-urls=${peerUrl}`,
            `--initial-advertise-peer-urls=${peerUrl}`,
            `--initial-cluster=test=${peerUrl}`,
            "--unsafe-no-fsync", // a throwaway test store: durability is not under test
        ]);
        started.push(etcd);
        await waitFor(dir, "etcd", etcd, async () => (await fetch(`${etcdUrl}/health`)).ok);

        const token = randomBytes(24).toString("hex");
        writeFileSync(path.join(dir, "tokens.csv"), `${token},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
        // The service-account issuer signs tokens with this pair (OpenSSL through node:crypto).
        const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        writeFileSync(path.join(dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
        writeFileSync(path.join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
        const certDir = path.join(dir, "certs");
        const apiserver = start(dir, "kube-apiserver", [
            `--etcd-servers=${etcdUrl}`,
            `--bind-address=${address}`,
            `--advertise-address=${address}`,
            `--secure-port=${apiPort}`,
            `--cert-dir=${certDir}`,
            `--token-auth-file=${path.join(dir, "tokens.csv")}`,
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${path.join(dir, "sa.pub")}`,
            `--service-account-signing-key-file=${path.join(dir, "sa.key")}`,
            "--service-cluster-ip-range=10.0.0.0/24",
            // Endpoints may not hold a loopback address: without pods, 127.0.0.1 is the only one here.
            ...(options.podsAt ? [] : ["--endpoint-reconciler-type=none"]),
            "--profiling=false",
            ...(options.podsAt || options.auditAdmin
                ? auditFlags(dir, [
                      ...(options.auditAdmin ? [{ level: "Metadata", users: ["admin"] }] : []),
                      ...(options.podsAt ? podRules : []),
                  ])
                : []),
        ]);
        started.push(apiserver);
        const server = `https://${address}:${apiPort}`;
        const kubeconfigFor = (certificateAuthority: string) =>
            JSON.stringify({
                apiVersion: "v1",
                kind: "Config",
                clusters: [
                    {
                        name: "real",
                        cluster: {
                            server,
                            "certificate-authority-data": Buffer.from(certificateAuthority).toString("base64"),
                        },
                    },
                ],
                users: [{ name: "admin", user: { token } }],
                contexts: [{ name: "real", context: { cluster: "real", user: "admin" } }],
                "current-context": "real",
            });
        const certFile = path.join(certDir, "apiserver.crt");
        await waitFor(dir, "kube-apiserver", apiserver, () => Promise.resolve(existsSync(certFile)));
        const certificateAuthority = readFileSync(certFile, "utf8");
        const kubeconfig = kubeconfigFor(certificateAuthority);
        const kubeconfigFile = path.join(dir, "kubeconfig.json");
        writeFileSync(kubeconfigFile, kubeconfig, { mode: 0o600 });
        await waitFor(dir, "kube-apiserver", apiserver, () => readyz(server, token, certificateAuthority));

        const controllerManager = start(dir, "kube-controller-manager", [
            `--kubeconfig=${kubeconfigFile}`,
            `--controllers=${[...controllers.always, ...(options.podsAt ? controllers.pods : [])].join(",")}`,
            `--root-ca-file=${certFile}`,
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            "--use-service-account-credentials=false",
        ]);
        started.push(controllerManager);
        // The controllers are up once the `default` ServiceAccount of `default` exists.
        await waitFor(dir, "kube-controller-manager", controllerManager, async () => {
            const response = await apiGet(
                server,
                token,
                certificateAuthority,
                "/api/v1/namespaces/default/serviceaccounts/default",
            );
            return response.status === 200;
        });
        if (options.podsAt) {
            const schedulerPort = await freePort();
            const scheduler = start(dir, "kube-scheduler", [
                `--kubeconfig=${kubeconfigFile}`,
                `--authentication-kubeconfig=${kubeconfigFile}`,
                `--authorization-kubeconfig=${kubeconfigFile}`,
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                `--secure-port=${schedulerPort}`,
            ]);
            started.push(scheduler);
            // /healthz needs no credentials (--authorization-always-allow-paths); its certificate is self-signed.
            await waitFor(dir, "kube-scheduler", scheduler, async () => {
                const status = await new Promise<number>((resolve, reject) =>
                    https
                        .get(`https://127.0.0.1:${schedulerPort}/healthz`, { rejectUnauthorized: false }, (answer) => {
                            answer.resume();
                            resolve(answer.statusCode ?? 0);
                        })
                        .on("error", reject),
                );
                return status === 200;
            });
        }
        return { kubeconfig, server, token, certificateAuthority, dir, stop };
    } catch (error) {
        await stop();
        throw error;
    }
}

/** A GET with the admin token over TLS verified against the server's own certificate. */
export async function apiGet(
    server: string,
    token: string,
    certificateAuthority: string,
    pathname: string,
): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const request = https.get(
            `${server}${pathname}`,
            { ca: certificateAuthority, headers: { authorization: `Bearer ${token}` } },
            (response) => {
                let body = "";
                response.on("data", (chunk) => (body += chunk));
                response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
            },
        );
        request.on("error", reject);
    });
}

async function readyz(server: string, token: string, certificateAuthority: string): Promise<boolean> {
    return (await apiGet(server, token, certificateAuthority, "/readyz")).status === 200;
}

/**
 * A client for the cluster's core API, without @pulumi/pulumi: the engine test's program must use
 * only the consumer project's copy of it.
 */
export async function coreApi(kubeconfig: string): Promise<CoreV1Api> {
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    config.loadFromString(kubeconfig);
    return config.makeApiClient(k8s.CoreV1Api);
}
