/**
 * A stack's config as the Pulumi CLI would hand it to the program: the project's declared defaults
 * (Pulumi.yaml `config:`) overlaid with the stack file (Pulumi.<stack>.yaml), checked the way the CLI
 * checks them (declared type, required keys), every value a string as the engine stores it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { unreadKeyProblem, unreadKeys, type UnreadKey } from "../components/rules/config-keys";

/** A config problem, naming the config key (`project:key`) it is about. */
export class ConfigError extends Error {
    constructor(
        public readonly key: string,
        message: string,
    ) {
        super(message);
        this.name = "ConfigError";
    }
}

export interface StackConfig {
    project: string;
    /** The program, relative to the project directory (Pulumi.yaml `main`, default `index.ts`). */
    main: string;
    stack: string;
    /** `project:key` to the string the engine stores (arrays and objects as JSON). */
    config: Record<string, string>;
    /**
     * Keys the stack file sets that nothing reads (components/rules/config-keys.ts: a typo falls back
     * to the default silently), each with the nearest declared or known key.
     */
    undeclared: UnreadKey[];
}

/** A Pulumi.yaml config entry: a declaration (`type`, `default`, ...) or a value (`value`, or the value itself). */
type Declaration = { type?: string; default?: unknown; value?: unknown; items?: { type?: string } };
/** Pulumi.yaml, as far as config is concerned. */
export interface ProjectDocument {
    name?: unknown;
    main?: unknown;
    config?: Record<string, unknown>;
}
/** Pulumi.<stack>.yaml, as far as config is concerned. */
export interface StackDocument {
    config?: Record<string, unknown>;
}
const declarationFields = ["type", "default", "value", "description", "items", "secret"];

/** Reads Pulumi.yaml and Pulumi.<stack>.yaml from `dir`. */
export function readStackConfig(dir: string, stack: string): StackConfig {
    const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        const known = stackNames(dir);
        throw new ConfigError("", `no stack file Pulumi.${stack}.yaml; stacks here: ${known.join(", ") || "none"}`);
    }
    const project = YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as ProjectDocument;
    const stackDoc = (YAML.parse(fs.readFileSync(stackFile, "utf8")) ?? {}) as StackDocument;
    return mergeStackConfig(project, stackDoc, stack);
}

/**
 * The config keys Pulumi.yaml in `dir` declares or sets, qualified (`project:key`, `kubernetes:...`):
 * what the sample program (index.ts) reads, for its check that the stack sets nothing else.
 */
export function declaredConfigKeys(dir: string): string[] {
    const project = YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as ProjectDocument;
    return Object.keys(project.config ?? {}).map((key) => (key.includes(":") ? key : `${String(project.name)}:${key}`));
}

/** The stacks that have a `Pulumi.<stack>.yaml` in `dir`, sorted. */
export function stackNames(dir: string): string[] {
    return fs
        .readdirSync(dir)
        .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();
}

/** Pure: the project document and the stack document (both parsed YAML) as the program's config. */
export function mergeStackConfig(projectDoc: ProjectDocument, stackDoc: StackDocument, stack: string): StackConfig {
    const project = projectDoc.name;
    if (typeof project !== "string" || project === "") throw new ConfigError("", "Pulumi.yaml has no project name");
    const qualify = (key: string) => (key.includes(":") ? key : `${project}:${key}`);

    const declarations = new Map<string, Declaration>();
    const config: Record<string, string> = {};
    for (const [key, entry] of Object.entries(projectDoc.config ?? {})) {
        const isDeclaration =
            typeof entry === "object" &&
            entry !== null &&
            !Array.isArray(entry) &&
            declarationFields.some((f) => f in entry);
        const declaration: Declaration = isDeclaration ? entry : { default: entry };
        declarations.set(qualify(key), declaration);
        const value = declaration.value ?? declaration.default;
        if (value !== undefined) config[qualify(key)] = configString(qualify(key), value, stack);
    }
    for (const [key, value] of Object.entries(stackDoc.config ?? {})) {
        config[qualify(key)] = configString(qualify(key), value, stack);
    }
    // A typo REPLACES the key it was meant to be, which then goes missing: name the typo with it.
    const declared = [...declarations.keys()];
    const undeclared = unreadKeys(Object.keys(stackDoc.config ?? {}).map(qualify), project, declared);
    for (const [key, declaration] of declarations) {
        if (!(key in config)) {
            const typos = undeclared.filter((u) => u.nearest === key).map((u) => `; ${undeclaredKeyProblem(stack, u)}`);
            throw new ConfigError(
                key,
                `Stack '${stack}' is missing configuration value '${key}' (declared in Pulumi.yaml without a default)${typos.join("")}`,
            );
        }
        const problem = typeProblem(declaration, config[key]);
        if (problem !== undefined)
            throw new ConfigError(key, `Stack '${stack}' configuration value '${key}' ${problem}`);
    }
    const main = typeof projectDoc.main === "string" ? projectDoc.main : "index.ts";
    return { project, main, stack, config, undeclared };
}

/** What is wrong with a key the stack file sets that nothing reads, and the likely fix. */
export function undeclaredKeyProblem(stack: string, unread: UnreadKey): string {
    return unreadKeyProblem(`Pulumi.${stack}.yaml`, unread);
}

function configString(key: string, value: unknown, stack: string): string {
    if (typeof value === "object" && value !== null && "secure" in value) {
        // Decrypting needs the stack's secrets provider, which only the Pulumi CLI has.
        throw new ConfigError(
            key,
            `Stack '${stack}' configuration value '${key}' is encrypted (secure:); the offline plan cannot decrypt it: use pulumi preview`,
        );
    }
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** The declared types the Pulumi CLI checks: string, integer, boolean, array (of items' type). */
function typeProblem(declaration: Declaration, stored: string): string | undefined {
    const type = declaration.type;
    if (type === undefined || type === "string") return undefined;
    let parsed: unknown;
    try {
        parsed = JSON.parse(stored);
    } catch {
        return `must be of type '${type}'`;
    }
    const isType = (t: string | undefined, v: unknown) =>
        t === undefined ||
        (t === "string" && typeof v === "string") ||
        (t === "integer" && Number.isInteger(v)) ||
        (t === "boolean" && typeof v === "boolean") ||
        (t === "array" && Array.isArray(v));
    if (!isType(type, parsed)) return `must be of type '${type}'`;
    if (type === "array" && !(parsed as unknown[]).every((item) => isType(declaration.items?.type, item))) {
        return `must be an array of '${declaration.items?.type}'`;
    }
    return undefined;
}
