/**
 * `npm run bench:engine` (root, after `bash test/engine/build.sh`): wall times of `pulumi preview`,
 * `pulumi up`, a no-op `pulumi up`, `pulumi refresh` and `pulumi destroy` with the REAL engine against
 * a REAL kube-apiserver on this machine, at 10 and 100 namespaces (BENCH_SIZES, e.g. `100,1000`), in
 * one run, side by side, and the API requests each command made per namespace (the API server's audit
 * log of the admin's requests: every program here talks to the cluster as that one user):
 * - the component from a user's TypeScript project (test/fixtures/typescript-project, `credentials`);
 * - the component from Python: examples/python in a checkout after `pulumi package add ../..` and
 *   `pulumi install` (the real Python and Node.js language hosts; test/support/python-example.ts);
 * - the component from a YAML program (the YAML host, the plugin through the Node.js run-plugin double
 *   of test/support/nodejs-run-plugin-double.ts, since this YAML host cannot start the real Node.js host);
 * - the same objects declared natively (test/fixtures/native-project: a Secret and a
 *   ServiceAccountPatch per namespace);
 * - the kubectl recipe in a shell loop (`kubectl create secret docker-registry` and `kubectl patch
 *   serviceaccount` per namespace; `--dry-run=server` as its preview; `kubectl delete secret` and a
 *   JSON patch removing the list as its destroy).
 * Every command exactly as typed (test/support/pulumi-cli.ts). BENCH_RUNS (default 1) runs each
 * program that many times per size, the programs taking turns; medians. Writes its section of
 * BENCHMARKS.md (between the engine markers, which `npm run bench` keeps).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import * as path from "node:path";
import {
    engineEnvironment,
    installTypeScriptProject,
    kubernetesPluginVersion,
    mustRun,
} from "../test/support/engine-project";
import { writeNodejsRunPluginDouble } from "../test/support/nodejs-run-plugin-double";
import { pulumiCli, type PulumiCli } from "../test/support/pulumi-cli";
import { preparePythonExample } from "../test/support/python-example";
import { registryPullSecretYaml } from "../test/support/yaml-program";
import { auditEvents, coreApi, engineBinary, startRealCluster, type RealCluster } from "../test/support/real-cluster";

const sizes = (process.env.BENCH_SIZES ?? "10,100").split(",").map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 1);
const registry = "registry.bench.example:5000";
const username = "bench-user";
const password = "bench-password-0f3a9c";
const commands = ["preview", "up", "no-op up", "refresh", "destroy"] as const;
type Command = (typeof commands)[number];
type Timings = Partial<Record<Command, number>>;
/** Per command, the API requests it made, by verb (`get`, `patch`, ...; `list` and `watch` apart). */
type Requests = Partial<Record<Command, Record<string, number>>>;
interface Sample {
    timings: Timings;
    requests: Requests;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
/**
 * Runs each command in turn, timing it and counting the requests it made: the audit log's completed
 * requests (one event each; a watch also logs when its response starts) that came after it began.
 */
async function measured(cluster: RealCluster, steps: [Command, () => unknown][]): Promise<Sample> {
    const sample: Sample = { timings: {}, requests: {} };
    for (const [command, action] of steps) {
        const before = auditEvents(cluster).length;
        const start = performance.now();
        await action();
        sample.timings[command] = performance.now() - start;
        const byVerb: Record<string, number> = {};
        for (const event of auditEvents(cluster).slice(before)) {
            if (event.stage === "ResponseComplete") byVerb[event.verb] = (byVerb[event.verb] ?? 0) + 1;
        }
        sample.requests[command] = byVerb;
    }
    return sample;
}

/** A Pulumi program: its CLI, how a stack of it is configured for `namespaces`, and its cleanup. */
interface Program {
    cli: PulumiCli;
    configure: (namespaces: string[]) => Promise<void>;
    remove: () => void;
}

/** The config the TypeScript and Python programs read: the same keys, set as their READMEs say. */
const configByKeys = (cli: PulumiCli) => async (namespaces: string[]) => {
    await cli.must(["config", "set", "namespaces", JSON.stringify(namespaces)]);
    await cli.must(["config", "set", "--path", "registries[0]", registry]);
    await cli.must(["config", "set", "registryUsername", username]);
    await cli.must(["config", "set", "--secret", "registryPassword", password]);
    await cli.must(["config", "set", "kubernetes:enableSecretMutable", "true"]);
};

function typeScriptProgram(program: "typescript-project" | "native-project"): Program {
    const project = installTypeScriptProject(program);
    return { cli: project.cli, configure: configByKeys(project.cli), remove: () => project.remove() };
}

/** examples/python after `pulumi package add ../..` and `pulumi install`, as its README runs them. */
async function pythonProgram(): Promise<Program> {
    const work = mkdtempSync(path.join(tmpdir(), "bench-python-"));
    const { example, env } = preparePythonExample(work);
    const cli = pulumiCli(example, env);
    await cli.must(["package", "add", "../.."]);
    await cli.must(["install"]);
    return { cli, configure: configByKeys(cli), remove: () => rmSync(work, { recursive: true, force: true }) };
}

/** A YAML program in its own folder, its namespaces written in the program as a YAML user writes them. */
function yamlProgram(): Program {
    const repo = path.join(__dirname, "..");
    mustRun("npm", ["run", "--silent", "build"], { cwd: repo });
    const work = mkdtempSync(path.join(tmpdir(), "bench-yaml-"));
    const [program, stateDir, launcher] = ["program", "state", "launcher"].map((name) => path.join(work, name));
    for (const folder of [program, stateDir, launcher]) mkdirSync(folder);
    const plugin = writeNodejsRunPluginDouble(launcher, repo);
    const cli = pulumiCli(program, engineEnvironment(work, stateDir, kubernetesPluginVersion(repo)));
    const writeProgram = (namespaces: string[]) =>
        writeFileSync(
            path.join(program, "Pulumi.yaml"),
            registryPullSecretYaml(plugin, { namespaces, registry, username, serviceAccounts: ["default"] }),
        );
    // A project file before the first stack is selected; each size writes its own namespaces.
    writeProgram([]);
    const configure = async (namespaces: string[]) => {
        writeProgram(namespaces);
        await cli.must(["config", "set", "--secret", "registryPassword", password]);
    };
    return { cli, configure, remove: () => rmSync(work, { recursive: true, force: true }) };
}

/** A Pulumi program's five commands, as a user types them. */
async function pulumiRun(cluster: RealCluster, { cli, configure }: Program, namespaces: string[]): Promise<Sample> {
    await cli.must(["stack", "select", "--create", `bench-${namespaces.length}`]);
    await configure(namespaces);
    return measured(cluster, [
        ["preview", () => cli.must(["preview"])],
        ["up", () => cli.must(["up", "--yes", "--skip-preview"])],
        ["no-op up", () => cli.must(["up", "--yes", "--skip-preview", "--expect-no-changes"])],
        ["refresh", () => cli.must(["refresh", "--yes", "--skip-preview"])],
        ["destroy", () => cli.must(["destroy", "--yes", "--skip-preview"])],
    ]);
}

/** The recipe from the README, one shell loop per step, with the cluster in KUBECONFIG. */
async function kubectlRun(cluster: RealCluster, kubeconfig: string, namespaces: string[]): Promise<Sample> {
    const loop = (body: string) => () =>
        mustRun("bash", ["-c", `for ns in ${namespaces.join(" ")}; do ${body}; done`], {
            cwd: tmpdir(),
            env: { PATH: process.env.PATH, KUBECONFIG: kubeconfig },
        });
    const create = (dryRun: string) =>
        `kubectl create secret docker-registry regcred --docker-server=${registry} --docker-username=${username} --docker-password=${password} -n $ns ${dryRun} >/dev/null && ` +
        `kubectl patch serviceaccount default -p '{"imagePullSecrets":[{"name":"regcred"}]}' -n $ns ${dryRun} >/dev/null`;
    return measured(cluster, [
        ["preview", loop(create("--dry-run=server"))],
        ["up", loop(create(""))],
        [
            "destroy",
            loop(
                `kubectl delete secret regcred -n $ns >/dev/null && kubectl patch serviceaccount default --type=json -p '[{"op":"remove","path":"/imagePullSecrets"}]' -n $ns >/dev/null`,
            ),
        ],
    ]);
}

async function main() {
    engineBinary("pulumi");
    const programs: [string, Program][] = [
        ["component (TypeScript)", typeScriptProgram("typescript-project")],
        ["component (Python)", await pythonProgram()],
        ["component (YAML)", yamlProgram()],
        ["native (TypeScript)", typeScriptProgram("native-project")],
    ];
    const results: Result[] = [];
    for (const size of sizes) {
        const cluster: RealCluster = await startRealCluster({ auditAdmin: true });
        const work = mkdtempSync(path.join(tmpdir(), "bench-engine-"));
        try {
            const core = await coreApi(cluster.kubeconfig);
            const namespaces = Array.from({ length: size }, (_, i) => `bench-${i}`);
            for (const name of namespaces) await core.createNamespace({ body: { metadata: { name } } });
            // Every namespace's `default` ServiceAccount exists before anything is timed.
            for (const namespace of namespaces) {
                while ((await core.listNamespacedServiceAccount({ namespace })).items.length === 0) {
                    await new Promise((done) => setTimeout(done, 100));
                }
            }
            const kubeconfig = path.join(work, "kubeconfig");
            writeFileSync(kubeconfig, cluster.kubeconfig, { mode: 0o600 });
            const samples = new Map<string, Sample[]>();
            const add = (program: string, sample: Sample) =>
                samples.set(program, [...(samples.get(program) ?? []), sample]);
            for (let run = 0; run < runs; run++) {
                for (const [name, program] of programs) {
                    program.cli.env.KUBECONFIG = kubeconfig;
                    add(name, await pulumiRun(cluster, program, namespaces));
                }
                add("kubectl recipe", await kubectlRun(cluster, kubeconfig, namespaces));
                process.stderr.write(
                    `${size} namespaces, run ${run + 1}: ${JSON.stringify([...samples].map(([p, s]) => [p, s.at(-1)]))}\n`,
                );
            }
            for (const [program, list] of samples) {
                const timings: Timings = {};
                const requests: Requests = {};
                for (const command of commands) {
                    const values = list.map((s) => s.timings[command]).filter((v): v is number => v !== undefined);
                    if (values.length > 0) timings[command] = median(values);
                    const counted = list.map((s) => s.requests[command]).filter((r) => r !== undefined);
                    if (counted.length > 0) {
                        const totals = counted.map(total);
                        requests[command] = counted[totals.indexOf(median(totals))];
                    }
                }
                results.push({ size, program, timings, requests });
            }
        } finally {
            await cluster.stop();
            rmSync(work, { recursive: true, force: true });
        }
    }
    for (const [, program] of programs) program.remove();
    writeSection(results);
}

/** `3.0 (g 2.0, p 1.0)`: the requests per namespace, in all and by verb; `—` for a command not run. */
function perNamespace(byVerb: Record<string, number> | undefined, size: number): string {
    if (byVerb === undefined) return "—";
    const each = (n: number) => (n / size).toFixed(2).replace(/\.?0+$/, "");
    const verbs = Object.entries(byVerb)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([verb, n]) => `${verb[0]} ${each(n)}`);
    return `${each(total(byVerb))} (${verbs.join(", ")})`;
}

