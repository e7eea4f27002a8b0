/**
 * The whole test cluster that runs ordinary pods, in the order its pieces need each other, with
 * timings: the test network (pod-network.ts), Google's doubles in it (google-network.ts), the
 * control plane listening on the veth's host end (real-cluster.ts), the registry behind its
 * Artifact Registry front, the refresher image built and pushed, and the node (real-node.ts).
 * `stop()` undoes all of it, also after a failure half-way.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { startGoogleSide, type GoogleSide, type GoogleSideOptions } from "./google-network";
import { startPodNetwork, type PodNetwork } from "./pod-network";
import { coreApi, startRealCluster, type RealCluster } from "./real-cluster";
import { startRealNode, type RealNode } from "./real-node";
import { RealRegistry } from "./real-registry";
import { buildRefresherImage } from "./refresher-image";
import { startRegistryFront, type RegistryFront } from "./registry-front";

/** The public repository the refresher image is pulled from (no pull secret needed). */
export const refresherRepository = "public/token-refresher";

export interface PodCluster {
    network: PodNetwork;
    google: GoogleSide;
    cluster: RealCluster;
    core: CoreV1Api;
    node: RealNode;
    registry: RealRegistry;
    front: RegistryFront;
    /** The refresher image as a pod names it: `FRONT/public/token-refresher@sha256:...`. */
    refresherImage: string;
    /** The digest of the image's manifest as built (before the registry compressed its layer). */
    builtDigest: string;
    /** Seconds each piece took to start, in order. */
    timings: Record<string, number>;
    stop(): Promise<void>;
}

export interface PodClusterOptions {
    google: GoogleSideOptions;
    /** Registry users beside the front's token check (none needed for the refresher's path). */
    nodeLabels?: Record<string, string>;
}

export async function startPodCluster(options: PodClusterOptions): Promise<PodCluster> {
    const timings: Record<string, number> = {};
    const timed = async <T>(name: string, step: () => Promise<T> | T): Promise<T> => {
        const started = Date.now();
        const result = await step();
        timings[name] = (Date.now() - started) / 1000;
        return result;
    };
    const stops: (() => Promise<void> | void)[] = [];
    const stop = async () => {
        for (const undo of stops.reverse()) {
            try {
                await undo();
            } catch (error) {
                console.error("cleanup step failed:", error);
            }
        }
    };
    try {
        const network = await timed("network", () => startPodNetwork());
        stops.push(() => network.stop());
        const google = await timed("google doubles", () => startGoogleSide(network, options.google));
        stops.push(() => google.stop());
        const cluster = await timed("control plane", () => startRealCluster({ podsAt: network.hostAddress }));
        stops.push(() => cluster.stop());
        const registry = await timed("registry", () => RealRegistry.start([]));
        stops.push(() => registry.remove());
        const front = await startRegistryFront({
            address: network.hostAddress,
            backend: registry,
            publicRepositories: [refresherRepository],
            isLiveToken: google.isLiveToken,
        });
        stops.push(() => front.close());
        let builtDigest = "";
        const refresherImage = await timed("refresher image", () => {
            const work = mkdtempSync(path.join(tmpdir(), "refresher-image-"));
            try {
                const layout = path.join(work, "layout");
                builtDigest = buildRefresherImage(work, layout, google.ca);
                // The registry stores the layer compressed (skopeo), so the pushed manifest has its own digest.
                const manifest = registry.push(`oci:${layout}:refresher`, `${refresherRepository}:e2e`);
                return `${front.host}/${refresherRepository}@sha256:${createHash("sha256").update(manifest).digest("hex")}`;
            } finally {
                rmSync(work, { recursive: true, force: true });
            }
        });
        const node = await timed("node", () => startRealNode(cluster, { network, labels: options.nodeLabels }));
        stops.push(() => node.stop());
        node.trustPlainHttp(front.host);
        const core = await coreApi(cluster.kubeconfig);
        return { network, google, cluster, core, node, registry, front, refresherImage, builtDigest, timings, stop };
    } catch (error) {
        await stop();
        throw error;
    }
}

/** What the route-check gate recorded for pods whose `namespace/name` starts with `prefix`. */
export function routeChecks(node: RealNode, prefix: string): { pod: string; passed: boolean; at: string }[] {
    return readFileSync(path.join(node.dir, "route-check.log"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.pod.startsWith(prefix));
}
