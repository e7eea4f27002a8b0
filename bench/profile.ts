/**
 * Where the evaluation time goes: a CPU profile's self time summed by the code it was spent in.
 * Usage: profile.ts FILE.cpuprofile  (prints JSON: category -> ms)
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
    id: number;
    children?: number[];
    callFrame: { functionName: string; url: string };
}
export interface Profile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
}

/** Work attributed to what called it, wherever it ran: checked on every frame of the sample's stack. */
const callers: [string, RegExp][] = [
    // The SDK takes `new Error().stack` per resource (source position) and per debuggable promise;
    // under tsx every stack is source-mapped, which is where most of this goes.
    ["SDK stack-trace capture (source-mapped)", /^(get stack|captureStackTrace|prepareStackTraceWithSourceMaps)$/],
    ["module loading (lazy provider classes)", /^Module\._load$/],
];

/** For the rest, the code the sample was in. First match wins. */
const categories: [string, RegExp][] = [
    ["our component (validation, encoding, graph)", /\/components\//],
    ["benchmark programs and mock recording", /\/bench\/|\/test\/support\//],
    ["SDK resource constructors (resource.js)", /@pulumi\/pulumi\/resource\.js/],
    ["SDK output resolution (output.js, unwrap)", /@pulumi\/pulumi\/output\.js/],
    ["SDK registration (runtime/resource.js)", /@pulumi\/pulumi\/runtime\/resource\.js/],
    ["SDK input serialization (runtime/rpc.js)", /@pulumi\/pulumi\/runtime\/rpc\.js/],
    ["SDK mock monitor (runtime/mocks.js)", /@pulumi\/pulumi\/runtime\/mocks\.js/],
    [
        "SDK promise bookkeeping (runtime/debuggable.js, settings.js)",
        /@pulumi\/pulumi\/runtime\/(debuggable|settings)\.js/,
    ],
    ["SDK other", /@pulumi\/pulumi\//],
    ["protobuf / gRPC messages", /google-protobuf|@grpc|\/proto\//],
    ["provider SDK classes (@pulumi/kubernetes, @pulumi/gcp)", /@pulumi\/(kubernetes|gcp)\//],
    ["garbage collection", /^\(garbage collector\)$/],
];

export function timeByCategory(profile: Profile): Record<string, number> {
    const nodeById = new Map(profile.nodes.map((n) => [n.id, n]));
    const parentOf = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
    const categoryOf = (id: number): string => {
        for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
            const name = nodeById.get(at)!.callFrame.functionName;
            const caller = callers.find(([, pattern]) => pattern.test(name));
            if (caller) return caller[0];
        }
        const { url, functionName } = nodeById.get(id)!.callFrame;
        const found = categories.find(([, pattern]) => pattern.test(url || functionName));
        return found ? found[0] : url ? "Node.js internals (promises, timers, paths)" : `V8 ${functionName}`;
    };
    const totals: Record<string, number> = {};
    profile.samples.forEach((id, i) => {
        const category = categoryOf(id);
        totals[category] = (totals[category] ?? 0) + profile.timeDeltas[i] / 1000;
    });
    return totals;
}

if (require.main === module) {
    const totals = timeByCategory(JSON.parse(readFileSync(process.argv[2], "utf8")) as Profile);
    const sorted = Object.entries(totals).sort(([, a], [, b]) => b - a);
    for (const [category, ms] of sorted) console.log(`${ms.toFixed(0).padStart(7)} ms  ${category}`);
}
