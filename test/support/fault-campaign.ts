/**
 * A randomized fault campaign for the `PullSecretEntry` provider: fast-check generates schedules (a
 * seeded mix of the engine's commands for two components, other owners writing the same
 * ServiceAccounts, tenants forging markers, accounts recreated, and a fault on most provider calls),
 * runs each against a cluster (the API-server double or a real kube-apiserver, both behind the
 * fault-injecting proxy), checks invariants after every command and after a final clean `up` and a
 * final `destroy`, and shrinks a failing schedule to a minimal one printed with its seed.
 *
 * The engine is modelled the way it drives a dynamic provider: `up` creates what the state lacks,
 * diffs and updates what it has, deletes what left the program; `refresh` reads each; an interrupted
 * `up` drops the result of one call (the process was killed after the API server applied it).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
    entryProvider,
    type EntryInputs,
    type EntryState,
} from "../../components/attachment/pull-secret-entry-provider";
import type { EntryTiming } from "../../components/attachment/pull-secret-entry-client";
import { entriesOwnedBy, ownerIdOf, ownershipKeys } from "../../components/rules/ownership";
import type { EntryCluster } from "./entry-cases";

const namespaces = ["camp-a", "camp-b"] as const;
type Namespace = (typeof namespaces)[number];
const account = "default";
const tenantNames = ["theirs-1", "theirs-2", "theirs-3"];

interface Component {
    key: "A" | "B";
    owner: string;
    secretName: string;
}
const components: Component[] = [
    {
        key: "A",
        owner: ownerIdOf("urn:pulumi:dev::camp::registry-pull-secret:index:RegistryPullSecret::a"),
        secretName: "regcred",
    },
    {
        key: "B",
        owner: ownerIdOf("urn:pulumi:dev::camp::registry-pull-secret:index:RegistryPullSecret::b"),
        secretName: "team-b",
    },
];

/** A fault on the component's connection, armed before one provider call. */
type Fault =
    | { kind: "none" }
    | { kind: "status"; status: 409 | 429 | 500 | 503 }
    | { kind: "lost"; how: "504" | "reset" }
    | { kind: "writer"; write: TenantWrite };

/** What other owners and tenants do to a ServiceAccount. */
type TenantWrite =
    | { kind: "politeAdd"; namespace: Namespace; name: string }
    | { kind: "politeRemove"; namespace: Namespace; name: string }
    | { kind: "rudeReplace"; namespace: Namespace; name: string }
    | { kind: "recreate"; namespace: Namespace }
    | { kind: "forge"; namespace: Namespace; owner: "A" | "B"; names: string[] };

/** The expected world: what other owners listed, what tenants forged, and the engine's state per component. */
interface Model {
    foreign: Record<Namespace, Set<string>>;
    /** Names a forged marker of the other component claims: ours may be left behind there. */
    forgedForOther: Record<Namespace, Record<"A" | "B", Set<string>>>;
    state: Record<"A" | "B", Map<Namespace, EntryState>>;
    desired: Record<"A" | "B", Namespace[] | undefined>;
    /**
     * `A:camp-a`: a create whose result an interrupted `up` dropped, while the state has no entry there
     * again. Pulumi leaves the resource of an interrupted create behind when the program stops declaring
     * it (`pulumi refresh --import-pending-creates` or `--clear-pending-creates`), and so may we.
     */
    orphans: Set<string>;
    /** `A:camp-a`: a tenant wrote A's marker there; only A's own destroy there removes it. */
    forgedMarkers: Set<string>;
}

/** Counts of what a campaign did, for docs/testing.md and BENCHMARKS.md. */
export interface CampaignReport {
    schedules: number;
    commands: number;
    faults: Record<string, number>;
}

interface World {
    cluster: EntryCluster;
    provider: ReturnType<typeof entryProvider>;
    report: CampaignReport;
    secretTexts: string[];
}

const count = (report: CampaignReport, kind: string) => (report.faults[kind] = (report.faults[kind] ?? 0) + 1);

