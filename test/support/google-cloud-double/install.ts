/**
 * Puts the Google Cloud provider double where the Pulumi engine looks for the `gcp` plugin, exactly
 * as the Kubernetes provider is installed (test/support/engine-project.ts): `pulumi plugin install
 * resource gcp <version> --file <executable>` in the engine's PULUMI_HOME, for the version the
 * project's @pulumi/gcp asks for (its package.json `pulumi.version`). The executable is a small
 * shell script that runs ./main.ts with this Node.js and tsx, from this repository.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { mustRun } from "../engine-project";
import { engineBinary } from "../real-cluster";
import { stateFileVariable } from "./state";

/** The plugin version a project's `@pulumi/gcp` asks the engine for. */
export function requestedGcpVersion(projectRequire: NodeJS.Require): string {
    return JSON.parse(readFileSync(projectRequire.resolve("@pulumi/gcp/package.json"), "utf8")).pulumi.version;
}

/** Writes the executable `pulumi-resource-gcp` into `dir` (a folder of the caller's) and returns its path. */
export function writeGoogleCloudDouble(dir: string, version: string): string {
    const executable = path.join(dir, "pulumi-resource-gcp");
    const main = path.join(__dirname, "main.ts");
    writeFileSync(
        executable,
        [
            "#!/bin/sh",
            "# The Google Cloud provider DOUBLE of registry-pull-secret's tests, not pulumi-gcp:",
            `# ${path.relative(path.join(__dirname, "..", "..", ".."), __dirname)}`,
            `GOOGLE_CLOUD_DOUBLE_VERSION=${version} exec ${process.execPath} --import ${require.resolve("tsx")} ${main} "$@"`,
            "",
        ].join("\n"),
    );
    chmodSync(executable, 0o755);
    return executable;
}

/**
 * Installs the double into `env`'s PULUMI_HOME for `version` and adds the state file's variable to
 * `env` (the engine passes its environment to plugins). `work` holds the executable.
 */
export function installGoogleCloudDouble(
    env: Record<string, string>,
    options: { work: string; version: string; stateFile: string },
): void {
    const executable = writeGoogleCloudDouble(options.work, options.version);
    mustRun(engineBinary("pulumi"), ["plugin", "install", "resource", "gcp", options.version, "--file", executable], {
        cwd: options.work,
        env,
    });
    env[stateFileVariable] = options.stateFile;
}
