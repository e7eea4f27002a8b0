/**
 * The entry point of the source-based plugin package (PulumiPlugin.yaml `main`): Pulumi runs it when a
 * Python, Go, .NET or YAML program that ran `pulumi package add` uses the component. It serves the
 * schema inferred from the TypeScript sources and constructs the component on request.
 */
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { pluginOptions } from "./components/plugin";

// The host serves until the engine stops it; run-plugin reports any failure to the engine.
void componentProviderHost(pluginOptions);
