/**
 * The `pulumi` CLI as a user's shell runs it: the binary test/engine/build.sh built, found on the PATH
 * by name, with the language hosts beside it (where the CLI looks for them), run in the user's project
 * folder with the environment a user's shell would have (a file backend, a passphrase, no plugin
 * downloads). Commands are the ones the README gives (`pulumi stack init`, `pulumi config set`,
 * `pulumi preview --diff`, `pulumi up --yes`, `pulumi refresh --yes`, `pulumi destroy --yes`); what
 * the tests check afterwards comes from the CLI too (`pulumi stack history --json`, `pulumi stack
 * export`, `pulumi preview --json`), never from the Automation API.
 *
 * Asynchronous, so servers in the test's own process (a registry front, a pull loop) keep running
 * while a command does.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { engineBin } from "./real-cluster";
import { realClockNow, realClockVariable } from "./google-cloud-double/propagation";

export interface CommandResult {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** What `pulumi stack history --json` says of one update. */
export interface UpdateRecord {
    kind: string;
    result: string;
    resourceChanges?: Record<string, number>;
}

/** One step of `pulumi preview --json`. */
export interface PreviewStep {
    op: string;
    urn: string;
    type: string;
    /** The properties that changed (`detailedDiff` keys), for updates. */
    diffs?: string[];
}

export interface PulumiCli {
    /** The project folder every command runs in. */
    cwd: string;
    env: Record<string, string>;
    /** `pulumi <args>`; never rejects: the caller asserts the outcome. */
    run(args: string[], input?: string): Promise<CommandResult>;
    /** `pulumi <args>`, failing with the command's output when it exits non-zero; its stdout. */
    must(args: string[], input?: string): Promise<string>;
    /** The stack's last update, as `pulumi stack history --json` records it. */
    lastUpdate(): Promise<UpdateRecord>;
    /** The steps `pulumi preview --json` plans, without the stack and provider resources. */
    previewSteps(): Promise<PreviewStep[]>;
    /** The stack's resources, as `pulumi stack export` prints them. */
    exportedResources(): Promise<{ urn: string; type: string; provider?: string; outputs?: Record<string, unknown> }[]>;
    /**
     * The same CLI on another day: each command run as `faketime -f "@DAY" pulumi ...` (libfaketime,
     * Debian's faketime), which starts the clock of every process it loads into (the program, Node.js
     * plugins) at `day`; the Go binaries read the clock without libc and keep the real one.
     */
    onDay(day: Date): PulumiCli;
}

/** Runs `command` in `cwd`; resolves with its exit status and output. */
export function runCommand(
    command: string,
    args: string[],
    options: { cwd: string; env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number },
): Promise<CommandResult> {
    return new Promise((done, fail) => {
        const child = spawn(command, args, { cwd: options.cwd, env: options.env });
        let [stdout, stderr] = ["", ""];
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 900_000);
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("error", fail);
        child.on("close", (status) => {
            clearTimeout(timer);
            done({ status, stdout, stderr });
        });
        child.stdin.end(options.input ?? "");
    });
}

/**
 * The CLI in `cwd` with `env` (engine-project.ts `engineEnvironment` makes one). The pulumi binary's
 * folder goes first on the PATH, as after installing the CLI, and the Node.js running the tests next:
 * the language host starts `node` from the PATH for the program and for plugins.
 */
export function pulumiCli(cwd: string, env: Record<string, string>, day?: Date): PulumiCli {
    const shellEnv = { ...env, PATH: [engineBin, path.dirname(process.execPath), env.PATH].join(path.delimiter) };
    // faketime reads the day in the local time zone: UTC, so the ISO time means what it says.
    const run = (args: string[], input?: string) =>
        day
            ? runCommand(
                  "faketime",
                  ["-f", `@${day.toISOString().slice(0, 19).replace("T", " ")}`, "pulumi", ...args],
                  {
                      cwd,
                      // The Google Cloud double keeps Google's clock: faketime moves only the user's.
                      env: {
                          ...shellEnv,
                          TZ: "UTC",
                          FAKETIME_DONT_FAKE_MONOTONIC: "1",
                          [realClockVariable]: realClockNow(),
                      },
                      input,
                  },
              )
            : runCommand("pulumi", args, { cwd, env: shellEnv, input });
    const must = async (args: string[], input?: string) => {
        const result = await run(args, input);
        if (result.status !== 0) {
            throw new Error(`pulumi ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
        }
        return result.stdout;
    };
    return {
        cwd,
        env: shellEnv,
        run,
        must,
        async lastUpdate() {
            const history: UpdateRecord[] = JSON.parse(await must(["stack", "history", "--json"]));
            return history[0];
        },
        async previewSteps() {
            const plan = JSON.parse(await must(["preview", "--json"]));
            return (plan.steps ?? [])
                .map((step: any) => ({
                    op: step.op,
                    urn: step.urn,
                    type: (step.newState ?? step.oldState)?.type ?? step.urn.split("::")[2],
                    diffs: step.diffs,
                }))
                .filter(
                    (step: PreviewStep) =>
                        step.type !== "pulumi:pulumi:Stack" && !step.type.startsWith("pulumi:providers:"),
                );
        },
        async exportedResources() {
            return JSON.parse(await must(["stack", "export"])).deployment.resources ?? [];
        },
        onDay: (other) => pulumiCli(cwd, env, other),
    };
}

/** `TYPE NAME` of each step, sorted: what a preview announces. */
export const typeAndName = (steps: PreviewStep[]): string[] =>
    steps.map((step) => `${step.type} ${step.urn.split("::").pop()}`).sort();

/** The change counts of an update without `same`, e.g. `{ update: 2 }`. */
export function changed(update: UpdateRecord): Record<string, number> {
    return Object.fromEntries(Object.entries(update.resourceChanges ?? {}).filter(([kind]) => kind !== "same"));
}