async function tenantWrite(world: World, model: Model, write: TenantWrite): Promise<void> {
    const { cluster } = world;
    const live = (await cluster.pullSecrets(write.namespace, account)) ?? [];
    switch (write.kind) {
        case "politeAdd":
            if (live.includes(write.name)) return;
            await cluster.setPullSecrets(write.namespace, account, [...live, write.name]);
            model.foreign[write.namespace].add(write.name);
            return;
        case "politeRemove":
            if (!model.foreign[write.namespace].has(write.name)) return;
            await cluster.setPullSecrets(
                write.namespace,
                account,
                live.filter((n) => n !== write.name),
            );
            model.foreign[write.namespace].delete(write.name);
            return;
        case "rudeReplace":
            // The recipe's `kubectl patch serviceaccount default -p '{"imagePullSecrets":[...]}'`.
            await cluster.setPullSecrets(write.namespace, account, [write.name]);
            model.foreign[write.namespace] = new Set([write.name]);
            return;
        case "recreate":
            await cluster.put(write.namespace, account, []);
            model.foreign[write.namespace] = new Set();
            model.forgedForOther[write.namespace] = { A: new Set(), B: new Set() };
            for (const c of components) model.forgedMarkers.delete(`${c.key}:${write.namespace}`);
            return;
        case "forge": {
            const owner = components.find((c) => c.key === write.owner)!.owner;
            await cluster.forgeAnnotation(
                write.namespace,
                account,
                ownershipKeys.entries(owner),
                JSON.stringify(write.names),
            );
            // A marker of B naming A's Secret: A may leave its entry behind (docs/security.md); and the reverse.
            const other = write.owner === "A" ? "B" : "A";
            for (const name of write.names) model.forgedForOther[write.namespace][other].add(name);
            model.forgedMarkers.add(`${write.owner}:${write.namespace}`);
            return;
        }
    }
}

function arm(world: World, model: Model, fault: Fault): void {
    const { cluster, report } = world;
    switch (fault.kind) {
        case "none":
            return;
        case "status":
            count(report, `status ${fault.status}`);
            cluster.failNext(fault.status);
            return;
        case "lost":
            cluster.loseNextPatchAnswer(fault.how);
            return;
        case "writer":
            cluster.beforeNextPatch(async () => {
                count(report, `concurrent ${fault.write.kind}`);
                await tenantWrite(world, model, fault.write);
            });
            return;
    }
}

const inputsOf = (world: World, component: Component, namespace: Namespace): EntryInputs => ({
    namespace,
    serviceAccount: account,
    secretName: component.secretName,
    entry: `${namespace}/${account}: ${component.secretName}`,
    owner: component.owner,
    kubeconfig: world.cluster.kubeconfig,
});
const idOf = (component: Component, namespace: Namespace) => `${namespace}/${account}/${component.secretName}`;

/** One provider call with a fault armed before it; nothing armed survives it. */
async function call<T>(world: World, model: Model, fault: Fault, run: () => Promise<T>): Promise<T> {
    arm(world, model, fault);
    const lostBefore = world.cluster.log.filter((line) => line.includes("answer lost")).length;
    try {
        return await run();
    } catch (error) {
        const message = String((error as Error).message);
        for (const text of world.secretTexts) assert.ok(!message.includes(text), "an error quotes secret text");
        throw error;
    } finally {
        world.cluster.disarm();
        const lost = world.cluster.log.filter((line) => line.includes("answer lost")).length - lostBefore;
        for (let i = 0; i < lost; i++)
            count(world.report, fault.kind === "lost" ? `lost answer ${fault.how}` : "lost answer");
    }
}

/** `pulumi up` of one component with these namespaces; `interruptAfter`: the call whose result is dropped, then stop. */
async function up(
    world: World,
    model: Model,
    component: Component,
    wanted: Namespace[],
    faults: Fault[],
    interruptAfter?: number,
) {
    const state = model.state[component.key];
    let step = 0;
    const nextFault = () => faults[step % faults.length] ?? { kind: "none" as const };
    const interrupted = () => interruptAfter !== undefined && step === interruptAfter;
    model.desired[component.key] = wanted;
    for (const namespace of wanted) {
        const inputs = inputsOf(world, component, namespace);
        const olds = state.get(namespace);
        if (olds === undefined) {
            const { outs } = await call(world, model, nextFault(), () => world.provider.create(inputs));
            if (interrupted()) {
                model.orphans.add(`${component.key}:${namespace}`);
                count(world.report, "interrupted up");
                return;
            }
            state.set(namespace, outs as EntryState);
            model.orphans.delete(`${component.key}:${namespace}`);
        } else {
            const diff = await world.provider.diff!(idOf(component, namespace), olds, inputs);
            if (diff.changes) {
                const { outs } = await call(world, model, nextFault(), () =>
                    world.provider.update!(idOf(component, namespace), olds, inputs),
                );
                if (interrupted()) {
                    count(world.report, "interrupted up");
                    return;
                }
                state.set(namespace, outs as EntryState);
            }
        }
        step++;
    }
    for (const [namespace, olds] of [...state]) {
        if (wanted.includes(namespace)) continue;
        await call(world, model, nextFault(), () => world.provider.delete!(idOf(component, namespace), olds));
        if (interrupted()) {
            count(world.report, "interrupted up");
            return;
        }
        state.delete(namespace);
        model.forgedMarkers.delete(`${component.key}:${namespace}`);
        step++;
    }
}

