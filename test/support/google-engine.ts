/**
 * What the engine tests of the Google credentials share: a state file standing for Google, Debian's
 * docker-registry with the image under each Artifact Registry name, the Artifact Registry front
 * before it, and a project that installed the package's tarball with the Google Cloud provider
 * double installed as its `gcp` plugin and this repository's Pulumi.yaml as its own. Stacks run the
 * sample stack's program (index.ts) as the installed package ships it, with their
 * `Pulumi.<stack>.yaml` written from the repository's file of that name (registry hosts replaced by
 * the fronts standing for them) or given in full.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type * as automation from "@pulumi/pulumi/automation";
import type { RegistryPullSecretOptions } from "../../components";
import { startArtifactRegistryFront, type ArtifactRegistryFront } from "./artifact-registry-front";
import { installEngineProject, type EngineProject } from "./engine-project";
import { installGoogleCloudDouble, requestedGcpVersion } from "./google-cloud-double/install";
import { readGoogleCloud, writeGoogleCloud, type GoogleCloud } from "./google-cloud-double/state";
import { RealRegistry } from "./real-registry";

const repo = path.join(__dirname, "..", "..");

export interface GoogleEngine {
    stateFile: string;
    google(): GoogleCloud;
    registry: RealRegistry;
    front: ArtifactRegistryFront;
    engine: EngineProject;
    /** The repository's `Pulumi.<stack>.yaml`, each registry host replaced by the front standing for it. */
    sampleStackFile(stack: string): string;
    /** A stack of the sample program with this stack file and these component options. */
    stack(name: string, stackFile: string, options?: () => RegistryPullSecretOptions): Promise<automation.Stack>;
    close(): Promise<void>;
}

/** The sample stack's program (index.ts) from the installed package, with options only TypeScript passes. */
function sampleProgram(engine: EngineProject, options: () => RegistryPullSecretOptions) {
    return () => {
        const pulumi = engine.require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
        const { RegistryPullSecret } = engine.require("registry-pull-secret") as typeof import("../../components");
        // index.ts reads its args with stack-config.js, which the package ships but does not export.
        const stackConfig = path.join(
            engine.dir,
            "node_modules",
            "registry-pull-secret",
            "bin",
            "components",
            "stack-config.js",
        );
        const { argsFromConfig } = engine.require(stackConfig) as typeof import("../../components/stack-config");
        const pull = new RegistryPullSecret("regcred", argsFromConfig(new pulumi.Config()), options());
        return Promise.resolve({
            secretName: pull.secretName,
            namespaces: pull.namespaces,
            serviceAccountEmail: pull.serviceAccountEmail,
            keyName: pull.keyName,
            keyRotatesAfter: pull.keyRotatesAfter,
            dockerConfigJson: pull.dockerConfigJson,
        });
    };
}

/**
 * `standsFor`: the registry hosts the front stands for (each gets a port); `images`: the image names
 * the registry behind it holds, as Artifact Registry names them (`PROJECT/REPOSITORY/IMAGE:TAG`).
 */
export async function startGoogleEngine(
    seed: GoogleCloud,
    standsFor: string[],
    images: string[],
): Promise<GoogleEngine> {
    const work = mkdtempSync(path.join(tmpdir(), "google-engine-"));
    const stateFile = path.join(work, "google.json");
    writeGoogleCloud(stateFile, seed);
    const frontUser = { user: "artifact-registry-front", password: path.basename(work) };
    const registry = await RealRegistry.start([frontUser], images);
    const front = await startArtifactRegistryFront({
        stateFile,
        upstream: { host: registry.host, ...frontUser },
        standsFor,
    });
    const engine = await installEngineProject();
    installGoogleCloudDouble(engine.env, { work, version: requestedGcpVersion(engine.require), stateFile });
    // The program runs inline (Automation API): the repository's `main: index.ts`, which the CLI checks
    // exists, is not this project's.
    writeFileSync(
        path.join(engine.dir, "Pulumi.yaml"),
        readFileSync(path.join(repo, "Pulumi.yaml"), "utf8").replace(/^main: .*\n/m, ""),
    );
    return {
        stateFile,
        google: () => readGoogleCloud(stateFile),
        registry,
        front,
        engine,
        sampleStackFile: (stack) =>
            Object.entries(front.hosts).reduce(
                (text, [host, local]) => text.replaceAll(`- ${host}\n`, `- ${local}\n`),
                readFileSync(path.join(repo, `Pulumi.${stack}.yaml`), "utf8"),
            ),
        async stack(name, stackFile, options = () => ({})) {
            writeFileSync(path.join(engine.dir, `Pulumi.${name}.yaml`), stackFile);
            return engine.automation.LocalWorkspace.createOrSelectStack(
                { stackName: name, projectName: "registry-pull-secret", program: sampleProgram(engine, options) },
                {
                    workDir: engine.dir,
                    pulumiCommand: engine.pulumi,
                    envVars: engine.env,
                    secretsProvider: "passphrase",
                },
            );
        },
        async close() {
            await front.close();
            await registry.remove();
            engine.remove();
            rmSync(work, { recursive: true, force: true });
        },
    };
}
