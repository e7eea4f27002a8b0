/**
 * The shipped token refresher (bin/components/refresher, the files its ConfigMap carries) in a process
 * of its own, writing `targets` Secrets through a TLS stand-in for the API server: what its first round
 * costs in memory (the process's peak RSS, `VmHWM`, what the container's memory limit counts) and in
 * time. The stand-in answers every Secret as the component's own, a GET and a merge PATCH each, and
 * keeps nothing; the token comes from the GKE metadata server double. For the test that the pod's
 * limit holds at the documented maximum (test/refresher/refresher-memory.test.ts) and the benchmark
 * (bench/refresher.ts).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import https from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { ownershipKeys } from "../../components/rules/ownership";
import { makeTlsIdentity } from "./google-network";
import { startMetadataServerDouble } from "./google-token-doubles";

const repo = path.join(__dirname, "..", "..");
const owner = "0123456789abcdef";

export interface RefresherRound {
    targets: number;
    /** The refresher process's peak resident memory after its first round, in MiB. */
    peakRssMiB: number;
    /** From the process's start to the first round's end (every Secret written), in ms. */
    firstRoundMs: number;
    /** Secrets written in that round. */
    written: number;
    /** Requests that failed (a deadline missed, a refused connection) in that round. */
    failed: number;
}

/** Starts the HTTPS stand-in: every Secret is ours, every write succeeds. */
async function startApiServerStandIn(tls: { key: string; cert: string }) {
    const secret = (namespace: string, name: string) =>
        JSON.stringify({
            apiVersion: "v1",
            kind: "Secret",
            type: "kubernetes.io/dockerconfigjson",
            metadata: {
                name,
                namespace,
                labels: {
                    [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value,
                    [ownershipKeys.secretOwner]: owner,
                },
            },
            data: { ".dockerconfigjson": Buffer.from('{"auths":{}}').toString("base64") },
        });
    const server = https.createServer(tls, (req, res) => {
        req.resume();
        req.on("end", () => {
            const match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/?]+)/.exec(req.url ?? "");
            if (match)
                return res.writeHead(200, { "content-type": "application/json" }).end(secret(match[1], match[2]));
            if (req.url?.startsWith("/apis/apps/v1/")) {
                return res.writeHead(200).end('{"metadata":{"uid":"uid-of-the-deployment"}}');
            }
            res.writeHead(201).end("{}");
        });
    });
    // `localhost`: the name in the stand-in's certificate (this machine's resolver gives 127.0.0.1 only).
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `https://localhost:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** The peak RSS of process `pid`, in MiB (Linux `/proc/PID/status` VmHWM). */
function peakRssMiB(pid: number): number {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return Number(kib) / 1024;
}

/** Runs the shipped refresher for `targets` Secrets until its first round ends; measures it. */
export async function measureFirstRound(targets: number): Promise<RefresherRound> {
    const tls = makeTlsIdentity(["localhost"]);
    const api = await startApiServerStandIn(tls);
    const metadata = await startMetadataServerDouble(() => Date.now());
    const config = {
        targets: Array.from({ length: targets }, (_, i) => ({ namespace: `team-${i}`, secretName: "regcred" })),
        registries: ["asia-northeast1-docker.pkg.dev", "gcr.io"],
        probes: [],
        identity: { source: "gkeMetadata" },
        port: 0,
        owner,
        deployment: { namespace: "refresher", name: "token-refresher" },
    };
    const endpoints = {
        metadataServer: metadata.url,
        sts: "http://127.0.0.1:9",
        iamCredentials: "http://127.0.0.1:9",
        kubernetes: { url: api.url, ca: tls.ca, token: "token-of-the-refresher" },
    };
    // The container's entry point, less the in-cluster endpoints: the same module, the same loop.
    const program = `
        const { startRefresher } = require(${JSON.stringify(path.join(repo, "bin/components/refresher/token-refresher.js"))});
        const { config, endpoints } = JSON.parse(require("node:fs").readFileSync(process.env.REFRESHER_RUN, "utf8"));
        const token = endpoints.kubernetes.token;
        endpoints.kubernetes.token = () => token;
        startRefresher({ config, endpoints, host: "127.0.0.1" });
    `;
    const dir = mkdtempSync(path.join(tmpdir(), "refresher-at-scale-"));
    const run = path.join(dir, "run.json");
    writeFileSync(run, JSON.stringify({ config, endpoints }));
    const started = Date.now();
    const child = spawn(process.execPath, ["-e", program], {
        env: { PATH: process.env.PATH, REFRESHER_RUN: run },
        stdio: ["ignore", "pipe", "inherit"],
    });
    try {
        let written = 0;
        let failed = 0;
        let buffered = "";
        await new Promise<void>((resolve, reject) => {
            child.on("exit", (code) =>
                reject(new Error(`the refresher exited (${code}) before its first round ended`)),
            );
            child.stdout.on("data", (chunk: Buffer) => {
                buffered += chunk.toString();
                const lines = buffered.split("\n");
                buffered = lines.pop()!;
                for (const line of lines) {
                    const event = (JSON.parse(line) as { event: string }).event;
                    if (event === "secret-written") written++;
                    if (event === "secret-write-failed") failed++;
                    if (event === "refresh-scheduled" || event === "retry-scheduled") resolve();
                }
            });
        });
        return { targets, peakRssMiB: peakRssMiB(child.pid!), firstRoundMs: Date.now() - started, written, failed };
    } finally {
        child.removeAllListeners("exit");
        child.kill();
        rmSync(dir, { recursive: true, force: true });
        api.close();
        await metadata.close();
    }
}
