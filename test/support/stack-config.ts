import { readFileSync } from "node:fs";
import { parse } from "yaml";

/**
 * What the Pulumi CLI hands a program as config for a stack: the project's declared defaults
 * (Pulumi.yaml) overlaid with the stack file (Pulumi.<stack>.yaml); structured values as JSON.
 */
export function stackConfig(stack: string, dir = "."): Record<string, string> {
    const project = parse(readFileSync(`${dir}/Pulumi.yaml`, "utf8"));
    const stackFile = parse(readFileSync(`${dir}/Pulumi.${stack}.yaml`, "utf8")) ?? {};
    const config: Record<string, string> = {};
    const put = (key: string, value: unknown) => {
        config[key] = typeof value === "string" ? value : JSON.stringify(value);
    };
    for (const [key, declared] of Object.entries<any>(project.config ?? {})) {
        if (declared?.default !== undefined) put(`${project.name}:${key}`, declared.default);
    }
    for (const [key, value] of Object.entries(stackFile.config ?? {})) put(key, value);
    return config;
}
