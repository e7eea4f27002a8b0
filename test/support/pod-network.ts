/**
 * The network of the test cluster's node, made by the test and removed by it: nothing here changes
 * the machine's own network namespace except one veth pair (its host end, its address, and that
 * end's own settings).
 *
 *   machine ── veth ── node namespace ── veth ── "Google" namespace
 *   (API server and       (kubelet, containerd, kube-proxy,      (the doubles of the metadata
 *    registry listen       the pods' bridge cni0 and the           server, STS, IAM Credentials
 *    on the host end)      pods' own namespaces behind it)         and the DNS double)
 *
 * The node namespace has NO default route: its routes reach the host end of the first veth, the
 * Google namespace and its pods, nothing else, so a packet that misses its rule fails as
 * unreachable instead of going out. Pods reach the host end through the node's masquerade (the
 * machine has no route back to the pods' range); the host end drops anything arriving from an
 * address it would not answer through that veth (strict reverse-path filtering on that interface),
 * so even a missed masquerade cannot make the machine answer a pod through its own default route.
 * IPv6 is off on both veths and inside both namespaces: this network is IPv4 only.
 */
import { randomBytes } from "node:crypto";
import { ip, ipJson, runIn } from "./netns";

/** The pods' range (the bridge plugin's host-local range) and the bridge's own address in it. */
export const podCidr = "10.244.0.0/24";
export const podGateway = "10.244.0.1";
/** What GKE's metadata server answers on, and Google's API hosts the refresher calls. */
export const metadataAddress = "169.254.169.254";
export const googleNames = ["sts.googleapis.com", "iamcredentials.googleapis.com", "metadata.google.internal"];

export interface PodNetwork {
    /** The node's network namespace (a path for `nsenter --net=`). */
    nodeNetns: string;
    /** The namespace of Google's doubles. */
    googleNetns: string;
    /** The host end of the veth: the API server and the registry listen here. */
    hostAddress: string;
    /** The node end: the kubelet's node IP. */
    nodeAddress: string;
    /** The node's interface towards the Google namespace (every Google address routes through it). */
    nodeGoogleInterface: string;
    /** Addresses in the Google namespace: the doubles listen on them. */
    google: { metadata: string; sts: string; iamCredentials: string; dns: string };
    /** The DNS double's table: each Google name and the test-made address it answers. */
    googleHosts: Record<string, string>;
    stop(): void;
}

/** A /30 for the veth whose addresses the machine does not already have. */
function freeLinkBlock(): number {
    const taken = new Set(
        (JSON.parse(ip("-j", "-4", "addr", "show")) as { addr_info: { local: string }[] }[])
            .flatMap((link) => link.addr_info.map((address) => address.local))
            .filter((address) => address.startsWith("10.213."))
            .map((address) => Number(address.split(".")[2])),
    );
    for (let attempt = 0; attempt < 100; attempt++) {
        const block = 1 + Math.floor(Math.random() * 254);
        if (!taken.has(block)) return block;
    }
    throw new Error("no free 10.213.N.0/30 for the test network's veth");
}

