/**
 * A DOUBLE of what Pulumi's Node.js language host does for a `runtime: nodejs` plugin folder, for the
 * one host that cannot use the real one: pulumi-language-yaml v1.25.0 (the only version the Go module
 * proxy serves) starts a language host with `-root=<dir>` (sdk/v3@v3.206.0
 * go/common/resource/plugin/langruntime_plugin.go `buildArgsForNewPlugin`), a flag the v3.260 Node.js
 * host no longer defines (test/engine/yaml-program.test.ts shows the refusal). So a YAML program gets
 * the package as an executable plugin, `pulumi-resource-registry-pull-secret`, that runs what the
 * Node.js host's `RunPlugin` runs (pulumi-language-nodejs main.go): `node <plugin
 * folder>/node_modules/@pulumi/pulumi/cmd/run-plugin <plugin folder> <engine's arguments>`. Everything
 * after that is Pulumi's.
 */
import { chmodSync, writeFileSync } from "node:fs";
import * as path from "node:path";

/**
 * Writes the launcher into `folder` for the plugin folder `pluginFolder` (which must be built: the
 * plugin runs package.json `main`) and returns `folder`, the value of the program's `packages` entry.
 */
export function writeNodejsRunPluginDouble(folder: string, pluginFolder: string): string {
    const runPlugin = require.resolve("@pulumi/pulumi/cmd/run-plugin", { paths: [pluginFolder] });
    writeFileSync(
        path.join(folder, "pulumi-resource-registry-pull-secret"),
        [
            "#!/bin/sh",
            "# A double of pulumi-language-nodejs RunPlugin (test/support/nodejs-run-plugin-double.ts).",
            `exec node ${JSON.stringify(path.dirname(runPlugin))} ${JSON.stringify(pluginFolder)} "$@"`,
            "",
        ].join("\n"),
    );
    chmodSync(path.join(folder, "pulumi-resource-registry-pull-secret"), 0o755);
    return folder;
}
