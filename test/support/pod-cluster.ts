/**
 * The whole test cluster that runs ordinary pods, in the order its pieces need each other, with
 * timings: the test network (pod-network.ts), Google's doubles in it (google-network.ts), the
 * control plane listening on the veth's host end (real-cluster.ts), Google's state file
 * (google-cloud-double/state.ts, which the gcp plugin double changes and the front reads), the
 * registry behind the Artifact Registry front (artifact-registry-front.ts, standing for
 * `us-docker.pkg.dev` on the veth's host end, over HTTPS with the Google side's certificate, which
 * containerd trusts), the refresher image built and pushed into a public
 * repository (`allUsers` may read it: the refresher's pod has no pull Secret), and the node
 * (real-node.ts). `stop()` undoes all of it, also after a failure half-way.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { allUsers, startArtifactRegistryFront, type ArtifactRegistryFront } from "./artifact-registry-front";
import { addMember } from "./google-cloud-double/google-apis";
import { instantPropagation } from "./google-cloud-double/propagation";
import { newProject, writeGoogleCloud, type GoogleCloud } from "./google-cloud-double/state";
import { startGoogleSide, type GoogleSide, type GoogleSideOptions } from "./google-network";
import { startPodNetwork, type PodNetwork } from "./pod-network";
import { coreApi, startRealCluster, type RealCluster } from "./real-cluster";
import { startRealNode, type RealNode } from "./real-node";
import { RealRegistry } from "./real-registry";
import { buildRefresherImage } from "./refresher-image";

/** The registry host the front stands for: Artifact Registry's `us` location. */
export const registryHost = "us-docker.pkg.dev";
/** The public repository (`us/public` of its own project) the refresher image is pulled from. */
const refresherRepository = { project: "e2e-refresher-images", repository: "public", image: "token-refresher" };

export interface PodCluster {
    network: PodNetwork;
    google: GoogleSide;
    cluster: RealCluster;
    core: CoreV1Api;
    node: RealNode;
    registry: RealRegistry;
    front: ArtifactRegistryFront;
    /** The front's `ADDRESS:PORT` standing for {@link registryHost}: the registry a docker config names. */
    frontHost: string;
    /** The file that stands for Google: the test's projects, and the refresher image's. */
    googleFile: string;
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
    /** Google as the test starts (none of its projects unless given); the refresher image's public project is added. */
    googleCloud?: GoogleCloud;
    /** Images the registry holds beside the refresher's, as Artifact Registry names them in `us` (`PROJECT/REPOSITORY/IMAGE:TAG`). */
    images?: string[];
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
        const work = mkdtempSync(path.join(tmpdir(), "pod-cluster-google-"));
        stops.push(() => rmSync(work, { recursive: true, force: true }));
        const googleFile = path.join(work, "google.json");
        const images = newProject("345678901234", [`us/${refresherRepository.repository}`]);
        addMember(
            images.repositories[`us/${refresherRepository.repository}`].iamPolicy,
            "roles/artifactregistry.reader",
            allUsers,
        );
        // Without a seed: a Google with only the refresher image's public repository, whose grant needs no waiting.
        const seed = options.googleCloud ?? { projects: {}, auditLog: [], propagation: instantPropagation() };
        writeGoogleCloud(googleFile, {
            ...seed,
            projects: { ...seed.projects, [refresherRepository.project]: images },
        });
        const frontUser = { user: "artifact-registry-front", password: randomBytes(12).toString("hex") };
        const registry = await timed("registry", () => RealRegistry.start([frontUser], options.images ?? []));
        stops.push(() => registry.remove());
        const front = await startArtifactRegistryFront({
            stateFile: googleFile,
            upstream: { host: registry.host, ...frontUser },
            standsFor: [registryHost],
            address: network.hostAddress,
            // HTTPS, as Artifact Registry: the refresher proves its first token there as it would on Google.
            tls: google.tls,
        });
        stops.push(() => front.close());
        const frontHost = front.hosts[registryHost];
        let builtDigest = "";
        const refresherImage = await timed("refresher image", () => {
            const work = mkdtempSync(path.join(tmpdir(), "refresher-image-"));
            try {
                const layout = path.join(work, "layout");
                builtDigest = buildRefresherImage(work, layout, google.ca);
                // The registry stores the layer compressed (skopeo), so the pushed manifest has its own digest.
                const name = `${refresherRepository.project}/${refresherRepository.repository}/${refresherRepository.image}`;
                const manifest = registry.push(`oci:${layout}:refresher`, `${name}:e2e`);
                return `${frontHost}/${name}@sha256:${createHash("sha256").update(manifest).digest("hex")}`;
            } finally {
                rmSync(work, { recursive: true, force: true });
            }
        });
        const node = await timed("node", () => startRealNode(cluster, { network, labels: options.nodeLabels }));
        stops.push(() => node.stop());
        node.trustTls(frontHost, google.ca);
        const core = await coreApi(cluster.kubeconfig);
        return {
            network,
            google,
            cluster,
            core,
            node,
            registry,
            front,
            frontHost,
            googleFile,
            refresherImage,
            builtDigest,
            timings,
            stop,
        };
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
