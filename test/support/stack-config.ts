import { readStackConfig } from "../../tools/stack-config-files";

/**
 * What the Pulumi CLI hands a program as config for a stack: the project's declared defaults
 * (Pulumi.yaml) overlaid with the stack file (Pulumi.<stack>.yaml); structured values as JSON.
 * The same reading the offline plan does, checks included.
 */
export function stackConfig(stack: string, dir = "."): Record<string, string> {
    return readStackConfig(dir, stack).config;
}
