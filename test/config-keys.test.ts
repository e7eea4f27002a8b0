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

/** Every argument path of `value` that holds a string or number, with the value (Outputs resolved). */
async function leafPaths(value: unknown, at = ""): Promise<Array<[string, unknown]>> {
    if (pulumi.Output.isInstance(value)) return leafPaths(await (value as any).promise(), at);
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return [[at, value]];
    const children: Array<[string, unknown]> = Array.isArray(value)
        ? value.map((v, i) => [`${at}[${i}]`, v])
        : typeof value === "object" && value !== null
          ? Object.entries(value).map(([k, v]) => [at === "" ? k : `${at}.${k}`, v])
          : [];
    return (await Promise.all(children.map(([p, v]) => leafPaths(v, p)))).flat();
}

describe("configKeyForArgument", async () => {
    // The project's own keys; `kubernetes:...` values set for the Kubernetes provider are not args.
    const keys = Object.keys(projectFile.config).filter((key) => !key.includes(":"));
    /**
     * A value only this key holds: a number for integer keys, a string for others, and `true` for a
     * boolean key, which is set alone (the others `false`) so its `true` lands only where it goes.
     */
    const marker = (key: string) =>
        projectFile.config[key].type === "integer"
            ? 1000 + keys.indexOf(key)
            : projectFile.config[key].type === "boolean"
              ? true
              : `marker-${key.toLowerCase()}`;
    const config: Record<string, string> = {};
    for (const key of keys) {
        const isList = projectFile.config[key].type === "array";
        // Repositories are LOCATION/REPOSITORY strings, mirrors MIRROR=GOOGLE_HOST; a marker of that
        // shape lands in both fields.
        const element =
            key === "repositories"
                ? `${marker(key)}/${marker(key)}`
                : key === "readinessMirrors"
                  ? `${marker(key)}=${marker(key)}`
                  : marker(key);
        config[`${project}:${key}`] = isList ? JSON.stringify([element]) : String(element);
    }
    const booleans = keys.filter((key) => projectFile.config[key].type === "boolean");
    const landedWith = async (trueKey?: string) => {
        for (const key of booleans) config[`${project}:${key}`] = String(key === trueKey);
        pulumi.runtime.setAllConfig(config);
        return leafPaths(argsFromConfig(new pulumi.Config(project)));
    };
    const landed = new Map<string, Array<[string, unknown]>>();
    const allFalse = await landedWith();
    for (const key of keys) landed.set(key, booleans.includes(key) ? await landedWith(key) : allFalse);

    for (const key of keys) {
        it(`maps every argument fed by ${project}:${key} back to that key`, () => {
            const paths = landed
                .get(key)!
                .filter(([, value]) => value === marker(key))
                .map(([p]) => p);
            assert.ok(paths.length > 0, `no component argument receives ${key}`);
            // A list's element is named by its index, except mirrors: the component names each by its host.
            const indexed = projectFile.config[key].type === "array" && key !== "readinessMirrors";
            for (const argumentPath of paths) {
                assert.equal(configKeyForArgument(project, argumentPath), `${project}:${key}${indexed ? "[0]" : ""}`);
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
                "gcp.serviceAccountId or gcp.serviceAccountEmail: exactly one is required; both are set",
            ),
            `config ${project}:serviceAccountId or ${project}:serviceAccountEmail: exactly one is required; both are set (component argument gcp.serviceAccountId)`,
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
