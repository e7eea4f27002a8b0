import * as path from "node:path";
import type { ComponentProviderOptions } from "@pulumi/pulumi/provider/experimental";
import { RegistryPullSecret } from "./registry-pull-secret";

/**
 * What the source-based plugin package serves (PulumiPlugin.yaml -> provider.ts). `name` is the
 * package part of the type token `registry-pull-secret:index:RegistryPullSecret`; `dirname` is the
 * repository root, where the schema analyzer reads tsconfig.json, package.json and the sources.
 */
export const pluginOptions: ComponentProviderOptions = {
    name: "registry-pull-secret",
    components: [RegistryPullSecret],
    dirname: path.resolve(__dirname, ".."),
};