const begin = "<!-- engine: written by npm run bench:engine -->";
const end = "<!-- /engine -->";

interface Result {
    size: number;
    program: string;
    timings: Timings;
    requests: Requests;
}

const total = (byVerb: Record<string, number>) => Object.values(byVerb).reduce((a, b) => a + b, 0);

function writeSection(results: Result[]) {
    const seconds = (ms: number | undefined) => (ms === undefined ? "—" : (ms / 1000).toFixed(1));
    const pulumiVersion = spawnSync(engineBinary("pulumi"), ["version"], { encoding: "utf8" }).stdout.trim();
    const section = [
        begin,
        "## Real engine, side by side with the native stack and the kubectl recipe (`npm run bench:engine`)",
        "",
        `- Date: ${new Date().toISOString()}; ${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, load average ${loadavg()
            .map((n) => n.toFixed(2))
            .join(
                " ",
            )} at the end; ${runs === 1 ? "one run" : `medians of ${runs} runs`} per program and size, the programs taking turns`,
        `- Pulumi CLI ${pulumiVersion} and its Node.js language host, the Kubernetes provider and kube-apiserver built by test/engine/build.sh; Node ${process.version}; a file backend; every command as typed, wall time in seconds, from process start to exit`,
        "- One ServiceAccount (`default`) per namespace, `credentials` mode (no Google Cloud). The kubectl recipe has no no-op run: running it again fails (`create` answers AlreadyExists).",
        "",
        `| namespaces | program | ${commands.join(" | ")} |`,
        `|---:|---|${commands.map(() => "---:").join("|")}|`,
        ...results.map(
            ({ size, program, timings }) =>
                `| ${size} | ${program} | ${commands.map((c) => seconds(timings[c])).join(" | ")} |`,
        ),
        "",
        "API requests per namespace, each command's count in the API server's audit log over the number of namespaces (the verbs in brackets: g get, l list, w watch, c create, p patch, u update, d delete):",
        "",
        `| namespaces | program | ${commands.join(" | ")} |`,
        `|---:|---|${commands.map(() => "---:").join("|")}|`,
        ...results.map(
            ({ size, program, requests }) =>
                `| ${size} | ${program} | ${commands.map((c) => perNamespace(requests[c], size)).join(" | ")} |`,
        ),
        end,
    ].join("\n");
    const file = path.join(__dirname, "..", "BENCHMARKS.md");
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    const next = text.includes(begin)
        ? text.slice(0, text.indexOf(begin)) + section + text.slice(text.indexOf(end) + end.length)
        : `${text.trimEnd()}\n\n${section}\n`;
    writeFileSync(file, next);
    process.stderr.write("wrote the engine section of BENCHMARKS.md\n");
}

void main();
