/**
 * `npm run bench:plugin` (after `npm run build`): what a Python, Go, .NET or YAML program's command pays
 * before the plugin can answer. The plugin folder started as Pulumi's Node.js language host starts it
 * (test/support/plugin-process.ts) until it answers GetSchema with the prebuilt schema.json, against
 * Pulumi's analysis of the TypeScript sources that the plugin ran on every command before (the
 * `ComponentProvider.getSchema` that `analyzedSchema` runs), each in a fresh process, BENCH_RUNS runs
 * (default 5), medians, as a Markdown table.
 */
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import * as path from "node:path";
import { startPluginProcess } from "../test/support/plugin-process";

const runs = Number(process.env.BENCH_RUNS ?? 5);
const repo = path.join(__dirname, "..");
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function servedSchemaMs(): Promise<number> {
    const started = Date.now();
    const plugin = await startPluginProcess(repo);
    try {
        await plugin.schema();
        return Date.now() - started;
    } finally {
        plugin.child.kill();
    }
}

function analysisMs(): number {
    const script = `const t = Date.now(); require("./components/plugin").analyzedSchema().then(() => console.log(Date.now() - t));`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: repo, encoding: "utf8" });
    if (run.status !== 0) throw new Error(run.stderr);
    return Number(run.stdout.trim());
}

async function main(): Promise<void> {
    const served: number[] = [];
    const analysed: number[] = [];
    for (let run = 0; run < runs; run++) {
        served.push(await servedSchemaMs());
        analysed.push(analysisMs());
    }
    console.log(`${runs} runs, load average ${loadavg()[0].toFixed(1)}, Node.js ${process.version}`);
    console.log("| | median (ms) | min | max |");
    console.log("| --- | ---: | ---: | ---: |");
    const row = (label: string, values: number[]) =>
        console.log(`| ${label} | ${median(values)} | ${Math.min(...values)} | ${Math.max(...values)} |`);
    row("plugin started until it answers GetSchema (prebuilt schema.json)", served);
    row("Pulumi's analysis of the sources alone (what each command paid before)", analysed);
}

void main();
