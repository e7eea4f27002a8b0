/**
 * A real node for the real control plane (test/support/real-cluster.ts), so a real kubelet pulls
 * images with the Secrets and `imagePullSecrets` entries the component writes: kubelet 1.37.2 (built
 * with the API server), containerd 2.4.2 and its runc shim (built from the Go module proxy by
 * test/engine/build.sh), runc from Debian; as root, on this machine, everything under one temporary
 * folder. No CNI plugin is installed, so the node's network never becomes ready and only pods on the
 * host's network run; no scheduler runs, so a pod names its node. The sandbox ("pause") image is built
 * here from test/engine/pause and imported: no container registry can be reached.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
    apiGet,
    engineBin,
    engineBinary,
    freePort,
    start,
    stopProcess,
    waitFor,
    type RealCluster,
} from "./real-cluster";
import { mustRun } from "./engine-project";
import { buildImage } from "./real-registry";
import { podCidr, podGateway, type PodNetwork } from "./pod-network";
import type { RouteCheckConfig } from "./route-check-plugin";

/** The CNI reference plugins test/engine/build.sh builds (its `cluster` target). */
const cniBin = path.join(engineBin, "..", "cni");

/** The image containerd's CRI plugin runs every pod sandbox from (its default `pinned_images.sandbox`). */
const sandboxImage = "registry.k8s.io/pause:3.10.2";

export interface RealNode {
    /** The Node's name: a pod runs here when its `spec.nodeName` says so. */
    name: string;
    /** Lets containerd pull from a registry that speaks plain HTTP on `host` (`127.0.0.1:PORT`). */
    trustPlainHttp(host: string): void;
    /** Lets containerd pull from `host` over HTTPS whose certificate chains to `ca` (PEM), in `hosts.toml`. */
    trustTls(host: string, ca: string): void;
    /** The folder with containerd.log and kubelet.log. */
    dir: string;
    stop(): Promise<void>;
}

export interface NodeOptions {
    /**
     * Run the node inside this test network (test/support/pod-network.ts): kubelet, containerd and
     * kube-proxy in its node namespace; pods on the CNI bridge, ending in the route-check gate
     * (test/support/route-check-plugin.ts); the DNS double as the pods' nameserver. Without it, only
     * pods on the host's network run.
     */
    network?: PodNetwork;
    /** Labels the kubelet registers its Node with. */
    labels?: Record<string, string>;
}

