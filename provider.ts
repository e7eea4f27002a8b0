/**
 * The plugin's entry point: package.json `main`, which Pulumi's Node.js language host runs for a
 * Python, Go, .NET or YAML program that ran `pulumi package add` of this repository (its `RunPlugin`
 * starts `@pulumi/pulumi/cmd/run-plugin <plugin folder>`, which `require`s the folder: its `main`).
 * A TypeScript program never loads it: `import "registry-pull-secret"` resolves package.json
 * `exports`, which Node prefers to `main`. It serves the schema inferred from the TypeScript sources,
 * constructs the component, and serves the component's own resources (components/plugin.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { pluginProvider } from "./components/plugin";
import { serveFromPlugin } from "./components/cluster/provider-by-name";

const provider = pluginProvider();
serveFromPlugin(provider.version);
// run-plugin has put the engine's address in process.argv; main serves until the engine stops it.
void pulumi.provider.main(provider, process.argv.slice(2));
