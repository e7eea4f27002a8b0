/**
 * `npm run bench:refresher`: the shipped token refresher's first round at 1, 100, 1,000 and 3,000 target
 * namespaces (test/support/refresher-at-scale.ts: its own process, a TLS stand-in for the API server):
 * peak RSS and the round's time, BENCH_RUNS runs each (default 3), medians, as a Markdown table.
 */
import { measureFirstRound } from "../test/support/refresher-at-scale";

const runs = Number(process.env.BENCH_RUNS ?? 3);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
    console.log("| targets | peak RSS (MiB) | first round (ms) |");
    console.log("| ---: | ---: | ---: |");
    for (const targets of [1, 100, 1000, 3000]) {
        const rounds = [];
        for (let run = 0; run < runs; run++) rounds.push(await measureFirstRound(targets));
        const failed = rounds.reduce((sum, r) => sum + r.failed, 0);
        if (failed > 0) throw new Error(`${failed} writes failed at ${targets} targets`);
        const rss = median(rounds.map((r) => r.peakRssMiB)).toFixed(1);
        console.log(`| ${targets} | ${rss} | ${median(rounds.map((r) => r.firstRoundMs))} |`);
    }
}

void main();
