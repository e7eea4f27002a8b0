/**
 * One measurement in a fresh process, so the SDK's global state and the memory peak belong to this
 * case alone. Usage: case.ts '{"program":"component","namespaces":100,"serviceAccounts":3,"extraArgs":{}}'
 * Prints one JSON line: evaluation time, peak RSS, resources registered, longest dependency chain,
 * size of the serialized dynamic provider stored with each dynamic resource.
 * With "profile": FILE, a CPU profile of the evaluation alone is written to FILE.
 */
import { Session } from "node:inspector/promises";
import { writeFileSync } from "node:fs";
import { reveal, settled, installMocks, type Registration } from "../test/support/mocks";
const registrations = installMocks();

export interface Case {
    program: "component" | "naive" | "floor";
    namespaces: number;
    serviceAccounts: number;
    extraArgs?: Record<string, unknown>;
    profile?: string;
}

export interface CaseResult {
    ms: number;
    peakRssMiB: number;
    resources: number;
    depth: number;
    /** The largest serialized dynamic provider (`__provider`) a resource carries, in bytes; 0 if none. */
    providerBytes: number;
}

/** Longest chain of resources linked by the dependencies the monitor received, counted in resources. */
export function longestChain(registered: Registration[]): number {
    const byUrn = new Map(registered.map((r) => [r.urn, r]));
    const memo = new Map<string, number>();
    const depth = (urn: string): number => {
        let known = memo.get(urn);
        if (known === undefined) {
            const deps = byUrn.get(urn)?.dependencies ?? [];
            known = 1 + Math.max(0, ...deps.filter((d) => byUrn.has(d)).map(depth));
            memo.set(urn, known);
        }
        return known;
    };
    return Math.max(0, ...registered.map((r) => depth(r.urn)));
}

async function run(spec: Case): Promise<CaseResult> {
    // Required after installMocks: ES imports are hoisted, and the SDK must see the mocks first.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const programs = require("./programs") as typeof import("./programs");
    const shape = {
        namespaces: Array.from({ length: spec.namespaces }, (_, i) => `team-${i}`),
        serviceAccounts: ["default", "builder", "deployer"].slice(0, spec.serviceAccounts),
    };
    const session = spec.profile ? new Session() : undefined;
    if (session) {
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.start");
    }
    const start = performance.now();
    if (spec.program === "component") programs.component(shape, spec.extraArgs ?? {});
    else programs[spec.program](shape);
    await settled();
    const ms = performance.now() - start;
    if (session) {
        const { profile } = await session.post("Profiler.stop");
        writeFileSync(spec.profile!, JSON.stringify(profile));
    }
    return {
        ms,
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
        resources: registrations.length,
        depth: longestChain(registrations),
        providerBytes: Math.max(
            0,
            ...registrations.map((r) => Buffer.byteLength(reveal<string | undefined>(r.inputs.__provider) ?? "")),
        ),
    };
}

run(JSON.parse(process.argv[2]) as Case).then(
    (result) => {
        process.stdout.write(JSON.stringify(result) + "\n");
        process.exit(0);
    },
    (err: unknown) => {
        console.error(err);
        process.exit(1);
    },
);
