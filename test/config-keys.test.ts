/**
 * The plan reports component errors against config keys. This ties that mapping to the one the sample
 * stack really uses: every key declared in Pulumi.yaml gets a marker value, argsFromConfig turns the
 * config into component args, and the argument path where each marker lands must map back to its key.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { argsFromConfig } from "../components/stack-config";
import { configErrorMessage, configKeyForArgument } from "../tools/config-keys";

const projectFile = YAML.parse(fs.readFileSync(path.resolve(__dirname, "../Pulumi.yaml"), "utf8"));
const project: string = projectFile.name;

/** Every argument path of `value` that holds a string, with the string. */
function stringPaths(value: unknown, at = ""): Array<[string, string]> {
    if (typeof value === "string") return [[at, value]];
    if (Array.isArray(value)) return value.flatMap((v, i) => stringPaths(v, `${at}[${i}]`));
    if (typeof value === "object" && value !== null) {
        return Object.entries(value).flatMap(([k, v]) => stringPaths(v, at === "" ? k : `${at}.${k}`));
    }
    return [];
}

describe("configKeyForArgument", () => {
    const keys = Object.keys(projectFile.config);
    const config: Record<string, string> = {};
    for (const key of keys) {
        const marker = `marker-${key.toLowerCase()}`;
        const isList = projectFile.config[key].type === "array";
        // Repositories are LOCATION/REPOSITORY strings; a marker of that shape lands in both fields.
        const element = key === "repositories" ? `${marker}/${marker}` : marker;
        config[`${project}:${key}`] = isList ? JSON.stringify([element]) : element;
    }
    pulumi.runtime.setAllConfig(config);
    const landed = stringPaths(argsFromConfig(new pulumi.Config(project)));

    for (const key of keys) {
        it(`maps every argument fed by ${project}:${key} back to that key`, () => {
            const paths = landed.filter(([, value]) => value === `marker-${key.toLowerCase()}`).map(([p]) => p);
            assert.ok(paths.length > 0, `no component argument receives ${key}`);
            const isList = projectFile.config[key].type === "array";
            for (const argumentPath of paths) {
                assert.equal(configKeyForArgument(project, argumentPath), `${project}:${key}${isList ? "[0]" : ""}`);
            }
        });
    }
});

describe("configErrorMessage", () => {
    it("restates a component error in config keys, keeping the argument it came from", () => {
        assert.equal(
            configErrorMessage(
                project,
                "gcp.serviceAccountId",
                "gcp.serviceAccountId or gcp.serviceAccountEmail must be given, not both",
            ),
            `config ${project}:serviceAccountId or ${project}:serviceAccountEmail must be given, not both (component argument gcp.serviceAccountId)`,
        );
    });

    it("keeps an error the stack-config reader already reports under a config key", () => {
        assert.equal(
            configErrorMessage(
                project,
                `${project}:repositories[2]`,
                `${project}:repositories[2] must be LOCATION/REPOSITORY`,
            ),
            `config ${project}:repositories[2] must be LOCATION/REPOSITORY`,
        );
    });
});
