/**
 * examples/python as a user has it, in the user's own folder layout: a checkout of this repository
 * after `npm ci` (`../..` from the example is the plugin package), the engine's environment for the
 * example, and the Google Cloud double installed as the `gcp` plugin at the version `@pulumi/gcp` asks
 * for: `pulumi package add ../..` installs every plugin the package depends on before it asks for the
 * schema, gcp included, even for a stack without Google Cloud (an air-gapped user installs it with
 * `pulumi plugin install resource gcp <version> --file`). Nothing is added or installed yet: the
 * caller runs `pulumi package add ../..` and `pulumi install` as the example's README says.
 */
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import * as path from "node:path";
import { checkoutRepository, engineEnvironment, kubernetesPluginVersion } from "./engine-project";
import { installGoogleCloudDouble, requestedGcpVersion } from "./google-cloud-double/install";
import { writeGoogleCloud } from "./google-cloud-double/state";
import { instantPropagation } from "./google-cloud-double/propagation";

export interface PythonExample {
    /** examples/python inside the checkout. */
    example: string;
    /** The engine's environment (engineEnvironment) with the gcp double installed. */
    env: Record<string, string>;
    /** The Google Cloud double's file, empty: a stack without Google Cloud must leave it so. */
    googleFile: string;
}

/** Prepares examples/python under `work` (its own PULUMI_HOME, a file backend in `work`/state). */
export function preparePythonExample(work: string): PythonExample {
    const checkout = path.join(work, "registry-pull-secret");
    const stateDir = path.join(work, "state");
    for (const folder of [checkout, stateDir]) mkdirSync(folder);
    checkoutRepository(checkout);
    const env = engineEnvironment(work, stateDir, kubernetesPluginVersion(checkout));
    const googleFile = path.join(work, "google.json");
    // Instant: the Python example uses credentials only, nothing in Google propagates.
    writeGoogleCloud(googleFile, { projects: {}, auditLog: [], propagation: instantPropagation() });
    installGoogleCloudDouble(env, {
        work,
        version: requestedGcpVersion(createRequire(path.join(checkout, "package.json"))),
        stateFile: googleFile,
    });
    return { example: path.join(checkout, "examples", "python"), env, googleFile };
}