export function startPodNetwork(): PodNetwork {
    const id = randomBytes(3).toString("hex");
    const node = `rps-node-${id}`;
    const google = `rps-google-${id}`;
    // Interface names: at most 15 characters.
    const hostEnd = `rps${id}h`;
    const nodeEnd = `rps${id}n`;
    const nodeGoogleInterface = `rps${id}g`;
    const googleEnd = "google0";
    const block = freeLinkBlock();
    const hostAddress = `10.213.${block}.1`;
    const nodeAddress = `10.213.${block}.2`;
    const googleLink = { node: "10.215.0.1", google: "10.215.0.2" };
    const addresses = {
        metadata: metadataAddress,
        sts: "10.215.0.10",
        iamCredentials: "10.215.0.11",
        dns: "10.215.0.53",
    };
    const nodeNetns = `/run/netns/${node}`;
    const googleNetns = `/run/netns/${google}`;
    const stop = () => {
        for (const name of [node, google]) {
            try {
                ip("netns", "delete", name);
            } catch {
                // not made yet, or gone
            }
        }
        // Its peer went with the node namespace, which takes this end with it; a half-made pair may remain.
        try {
            ip("link", "delete", hostEnd);
        } catch {
            // gone with its peer
        }
    };
    process.once("exit", stop);
    try {
        ip("netns", "add", node);
        ip("netns", "add", google);
        const sysctl = (netns: string, ...settings: string[]) => runIn(netns, "sysctl", ["-q", "-w", ...settings]);
        for (const netns of [nodeNetns, googleNetns]) {
            sysctl(netns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        }
        sysctl(nodeNetns, "net.ipv4.ip_forward=1");

        ip("link", "add", hostEnd, "type", "veth", "peer", "name", nodeEnd, "netns", node);
        // Settings of this veth end only (net.ipv4.conf.<interface>): no IPv6, strict reverse-path filter.
        ip("link", "set", hostEnd, "down");
        runIn("/proc/self/ns/net", "sysctl", [
            "-q",
            "-w",
            `net.ipv6.conf.${hostEnd}.disable_ipv6=1`,
            `net.ipv4.conf.${hostEnd}.rp_filter=1`,
        ]);
        ip("addr", "add", `${hostAddress}/30`, "dev", hostEnd);
        ip("link", "set", hostEnd, "up");
        ip("-n", node, "link", "set", "lo", "up");
        ip("-n", node, "addr", "add", `${nodeAddress}/30`, "dev", nodeEnd);
        ip("-n", node, "link", "set", nodeEnd, "up");

        ip("-n", node, "link", "add", nodeGoogleInterface, "type", "veth", "peer", "name", googleEnd, "netns", google);
        ip("-n", node, "addr", "add", `${googleLink.node}/30`, "dev", nodeGoogleInterface);
        ip("-n", node, "link", "set", nodeGoogleInterface, "up");
        ip("-n", google, "link", "set", "lo", "up");
        ip("-n", google, "addr", "add", `${googleLink.google}/30`, "dev", googleEnd);
        for (const address of Object.values(addresses)) {
            ip("-n", google, "addr", "add", `${address}/32`, "dev", googleEnd);
        }
        ip("-n", google, "link", "set", googleEnd, "up");
        // The node reaches each Google address through the Google veth; Google answers pods through the node.
        for (const address of Object.values(addresses)) {
            ip("-n", node, "route", "add", `${address}/32`, "via", googleLink.google, "dev", nodeGoogleInterface);
        }
        ip("-n", google, "route", "add", podCidr, "via", googleLink.node, "dev", googleEnd);
        // Pods leave towards the machine under the node's address: the machine has no route to podCidr.
        runIn(nodeNetns, "nft", ["add table ip registry-pull-secret-e2e"]);
        runIn(nodeNetns, "nft", [
            "add chain ip registry-pull-secret-e2e pods-out { type nat hook postrouting priority srcnat; }",
        ]);
        runIn(nodeNetns, "nft", [
            `add rule ip registry-pull-secret-e2e pods-out oifname "${nodeEnd}" ip saddr ${podCidr} masquerade`,
        ]);
        return {
            nodeNetns,
            googleNetns,
            hostAddress,
            nodeAddress,
            nodeGoogleInterface,
            google: addresses,
            googleHosts: {
                "sts.googleapis.com": addresses.sts,
                "iamcredentials.googleapis.com": addresses.iamCredentials,
                "metadata.google.internal": addresses.metadata,
            },
            stop: () => {
                process.removeListener("exit", stop);
                stop();
            },
        };
    } catch (error) {
        stop();
        throw error;
    }
}

/** Where `address` leaves `netns` for, as `ip route get` says: the interface and the next hop. */
export function routeTo(netns: string, address: string): { dev?: string; gateway?: string; type?: string } {
    const [route] = ipJson(netns, "-4", "route", "get", address) as { dev?: string; gateway?: string; type?: string }[];
    return route ?? {};
}