async function refresh(world: World, model: Model, component: Component, faults: Fault[]) {
    const state = model.state[component.key];
    let step = 0;
    for (const [namespace, olds] of [...state]) {
        const fault = faults[step++ % Math.max(1, faults.length)] ?? { kind: "none" as const };
        const { props } = await call(world, model, fault, () => world.provider.read!(idOf(component, namespace), olds));
        state.set(namespace, props as EntryState);
    }
}

/** Invariants that hold after every command: nobody else's entry lost, no name twice, nothing unknown listed. */
async function checkAlways(world: World, model: Model, where: string): Promise<void> {
    for (const namespace of namespaces) {
        const live = (await world.cluster.pullSecrets(namespace, account)) ?? [];
        for (const name of model.foreign[namespace]) {
            assert.ok(
                live.includes(name),
                `${where}: ${namespace} lost ${name}, which another owner listed: ${JSON.stringify(live)}`,
            );
        }
        assert.equal(
            new Set(live).size,
            live.length,
            `${where}: ${namespace} lists a name twice: ${JSON.stringify(live)}`,
        );
        const known = new Set([...model.foreign[namespace], ...components.map((c) => c.secretName)]);
        for (const name of live) assert.ok(known.has(name), `${where}: ${namespace} lists ${name}, which nobody added`);
    }
}

/** After a clean refresh and up: ours listed on every wanted target and the state agrees with the cluster. */
async function checkSettled(world: World, model: Model, where: string): Promise<void> {
    await checkAlways(world, model, where);
    for (const component of components) {
        const wanted = model.desired[component.key];
        if (wanted === undefined) continue;
        for (const namespace of wanted) {
            const live = (await world.cluster.pullSecrets(namespace, account)) ?? [];
            assert.equal(
                live.filter((n) => n === component.secretName).length,
                1,
                `${where}: ${component.key} in ${namespace}: ${JSON.stringify(live)}`,
            );
            assert.equal(
                model.state[component.key].get(namespace)?.present,
                true,
                `${where}: ${component.key}'s state in ${namespace}`,
            );
        }
    }
}

/** After the final destroy of both: no entry and no marker of ours left, unless a forged marker of the other owner kept it. */
async function checkDestroyed(world: World, model: Model): Promise<void> {
    await checkAlways(world, model, "after the final destroy");
    for (const namespace of namespaces) {
        const live = (await world.cluster.pullSecrets(namespace, account)) ?? [];
        const annotations = (await world.cluster.annotations(namespace, account)) ?? {};
        for (const component of components) {
            if (model.orphans.has(`${component.key}:${namespace}`)) continue;
            if (!model.forgedForOther[namespace][component.key].has(component.secretName)) {
                assert.ok(
                    !live.includes(component.secretName),
                    `${component.key} left its entry in ${namespace}: ${JSON.stringify(live)}`,
                );
            }
            if (model.forgedMarkers.has(`${component.key}:${namespace}`)) continue;
            assert.equal(
                entriesOwnedBy({ metadata: { annotations } }, component.owner),
                undefined,
                `${component.key}'s marker left in ${namespace}`,
            );
        }
    }
}

// The schedule's commands, for fast-check's model-based runner.

const namespaceArb = fc.constantFrom(...namespaces);
const tenantWriteArb: fc.Arbitrary<TenantWrite> = fc.oneof(
    fc.record({
        kind: fc.constant("politeAdd" as const),
        namespace: namespaceArb,
        name: fc.constantFrom(...tenantNames),
    }),
    fc.record({
        kind: fc.constant("politeRemove" as const),
        namespace: namespaceArb,
        name: fc.constantFrom(...tenantNames),
    }),
    fc.record({
        kind: fc.constant("rudeReplace" as const),
        namespace: namespaceArb,
        name: fc.constantFrom(...tenantNames),
    }),
    fc.record({ kind: fc.constant("recreate" as const), namespace: namespaceArb }),
    fc.record({
        kind: fc.constant("forge" as const),
        namespace: namespaceArb,
        owner: fc.constantFrom("A" as const, "B" as const),
        names: fc.subarray([...tenantNames, ...components.map((c) => c.secretName)], { maxLength: 3 }),
    }),
);
const faultArb: fc.Arbitrary<Fault> = fc.oneof(
    { arbitrary: fc.constant({ kind: "none" as const }), weight: 2 },
    {
        arbitrary: fc.record({
            kind: fc.constant("status" as const),
            status: fc.constantFrom(409 as const, 429 as const, 500 as const, 503 as const),
        }),
        weight: 2,
    },
    {
        arbitrary: fc.record({
            kind: fc.constant("lost" as const),
            how: fc.constantFrom("504" as const, "reset" as const),
        }),
        weight: 2,
    },
    { arbitrary: fc.record({ kind: fc.constant("writer" as const), write: tenantWriteArb }), weight: 1 },
);
const componentArb = fc.constantFrom(...components);