export async function startRealNode(cluster: RealCluster, options: NodeOptions = {}): Promise<RealNode> {
    const dir = mkdtempSync(path.join(tmpdir(), "real-node-"));
    const name = "e2e-node";
    const network = options.network;
    const netns = network?.nodeNetns;
    const socket = path.join(dir, "containerd.sock");
    const runcRoot = path.join(dir, "runc");
    const started: ChildProcess[] = [];
    const stop = async () => {
        for (const child of started.reverse()) await stopProcess(child);
        removeContainers(runcRoot, dir);
        rmSync(dir, { recursive: true, force: true });
    };
    try {
        writeFileSync(
            path.join(dir, "containerd.toml"),
            [
                "version = 4",
                `root = ${JSON.stringify(path.join(dir, "containerd-root"))}`,
                `state = ${JSON.stringify(path.join(dir, "containerd-state"))}`,
                "[plugins.'io.containerd.server.v1.grpc']",
                `  address = ${JSON.stringify(socket)}`,
                "[plugins.'io.containerd.server.v1.ttrpc']",
                `  address = ${JSON.stringify(`${socket}.ttrpc`)}`,
                "[plugins.'io.containerd.cri.v1.images'.registry]",
                `  config_path = ${JSON.stringify(path.join(dir, "registries"))}`,
                // The kubelet asks for oom_score_adj -998 for sandboxes, which this machine refuses
                // (runc: "can't get final child's PID from pipe"); this keeps it at containerd's own.
                "[plugins.'io.containerd.cri.v1.runtime']",
                "  restrict_oom_score_adj = true",
                // Pods' network namespaces under this node's folder, not the machine's /run/netns.
                "  netns_mounts_under_state_dir = true",
                "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
                `  Root = ${JSON.stringify(runcRoot)}`,
                "[plugins.'io.containerd.cri.v1.runtime'.cni]",
                `  bin_dirs = ${JSON.stringify([cniBin, path.join(dir, "cni-bin")])}`,
                `  conf_dir = ${JSON.stringify(path.join(dir, "cni-conf"))}`,
                "",
            ].join("\n"),
        );
        // containerd finds its shim on PATH, the shim finds Debian's runc there.
        const env = { ...process.env, PATH: [engineBin, process.env.PATH, "/usr/sbin", "/sbin"].join(path.delimiter) };
        if (network) writePodNetworkConfig(dir, network);
        const containerd = start(dir, "containerd", ["--config", path.join(dir, "containerd.toml")], env, netns);
        started.push(containerd);
        const ctr = (...args: string[]) =>
            mustRun(engineBinary("ctr"), ["--address", socket, "--namespace", "k8s.io", ...args], { cwd: dir });
        await waitFor(dir, "containerd", containerd, () =>
            Promise.resolve(spawnSync(engineBinary("ctr"), ["--address", socket, "version"]).status === 0),
        );

        const layout = path.join(dir, "pause-image");
        buildImage(dir, layout, {
            files: [{ name: "pause", bytes: readFileSync(engineBinary("pause")), mode: 0o755 }],
            annotations: { "io.containerd.image.name": sandboxImage },
            entrypoint: ["/pause"],
        });
        mustRun("tar", ["--create", "--file", `${layout}.tar`, "--directory", layout, "."], { cwd: dir });
        ctr("images", "import", `${layout}.tar`);

        const kubeconfig = path.join(dir, "kubeconfig.json");
        writeFileSync(kubeconfig, cluster.kubeconfig, { mode: 0o600 });
        writeFileSync(
            path.join(dir, "kubelet.yaml"),
            JSON.stringify({
                apiVersion: "kubelet.config.k8s.io/v1beta1",
                kind: "KubeletConfiguration",
                // In the test network the kubelet serves on the node's address, as a node does.
                address: network?.nodeAddress ?? "127.0.0.1",
                port: network ? 10250 : await freePort(),
                ...(network
                    ? {
                          clusterDNS: [network.google.dns],
                          clusterDomain: "cluster.local",
                          resolvConf: path.join(dir, "resolv.conf"),
                      }
                    : {}),
                readOnlyPort: 0,
                healthzPort: 0,
                authentication: { anonymous: { enabled: false }, webhook: { enabled: false } },
                authorization: { mode: "AlwaysAllow" },
                containerRuntimeEndpoint: `unix://${socket}`,
                // This machine's cgroups: v1, cgroupfs, no QoS hierarchy or node allocatable to enforce.
                cgroupDriver: "cgroupfs",
                failCgroupV1: false,
                cgroupsPerQOS: false,
                enforceNodeAllocatable: [],
                failSwapOn: false,
                // A test node never evicts or collects images for disk space.
                evictionHard: {},
                imageGCHighThresholdPercent: 100,
                imageGCLowThresholdPercent: 99,
                localStorageCapacityIsolation: false,
                podLogsDir: path.join(dir, "pod-logs"),
            }),
        );
        const kubelet = start(
            dir,
            "kubelet",
            [
                `--config=${path.join(dir, "kubelet.yaml")}`,
                `--kubeconfig=${kubeconfig}`,
                `--root-dir=${path.join(dir, "kubelet-root")}`,
                `--cert-dir=${path.join(dir, "kubelet-pki")}`,
                `--hostname-override=${name}`,
                ...(network ? [`--node-ip=${network.nodeAddress}`] : []),
                ...(options.labels
                    ? [
                          `--node-labels=${Object.entries(options.labels)
                              .map(([k, v]) => `${k}=${v}`)
                              .join(",")}`,
                      ]
                    : []),
            ],
            env,
            netns,
        );
        started.push(kubelet);
        await waitFor(dir, "kubelet", kubelet, async () => {
            const node = await apiGet(
                cluster.server,
                cluster.token,
                cluster.certificateAuthority,
                `/api/v1/nodes/${name}`,
            );
            // In the test network the node must be Ready: its pod network (CNI) works.
            return node.status === 200 && (!network || nodeReady(JSON.parse(node.body)));
        });
        if (network) {
            const proxy = start(
                dir,
                "kube-proxy",
                [`--config=${writeKubeProxyConfig(dir, name, kubeconfig)}`],
                env,
                netns,
            );
            started.push(proxy);
            // kube-proxy answers 200 on /healthz once it has written its rules.
            await waitFor(dir, "kube-proxy", proxy, async () => {
                const response = await fetch(`http://${network.nodeAddress}:10256/healthz`);
                return response.ok;
            });
        }
        /** containerd's registry host config (its `config_path` folder): pull and resolve at `scheme://host`. */
        const hostsToml = (host: string, scheme: "http" | "https", extra: string[] = []) => {
            const hostDir = path.join(dir, "registries", host);
            mkdirSync(hostDir, { recursive: true });
            writeFileSync(
                path.join(hostDir, "hosts.toml"),
                [
                    `server = "${scheme}://${host}"`,
                    `[host."${scheme}://${host}"]`,
                    '  capabilities = ["pull", "resolve"]',
                    ...extra,
                    "",
                ].join("\n"),
            );
        };
        return {
            name,
            dir,
            trustTls: (host: string, ca: string) => {
                const caFile = path.join(dir, "registries", host, "ca.pem");
                hostsToml(host, "https", [`  ca = "${caFile}"`]);
                writeFileSync(caFile, ca);
            },
            trustPlainHttp: (host: string) => hostsToml(host, "http"),
            stop,
        };
    } catch (error) {
        await stop();
        throw error;
    }
}

