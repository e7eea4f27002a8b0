/**
 * `route-check`: the last plugin of the test node's CNI chain (test/support/real-node.ts), a test
 * gate that runs for every pod after the bridge plugin gave it its address and BEFORE any of its
 * containers starts (the kubelet creates a pod's sandbox, network included, first). From inside the
 * pod's own network namespace it asks the nameserver the kubelet gives pods (its clusterDNS; the
 * test reads each pod's resolv.conf afterwards) for each Google name, and checks that each
 * answer, the nameserver and `169.254.169.254` route from the pod through the bridge's gateway and,
 * on the node, through the interface to the test's Google namespace. Anything else fails the pod's
 * sandbox (a CNI error): the pod never runs. CNI spec 1.0 (containernetworking/cni SPEC.md): the
 * config arrives on stdin with `prevResult`, which an ADD prints on success; DEL and CHECK do nothing.
 */
import { readFileSync, appendFileSync } from "node:fs";
import type * as dgram from "node:dgram";
import { randomBytes } from "node:crypto";
import { readQuestion } from "./dns-double";
import { ipJson, listenIn } from "./netns";

export interface RouteCheckConfig {
    type: "route-check";
    /** The nameserver the pods get (the kubelet's clusterDNS). */
    nameserver: string;
    /** Each Google name and the test-made address it must resolve to. */
    names: Record<string, string>;
    /** Addresses that must route to the Google namespace, beside the names' answers. */
    addresses: string[];
    /** The node's interface towards the Google namespace. */
    nodeGoogleInterface: string;
    /** One JSON line per pod checked. */
    log: string;
}

interface PrevResult {
    interfaces?: { name: string; sandbox?: string }[];
    ips?: { address: string; gateway?: string; interface?: number }[];
}

/** The first A address `nameserver` gives for `name`, asked from `socket` (bound in the pod's namespace). */
async function resolveFrom(socket: dgram.Socket, nameserver: string, name: string): Promise<string> {
    const id = randomBytes(2);
    const labels = name.split(".").map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)]));
    const query = Buffer.concat([
        id,
        Buffer.from([0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), // RD; one question
        ...labels,
        Buffer.from([0, 0, 1, 0, 1]), // root; A; IN
    ]);
    const answer = await new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer from ${nameserver} for ${name}`)), 5_000);
        socket.once("message", (message) => {
            clearTimeout(timer);
            resolve(message);
        });
        socket.send(query, 53, nameserver);
    });
    if (!answer.subarray(0, 2).equals(id)) throw new Error(`a stray answer for ${name}`);
    if ((answer[3] & 0x0f) !== 0 || answer.readUInt16BE(6) === 0) throw new Error(`${nameserver} has no A for ${name}`);
    const record = answer.subarray(readQuestion(answer).end);
    if (record.readUInt16BE(2) !== 1 || record.readUInt16BE(10) !== 4) throw new Error(`not an A record for ${name}`);
    return [...record.subarray(12, 16)].join(".");
}

function route(netns: string, address: string): { dev?: string; gateway?: string } {
    const [found] = ipJson(netns, "-4", "route", "get", address) as { dev?: string; gateway?: string }[];
    return found ?? {};
}

/** Every check for one pod; throws naming the first that fails. */
export async function checkPod(config: RouteCheckConfig, podNetns: string, ifname: string, prev: PrevResult) {
    const podInterface = prev.interfaces?.findIndex((i) => i.name === ifname && i.sandbox !== undefined) ?? -1;
    const gateway = prev.ips?.find((i) => i.interface === podInterface)?.gateway;
    if (!gateway) throw new Error(`the bridge gave ${ifname} no gateway`);

    const [socket] = (await listenIn(podNetns, [{ protocol: "udp", host: "0.0.0.0", port: 0 }])) as dgram.Socket[];
    const resolved: Record<string, string> = {};
    try {
        for (const [name, expected] of Object.entries(config.names)) {
            resolved[name] = await resolveFrom(socket, config.nameserver, name);
            if (resolved[name] !== expected) throw new Error(`${name} resolves to ${resolved[name]}, not ${expected}`);
        }
    } finally {
        socket.close();
    }
    const addresses = [...new Set([config.nameserver, ...config.addresses, ...Object.values(resolved)])];
    const routes = addresses.map((address) => {
        const fromPod = route(podNetns, address);
        if (fromPod.dev !== ifname || fromPod.gateway !== gateway) {
            throw new Error(
                `${address} leaves the pod by ${fromPod.dev} via ${fromPod.gateway}, not ${ifname} via ${gateway}`,
            );
        }
        const fromNode = route("/proc/self/ns/net", address);
        if (fromNode.dev !== config.nodeGoogleInterface) {
            throw new Error(`${address} leaves the node by ${fromNode.dev}, not ${config.nodeGoogleInterface}`);
        }
        return { address, pod: fromPod, node: fromNode };
    });
    return { resolved, routes };
}

async function main(): Promise<void> {
    const command = process.env.CNI_COMMAND;
    const input = readFileSync(0, "utf8");
    const config = JSON.parse(input) as RouteCheckConfig & { cniVersion: string; prevResult?: PrevResult };
    if (command === "VERSION") {
        process.stdout.write(JSON.stringify({ cniVersion: "1.0.0", supportedVersions: ["1.0.0", "1.1.0"] }));
        return;
    }
    if (command !== "ADD") return;
    const args = Object.fromEntries((process.env.CNI_ARGS ?? "").split(";").map((pair) => pair.split("=")));
    const pod = `${args.K8S_POD_NAMESPACE}/${args.K8S_POD_NAME}`;
    try {
        const checked = await checkPod(
            config,
            process.env.CNI_NETNS ?? "",
            process.env.CNI_IFNAME ?? "",
            config.prevResult ?? {},
        );
        appendFileSync(
            config.log,
            `${JSON.stringify({ pod, at: new Date().toISOString(), passed: true, ...checked })}\n`,
        );
        process.stdout.write(JSON.stringify({ cniVersion: config.cniVersion, ...config.prevResult }));
    } catch (error) {
        const msg = error instanceof Error ? error.message : String(error);
        appendFileSync(config.log, `${JSON.stringify({ pod, at: new Date().toISOString(), passed: false, msg })}\n`);
        process.stdout.write(JSON.stringify({ cniVersion: config.cniVersion, code: 100, msg: `route-check: ${msg}` }));
        process.exitCode = 1;
    }
}

if (require.main === module) void main();