type Real = World;
type Command = fc.AsyncCommand<Model, Real>;

const command = (label: string, run: (m: Model, r: Real) => Promise<void>): Command => ({
    check: () => true,
    run: async (m, r) => {
        r.report.commands++;
        await run(m, r);
        await checkAlways(r, m, `after ${label}`);
    },
    toString: () => label,
});

const commandArbs = [
    fc
        .record({
            component: componentArb,
            wanted: fc.subarray([...namespaces]),
            faults: fc.array(faultArb, { maxLength: 3 }),
        })
        .map(({ component, wanted, faults }) =>
            command(`up ${component.key} [${wanted.join(",")}] faults ${JSON.stringify(faults)}`, (m, r) =>
                up(r, m, component, wanted, faults),
            ),
        ),
    fc
        .record({
            component: componentArb,
            wanted: fc.subarray([...namespaces], { minLength: 1 }),
            faults: fc.array(faultArb, { maxLength: 3 }),
            at: fc.nat({ max: 2 }),
        })
        .map(({ component, wanted, faults, at }) =>
            command(
                `interrupted up ${component.key} [${wanted.join(",")}] at ${at} faults ${JSON.stringify(faults)}`,
                (m, r) => up(r, m, component, wanted, faults, at),
            ),
        ),
    fc
        .record({ component: componentArb, faults: fc.array(faultArb, { maxLength: 2 }) })
        .map(({ component, faults }) =>
            command(`refresh ${component.key}`, (m, r) => refresh(r, m, component, faults)),
        ),
    tenantWriteArb.map((write) => command(`tenant ${JSON.stringify(write)}`, (m, r) => tenantWrite(r, m, write))),
];

export interface CampaignOptions {
    /** How many schedules. */
    runs: number;
    /** fast-check's seed; printed with a failure, so a failing schedule can be run again. */
    seed?: number;
    timing: EntryTiming;
    /** Texts no error may contain (the cluster's token). */
    secretTexts?: string[];
    /** Commands per schedule, at most. */
    maxCommands?: number;
}

/**
 * Runs the campaign against `cluster` and returns what it did; throws fast-check's report (seed, path
 * and the shrunk schedule) when an invariant fails.
 */
export async function runCampaign(cluster: EntryCluster, options: CampaignOptions): Promise<CampaignReport> {
    const report: CampaignReport = { schedules: 0, commands: 0, faults: {} };
    const world: World = {
        cluster,
        provider: entryProvider(undefined, options.timing),
        report,
        secretTexts: options.secretTexts ?? [],
    };
    for (const namespace of namespaces) {
        await cluster.put(namespace, account, []);
        for (const component of components) {
            try {
                await cluster.putSecret(namespace, component.secretName, {
                    [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value,
                    [ownershipKeys.secretOwner]: component.owner,
                });
            } catch {
                // Made by an earlier campaign on the same cluster.
            }
        }
    }
    await fc.assert(
        fc.asyncProperty(fc.commands(commandArbs, { maxCommands: options.maxCommands ?? 12 }), async (commands) => {
            report.schedules++;
            const model: Model = {
                foreign: { "camp-a": new Set(), "camp-b": new Set() },
                forgedForOther: { "camp-a": { A: new Set(), B: new Set() }, "camp-b": { A: new Set(), B: new Set() } },
                state: { A: new Map(), B: new Map() },
                desired: { A: undefined, B: undefined },
                orphans: new Set(),
                forgedMarkers: new Set(),
            };
            cluster.disarm();
            for (const namespace of namespaces) await cluster.put(namespace, account, []);
            await fc.asyncModelRun(() => ({ model, real: world }), commands);
            // The final clean run: refresh and up of every component still declared, then destroy of both.
            for (const component of components) {
                const wanted = model.desired[component.key];
                if (wanted === undefined) continue;
                await refresh(world, model, component, []);
                await up(world, model, component, wanted, []);
            }
            await checkSettled(world, model, "after the final refresh and up");
            for (const component of components) {
                await up(world, model, component, [], []);
                model.desired[component.key] = undefined;
            }
            await checkDestroyed(world, model);
        }),
        { numRuns: options.runs, ...(options.seed === undefined ? {} : { seed: options.seed }), verbose: 1 },
    );
    return report;
}