function nodeReady(node: { status?: { conditions?: { type: string; status: string }[] } }): boolean {
    return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/**
 * The pods' network: the bridge plugin (with host-local addresses from podCidr, its data under this
 * node's folder) and then the route-check gate; the node's resolv.conf names only the DNS double.
 */
function writePodNetworkConfig(dir: string, network: PodNetwork): void {
    mkdirSync(path.join(dir, "cni-conf"));
    mkdirSync(path.join(dir, "cni-bin"));
    const gate: RouteCheckConfig = {
        type: "route-check",
        nameserver: network.google.dns,
        names: network.googleHosts,
        addresses: [network.google.metadata],
        nodeGoogleInterface: network.nodeGoogleInterface,
        log: path.join(dir, "route-check.log"),
    };
    writeFileSync(
        path.join(dir, "cni-conf", "10-e2e-pods.conflist"),
        JSON.stringify({
            cniVersion: "1.0.0",
            name: "e2e-pods",
            plugins: [
                {
                    type: "bridge",
                    bridge: "cni0",
                    isGateway: true,
                    ipMasq: false,
                    ipam: {
                        type: "host-local",
                        ranges: [[{ subnet: podCidr, gateway: podGateway }]],
                        routes: [{ dst: "0.0.0.0/0" }],
                        dataDir: path.join(dir, "cni-ipam"),
                    },
                },
                gate,
            ],
        }),
    );
    // A CNI plugin is any executable: this one runs the gate's TypeScript with this Node.js and tsx.
    writeFileSync(
        path.join(dir, "cni-bin", "route-check"),
        [
            "#!/bin/sh",
            `exec ${JSON.stringify(process.execPath)} --import ${JSON.stringify(pathToFileURL(require.resolve("tsx")).href)} ${JSON.stringify(path.join(__dirname, "route-check-plugin.ts"))}`,
            "",
        ].join("\n"),
        { mode: 0o755 },
    );
    writeFileSync(path.join(dir, "resolv.conf"), `nameserver ${network.google.dns}\n`);
}

/** kube-proxy in nftables mode; conntrack sysctls left alone (some are machine-wide, not per namespace). */
function writeKubeProxyConfig(dir: string, name: string, kubeconfig: string): string {
    const file = path.join(dir, "kube-proxy.json");
    writeFileSync(
        file,
        JSON.stringify({
            apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
            kind: "KubeProxyConfiguration",
            clientConnection: { kubeconfig },
            mode: "nftables",
            clusterCIDR: podCidr,
            hostnameOverride: name,
            conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
        }),
    );
    return file;
}

/**
 * Kills and deletes every container runc still runs for this node (the shims and sandboxes outlive
 * containerd and the kubelet), then unmounts what they left under `dir`, deepest first.
 */
function removeContainers(runcRoot: string, dir: string): void {
    // The shim keeps each containerd namespace's containers under its own folder of runc's root.
    const runc = (...args: string[]) =>
        spawnSync("runc", ["--root", path.join(runcRoot, "k8s.io"), ...args], { encoding: "utf8" });
    for (const id of runc("list", "--quiet").stdout.split("\n").filter(Boolean)) runc("delete", "--force", id);
    spawnSync("pkill", ["-KILL", "-f", `containerd-shim-runc-v2 .*${dir}`]);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .map((line) => line.split(" ")[4])
        .filter((mountPoint) => mountPoint?.startsWith(`${dir}/`))
        .sort((a, b) => b.length - a.length);
    for (const mountPoint of mounts) spawnSync("umount", ["--lazy", mountPoint]);
    // The parent cgroup containerd made for its namespace (v1: one per controller; v2: one), once empty.
    const cgroups = "/sys/fs/cgroup";
    for (const parent of [cgroups, ...readdirSync(cgroups).map((controller) => path.join(cgroups, controller))]) {
        spawnSync("rmdir", [path.join(parent, "k8s.io")]);
    }
}

/**
 * Runs a pod of `image` on `node` in `namespace` with its `default` ServiceAccount and returns what
 * the kubelet's pull did: `"pulled"` once it reports the image pulled, or the reason it could not
 * (`ErrImagePull`'s message). The pod's imagePullSecrets come from the ServiceAccount (the API
 * server's ServiceAccount admission copies them), as they do for any pod without its own list.
 */
export async function pullByKubelet(
    core: CoreV1Api,
    node: RealNode,
    namespace: string,
    pod: string,
    image: string,
    /** The pod's own list; without it, admission copies the ServiceAccount's. */
    imagePullSecrets?: string[],
    /** `IfNotPresent` lets the kubelet start the pod from the node's copy (its event is `Pulled` too). */
    imagePullPolicy: "Always" | "IfNotPresent" = "Always",
): Promise<{ pulled: true } | { pulled: false; reason: string }> {
    await core.createNamespacedPod({
        namespace,
        body: {
            metadata: { name: pod },
            spec: {
                ...(imagePullSecrets ? { imagePullSecrets: imagePullSecrets.map((name) => ({ name })) } : {}),
                nodeName: node.name,
                hostNetwork: true,
                automountServiceAccountToken: false,
                restartPolicy: "Never",
                containers: [{ name: "pulled", image, imagePullPolicy }],
            },
        },
    });
    const deadline = Date.now() + 90_000;
    for (;;) {
        const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${pod}` });
        if (events.items.some((event) => event.reason === "Pulled")) return { pulled: true };
        const status = await core.readNamespacedPodStatus({ namespace, name: pod });
        const waiting = status.status?.containerStatuses?.[0]?.state?.waiting;
        if (waiting?.reason === "ErrImagePull" || waiting?.reason === "ImagePullBackOff") {
            return { pulled: false, reason: waiting.message ?? waiting.reason };
        }
        if (Date.now() > deadline)
            throw new Error(`the kubelet did not pull for pod ${namespace}/${pod} within 90 s (see ${node.dir})`);
        await new Promise((done) => setTimeout(done, 500));
    }
}

/** One pod's pull in {@link startKubeletPullLoop}. */
export interface KubeletPull {
    atMs: number;
    tookMs: number;
    pod: string;
    pulled: boolean;
    /** `ErrImagePull`'s message when it did not pull. */
    reason?: string;
}

/**
 * Pods of `image` in `namespace`, one after the other until stopped, each pulling with whatever its
 * ServiceAccount lists at that moment (as pods a Deployment starts would): each pod runs once with
 * `imagePullPolicy: Always`, so every one makes the kubelet pull with the Secret its secret manager
 * holds then, and is deleted once its pull is known.
 */
export function startKubeletPullLoop(
    core: CoreV1Api,
    node: RealNode,
    namespace: string,
    image: string,
): { stop(): Promise<KubeletPull[]> } {
    const pulls: KubeletPull[] = [];
    let running = true;
    const loop = (async () => {
        for (let i = 0; running; i++) {
            const pod = `kubelet-pull-${i}`;
            const atMs = Date.now();
            const result = await pullByKubelet(core, node, namespace, pod, image);
            pulls.push({
                atMs,
                tookMs: Date.now() - atMs,
                pod,
                pulled: result.pulled,
                ...(result.pulled ? {} : { reason: result.reason }),
            });
            await core.deleteNamespacedPod({ name: pod, namespace, gracePeriodSeconds: 0 });
        }
    })();
    return {
        async stop() {
            running = false;
            await loop;
            return pulls;
        },
    };
}
