/**
 * What the engine tests of the Google credentials share: a state file standing for Google, Debian's
 * docker-registry with the image under each Artifact Registry name, the Artifact Registry front
 * before it, and this repository as a user has it after `git clone` and `npm ci`
 * (engine-project.ts `checkoutRepository`), with the `pulumi` CLI in its folder: the cluster in
 * `KUBECONFIG`, and the Google Cloud provider double installed as the `gcp` plugin of the version
 * the checkout's @pulumi/gcp asks for. Stacks are the sample program's (index.ts), each with its
 * `Pulumi.<stack>.yaml` written from the repository's file of that name (registry hosts replaced by
 * the fronts standing for them) or given in full, created with `pulumi stack init`. A stack whose
 * Secrets hold a credential Pulumi writes names each front the mirror of its Google host (`withMirrors`),
 * so the readiness gate asks each front for the repositories that host serves (components/rules/readiness.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type * as automation from "@pulumi/pulumi/automation";
import type { RegistryPullSecretOptions } from "../../components";
import { startArtifactRegistryFront, type ArtifactRegistryFront } from "./artifact-registry-front";
import { checkoutRepository, engineEnvironment, kubernetesPluginVersion } from "./engine-project";
import { installGoogleCloudDouble, requestedGcpVersion } from "./google-cloud-double/install";
import { readGoogleCloud, writeGoogleCloud, type GoogleCloud } from "./google-cloud-double/state";
import { pulumiCli, type PulumiCli } from "./pulumi-cli";
import { engineBin } from "./real-cluster";
import { RealRegistry } from "./real-registry";

const repo = path.join(__dirname, "..", "..");

export interface GoogleEngine {
    stateFile: string;
    google(): GoogleCloud;
    registry: RealRegistry;
    front: ArtifactRegistryFront;
    /** The repository's checkout: the sample program, its Pulumi.yaml and stack files. */
    checkout: string;
    /** The file backend's folder (the state files). */
    stateDir: string;
    /** The `pulumi` CLI in the checkout. */
    cli: PulumiCli;
    /** The version of the `gcp` plugin the checkout's @pulumi/gcp asks for. */
    gcpVersion: string;
    /** The repository's `Pulumi.<stack>.yaml`, each registry host replaced by the front standing for it. */
    sampleStackFile(stack: string): string;
    /** A stack file with `readinessMirrors` added: each front (`ADDRESS:PORT`) the mirror of the Google host it stands for. */
    withMirrors(stackFile: string): string;
    /** How long the selected stack's readiness gate last waited (ms), as its state (`pulumi stack export`) holds it. */
    readinessWaitedMs(): Promise<number>;
    /** Writes `Pulumi.<name>.yaml` into the checkout and runs `pulumi stack init <name>`, which selects it. */
    initStack(name: string, stackFile: string): Promise<void>;
    /**
     * The selected stack of the sample program through the Automation API, with options only a
     * TypeScript program passes, for a test that needs what the CLI cannot give (it says which).
     */
    automationStack(name: string, options: () => RegistryPullSecretOptions): Promise<automation.Stack>;
    close(): Promise<void>;
}

/**
 * The sample stack's program (index.ts) as an inline program, from the checkout's build (`bin/`), with
 * options only TypeScript passes.
 */
function sampleProgram(checkoutRequire: NodeJS.Require, options: () => RegistryPullSecretOptions) {
    return () => {
        const pulumi = checkoutRequire("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
        const { RegistryPullSecret } = checkoutRequire("./bin/components") as typeof import("../../components");
        const { argsFromConfig } = checkoutRequire(
            "./bin/components/stack-config",
        ) as typeof import("../../components/stack-config");
        const pull = new RegistryPullSecret("regcred", argsFromConfig(new pulumi.Config()), options());
        return Promise.resolve({ secretName: pull.secretName, serviceAccountEmail: pull.serviceAccountEmail });
    };
}

/**
 * `standsFor`: the registry hosts the front stands for (each gets a port); `images`: the image names
 * the registry behind it holds, as Artifact Registry names them (`PROJECT/REPOSITORY/IMAGE:TAG`);
 * `kubeconfig`: the cluster, written where `KUBECONFIG` points, as `gcloud container clusters
 * get-credentials` leaves it.
 */
export async function startGoogleEngine(options: {
    seed: GoogleCloud;
    standsFor: string[];
    images: string[];
    kubeconfig: string;
}): Promise<GoogleEngine> {
    const work = mkdtempSync(path.join(tmpdir(), "google-engine-"));
    const stateFile = path.join(work, "google.json");
    writeGoogleCloud(stateFile, options.seed);
    const frontUser = { user: "artifact-registry-front", password: path.basename(work) };
    const registry = await RealRegistry.start([frontUser], options.images);
    const front = await startArtifactRegistryFront({
        stateFile,
        upstream: { host: registry.host, ...frontUser },
        standsFor: options.standsFor,
    });
    const checkout = path.join(work, "registry-pull-secret");
    const stateDir = path.join(work, "state");
    for (const folder of [checkout, stateDir, path.join(work, ".kube")]) mkdirSync(folder);
    checkoutRepository(checkout);
    const checkoutRequire = createRequire(path.join(checkout, "package.json"));
    const env = engineEnvironment(work, stateDir, kubernetesPluginVersion(checkout));
    const gcpVersion = requestedGcpVersion(checkoutRequire);
    installGoogleCloudDouble(env, { work, version: gcpVersion, stateFile });
    env.KUBECONFIG = path.join(work, ".kube", "config");
    writeFileSync(env.KUBECONFIG, options.kubeconfig, { mode: 0o600 });
    const cli = pulumiCli(checkout, env);
    return {
        stateFile,
        google: () => readGoogleCloud(stateFile),
        registry,
        front,
        checkout,
        stateDir,
        cli,
        gcpVersion,
        sampleStackFile: (stack) =>
            Object.entries(front.hosts).reduce(
                (text, [host, local]) => text.replaceAll(`- ${host}\n`, `- ${local}\n`),
                readFileSync(path.join(repo, `Pulumi.${stack}.yaml`), "utf8"),
            ),
        withMirrors: (stackFile) =>
            `${stackFile}  registry-pull-secret:readinessMirrors:\n${Object.entries(front.hosts)
                .map(([host, local]) => `    - ${local}=${host}\n`)
                .join("")}`,
        async readinessWaitedMs() {
            const gate = (await cli.exportedResources()).find(
                (r) => r.type === "pulumi-nodejs:dynamic/registry-pull-secret:PullReadiness",
            );
            return gate?.outputs?.waitedMs as number;
        },
        async initStack(name, stackFile) {
            writeFileSync(path.join(checkout, `Pulumi.${name}.yaml`), stackFile);
            await cli.must(["stack", "init", name]);
        },
        async automationStack(name, programOptions) {
            const auto = checkoutRequire("@pulumi/pulumi/automation") as typeof automation;
            return auto.LocalWorkspace.selectStack(
                {
                    stackName: name,
                    projectName: "registry-pull-secret",
                    program: sampleProgram(checkoutRequire, programOptions),
                },
                {
                    workDir: checkout,
                    pulumiCommand: await auto.PulumiCommand.get({ root: path.dirname(engineBin) }),
                    envVars: cli.env,
                },
            );
        },
        async close() {
            await front.close();
            await registry.remove();
            rmSync(work, { recursive: true, force: true });
        },
    };
}
