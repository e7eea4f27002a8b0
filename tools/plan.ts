/**
 * `npm run plan -- --stack <stack> [--out DIR] [--dir PROJECT_DIR]`: what `pulumi up` would declare
 * for a stack, offline. Evaluates the real program (Pulumi.yaml `main`, index.ts here) with the
 * stack's config (Pulumi.yaml defaults + Pulumi.<stack>.yaml) under Pulumi's mock engine in preview
 * mode, then prints the resource tree, the dependency order, the cloud resources' inputs and the
 * Kubernetes objects (program code as its size and sha256); `--out DIR` also writes one YAML file per
 * object, code in full. Secrets are masked; a docker config shows its hosts and usernames.
 * A key the stack file sets that nothing reads (not declared in Pulumi.yaml, a typo of the project's
 * namespace, not a Kubernetes provider key: components/rules/config-keys.ts) is an error naming the
 * nearest declared key, as in `pulumi preview` of the sample program.
 * Exit status: 0 planned, 1 the config or the program is wrong, 2 the command line is wrong.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { configErrorMessage } from "./config-keys";
import { evaluateProgram } from "./evaluate";
import { formatPlan, kubernetesObjects } from "./plan-format";
import { ConfigError, readStackConfig, stackNames, undeclaredKeyProblem, type StackConfig } from "./stack-config-files";

const usage = "usage: npm run plan -- --stack <stack> [--out DIR] [--dir PROJECT_DIR]";

interface Options {
    stack: string;
    /** Where to write one YAML file per Kubernetes object. */
    out?: string;
    /** The Pulumi project: Pulumi.yaml, the stack files and the program. Default: this repository. */
    dir: string;
}

function parseArguments(argv: string[]): Options {
    const options: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (!["--stack", "--out", "--dir"].includes(flag)) throw new UsageError(`unknown argument ${flag}`);
        if (argv[i + 1] === undefined || argv[i + 1].startsWith("--")) throw new UsageError(`${flag} needs a value`);
        options[flag.slice(2)] = argv[++i];
    }
    const dir = path.resolve(options.dir ?? path.join(__dirname, ".."));
    if (options.stack === undefined)
        throw new UsageError(`--stack is required; stacks here: ${stackNames(dir).join(", ")}`);
    return { stack: options.stack, out: options.out, dir };
}

class UsageError extends Error {}

async function main(): Promise<number> {
    let options: Options;
    try {
        options = parseArguments(process.argv.slice(2));
    } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        console.error(`error: ${error.message}\n${usage}`);
        return 2;
    }
    let stack: StackConfig | undefined;
    try {
        stack = readStackConfig(options.dir, options.stack);
        for (const undeclared of stack.undeclared) {
            console.error(`error: ${undeclaredKeyProblem(stack.stack, undeclared)}`);
        }
        if (stack.undeclared.length > 0) return 1;
        const evaluation = await evaluateProgram(path.join(options.dir, stack.main), stack);
        process.stdout.write(formatPlan({ project: stack.project, stack: stack.stack, ...evaluation }));
        if (options.out !== undefined) {
            fs.mkdirSync(options.out, { recursive: true });
            const objects = kubernetesObjects(evaluation.registrations, { fullCode: true });
            for (const { fileName, yaml } of objects) fs.writeFileSync(path.join(options.out, fileName), yaml);
            console.log(`Wrote ${objects.length} Kubernetes object files to ${options.out}`);
        }
        return 0;
    } catch (error) {
        console.error(`error: ${describe(error, stack)}`);
        return 1;
    }
}

/** The error in the words of the stack file; never a stack trace, never a value (it may be secret). */
function describe(error: unknown, stack: StackConfig | undefined): string {
    if (error instanceof ConfigError) return error.message;
    if (stack !== undefined && pulumi.InputPropertyError.isInstance(error)) {
        return `Pulumi.${stack.stack}.yaml: ${configErrorMessage(stack.project, error.propertyPath, error.reason)}`;
    }
    return error instanceof Error ? error.message : String(error);
}

main().then(
    (code) => process.exit(code),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
