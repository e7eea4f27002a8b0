/**
 * The fault campaign's share through the REAL CLI (test/support/fault-campaign.ts is the provider-level
 * share): fast-check generates schedules of a user's commands on one stack of a user's TypeScript
 * project (test/fixtures/typescript-project, the package installed from its tarball), `pulumi up` with
 * namespaces added and removed, `refresh` and `destroy`, some of them interrupted at a random moment
 * (Ctrl-C, SIGINT to the CLI, or the whole process group killed, as a CI job cancelled or a laptop
 * closed), between them other owners and tenants writing the same ServiceAccounts and Secrets. After
 * every schedule, what a user does to recover (`pulumi cancel` when a lock was left, a refresh, then
 * `up` of every namespace the schedule used) and the invariants: every entry another owner had is
 * still there unless that owner removed it; ours exactly once on every target; the Secret holds the
 * stack's credential; the state agrees with the cluster (`pulumi preview --refresh --expect-no-changes`);
 * after `destroy` nothing of ours anywhere and theirs untouched; no Secret of another owner written;
 * the password in no output of any command. A failing schedule is shrunk by fast-check and printed with
 * its seed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import fc from "fast-check";
import { clusterState, dockerConfigOf, withContextLeadingNowhere } from "./engine-checks";
import type { TypeScriptProject } from "./engine-project";
import type { CommandResult, PulumiCli } from "./pulumi-cli";
import type { RealCluster } from "./real-cluster";

const registry = "registry.campaign.example:5000";
const username = "campaign-user";
const password = "campaign-password-3e9b1f7a";
const secretName = "regcred";
const slots = ["a", "b", "c"] as const;
type Slot = (typeof slots)[number];

/**
 * How a command is interrupted: the CLI's own Ctrl-C handling, or everything killed at once, at a
 * moment after it started or the moment the API server has written a Secret and before its answer
 * reaches the Kubernetes provider (held by the proxy in front of the API server: the window between the
 * cluster's write and the state's, forced rather than hoped for).
 */
type Interrupt = { signal: "SIGINT" | "SIGKILL"; afterMs: number } | { signal: "SIGKILL"; onSecretWritten: true };

export type Step =
    | { kind: "up"; namespaces: Slot[]; interrupt?: Interrupt }
    | { kind: "refresh" }
    | { kind: "destroy"; interrupt?: Interrupt }
    | { kind: "politeAdd"; slot: Slot; name: string }
    | { kind: "rudeReplace"; slot: Slot; name: string }
    | { kind: "recreateAccount"; slot: Slot }
    | { kind: "deleteSecret"; slot: Slot }
    | { kind: "editSecret"; slot: Slot };

const slot = fc.constantFrom(...slots);
const interrupt = fc.option(
    fc.oneof(
        {
            weight: 3,
            arbitrary: fc.record({
                signal: fc.constantFrom("SIGINT" as const, "SIGKILL" as const),
                afterMs: fc.integer({ min: 300, max: 4_000 }),
            }),
        },
        { weight: 1, arbitrary: fc.constant({ signal: "SIGKILL" as const, onSecretWritten: true as const }) },
    ),
    { nil: undefined, freq: 2 },
);
const other = fc.constantFrom("theirs-1", "theirs-2");
const step: fc.Arbitrary<Step> = fc.oneof(
    {
        weight: 5,
        arbitrary: fc.record({
            kind: fc.constant("up" as const),
            namespaces: fc.subarray([...slots], { minLength: 1 }),
            interrupt,
        }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("refresh" as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("destroy" as const), interrupt }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("politeAdd" as const), slot, name: other }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("rudeReplace" as const), slot, name: other }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("recreateAccount" as const), slot }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("deleteSecret" as const), slot }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("editSecret" as const), slot }) },
);
export const schedules = fc.array(step, { minLength: 2, maxLength: 5 });

/** What a campaign did, for docs/testing.md and BENCHMARKS.md. */
export interface CliCampaignReport {
    schedules: number;
    commands: number;
    /** Interrupted commands by signal, tenant writes by kind, recoveries (`pulumi cancel`, pending operations). */
    events: Record<string, number>;
}

interface Context {
    cluster: RealCluster;
    /** The API server behind a proxy the stack reaches it through, which can hold a Secret create's answer. */
    proxy: HeldAnswers;
    core: CoreV1Api;
    project: TypeScriptProject;
    report: CliCampaignReport;
    outputs: string[];
    log?: (line: string) => void;
}

const tally = (report: CliCampaignReport, event: string) => (report.events[event] = (report.events[event] ?? 0) + 1);

/** `pulumi <args>` in the project as a user's shell runs it, signalled `interrupt.afterMs` after it started. */
function pulumiInterrupted(
    cli: PulumiCli,
    args: string[],
    signal: Interrupt,
    proxy: HeldAnswers,
): Promise<CommandResult & { signalled: boolean }> {
    return new Promise((done, fail) => {
        // Its own process group, so SIGKILL reaches the language host, the program and the plugins too.
        const child = spawn("pulumi", args, {
            cwd: cli.cwd,
            env: cli.env,
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let [stdout, stderr, signalled] = ["", "", false];
        const send = () => {
            signalled = true;
            if (signal.signal === "SIGKILL") process.kill(-child.pid!, "SIGKILL");
            else child.kill("SIGINT");
        };
        const timer = "afterMs" in signal ? setTimeout(send, signal.afterMs) : undefined;
        if ("onSecretWritten" in signal) proxy.onNextSecretCreated(send);
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("error", fail);
        child.on("close", (status) => {
            clearTimeout(timer);
            proxy.disarm();
            // A killed CLI leaves its plugins without their engine: they stop on their own; none may linger.
            try {
                process.kill(-child.pid!, "SIGKILL");
            } catch {
                // the group is gone already
            }
            done({ status, stdout, stderr, signalled });
        });
    });
}

/** The proxy in front of the API server through which the stack reaches it. */
interface HeldAnswers {
    /** A kubeconfig document for the proxy (plain HTTP on loopback), context `real`. */
    kubeconfig: string;
    /**
     * The next Secret the API server creates (a POST or a server-side apply that is not a dry run,
     * answered 201): once it is written, `action` runs, and only then does the answer go back, to a
     * process `action` killed.
     */
    onNextSecretCreated(action: () => void): void;
    disarm(): void;
    close(): Promise<void>;
}

/**
 * A proxy that streams every request and answer unchanged, bytes as they are (the Kubernetes provider
 * reads the OpenAPI document as protobuf, and watches stream), except the answer to the Secret create
 * {@link HeldAnswers.onNextSecretCreated} waits for.
 */
async function holdingProxy(cluster: RealCluster): Promise<HeldAnswers> {
    let held: (() => void) | undefined;
    const upstream = new URL(cluster.server);
    const server = http.createServer((request, response) => {
        const url = request.url ?? "";
        const forwarded = https.request(
            {
                host: upstream.hostname,
                port: upstream.port,
                path: url,
                method: request.method,
                ca: cluster.certificateAuthority,
                headers: {
                    ...request.headers,
                    host: upstream.host,
                    // Through plain http, kubectl and the Kubernetes provider (client-go) arrived as system:anonymous
                    // (seen here); client-node sends the token. The proxy adds the admin's where none came.
                    authorization: request.headers.authorization ?? `Bearer ${cluster.token}`,
                },
            },
            (answer) => {
                const pass = () => {
                    response.writeHead(answer.statusCode ?? 502, answer.headers);
                    answer.pipe(response);
                };
                // A plain create (POST), or a server-side apply that creates (PATCH, 201: an adopting provider).
                const written =
                    (request.method === "POST" && /\/secrets(\?|$)/.test(url)) ||
                    (request.method === "PATCH" && /\/secrets\/[^/?]+(\?|$)/.test(url));
                const created = written && !/dryRun=/.test(url);
                if (!held || !created || answer.statusCode !== 201) return pass();
                const action = held;
                held = undefined;
                action();
                // The killed process's connection closes meanwhile; the answer reaches no one.
                setTimeout(pass, 1_000);
            },
        );
        forwarded.on("error", () => response.destroy());
        request.pipe(forwarded);
    });
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    const kubeconfig = JSON.parse(cluster.kubeconfig);
    // client-node refuses plain http unless TLS checks are declared off; the proxy is on loopback.
    kubeconfig.clusters[0].cluster = {
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        "insecure-skip-tls-verify": true,
    };
    return {
        kubeconfig: JSON.stringify(kubeconfig),
        onNextSecretCreated: (action) => void (held = action),
        disarm: () => void (held = undefined),
        close: () =>
            new Promise<void>((closed) => {
                server.closeAllConnections();
                server.close(() => closed());
            }),
    };
}

/** One command of the schedule: a failure is allowed only when it was interrupted or a tenant broke what it needs. */
async function command(context: Context, args: string[], interrupted?: Interrupt): Promise<CommandResult> {
    const cli = context.project.cli;
    context.report.commands++;
    const started = Date.now();
    const result = interrupted ? await pulumiInterrupted(cli, args, interrupted, context.proxy) : await cli.run(args);
    context.log?.(`  pulumi ${args.join(" ")}: exit ${result.status} after ${Date.now() - started} ms`);
    context.outputs.push(result.stdout, result.stderr);
    const signalled = interrupted !== undefined && (result as { signalled?: boolean }).signalled === true;
    if (signalled) tally(context.report, `interrupted by ${interrupted.signal}`);
    const output = result.stdout + result.stderr;
    if (/pending operations from previous deployment/.test(output))
        tally(context.report, "pending operations reported");
    // Why a command that was not interrupted failed: a kind, never its text (checked for secrets below).
    if (result.status !== 0 && !signalled) {
        const kind = /currently locked|locked by/i.test(output)
            ? "stack locked"
            : /already exists/i.test(output)
              ? "already exists"
              : "other";
        tally(context.report, `failed: ${kind}`);
    }
    return result;
}

/** What a user does after an interrupted command: `pulumi cancel` when the stack was left locked, then the command again. */
async function recovered(context: Context, args: string[]): Promise<string> {
    let result = await command(context, args);
    if (result.status !== 0 && /locked by|currently locked/i.test(result.stdout + result.stderr)) {
        tally(context.report, "pulumi cancel after a lock left behind");
        await command(context, ["cancel", "--yes"]);
        result = await command(context, args);
    }
    assert.equal(result.status, 0, `pulumi ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
}

/** The expected world: the names other owners listed per namespace. */
type Foreign = Record<Slot, Set<string>>;

async function tenantStep(
    context: Context,
    namespaceOf: (s: Slot) => string,
    foreign: Foreign,
    step: Step,
): Promise<void> {
    const inCluster = clusterState(context.core);
    if (!("slot" in step)) return;
    const namespace = namespaceOf(step.slot);
    tally(context.report, step.kind);
    switch (step.kind) {
        case "politeAdd": {
            const live = await inCluster.pullSecrets(namespace, "default");
            if (live.includes(step.name)) return;
            await inCluster.setPullSecrets(namespace, "default", [...live, step.name]);
            foreign[step.slot].add(step.name);
            return;
        }
        case "rudeReplace":
            // What the recipe's `kubectl patch serviceaccount default -p '{"imagePullSecrets":[{"name":...}]}'`
            // does: the list replaced by one name (imagePullSecrets has no merge key).
            await inCluster.setPullSecrets(namespace, "default", [step.name]);
            foreign[step.slot] = new Set([step.name]);
            return;
        case "recreateAccount":
            // The service-account controller gives the namespace a new, empty `default` at once.
            await context.core.deleteNamespacedServiceAccount({ name: "default", namespace });
            foreign[step.slot] = new Set();
            await inCluster.defaultAccount(namespace);
            return;
        case "deleteSecret":
            await context.core.deleteNamespacedSecret({ name: secretName, namespace }).catch(() => undefined);
            return;
        case "editSecret": {
            // A tenant writes another credential into our Secret (`kubectl edit secret`).
            const secret = await context.core
                .readNamespacedSecret({ name: secretName, namespace })
                .catch(() => undefined);
            if (secret === undefined) return;
            const forged = { auths: { [registry]: { auth: Buffer.from("tenant:forged").toString("base64") } } };
            secret.data = { ".dockerconfigjson": Buffer.from(JSON.stringify(forged)).toString("base64") };
            await context.core.replaceNamespacedSecret({ name: secretName, namespace, body: secret });
            return;
        }
    }
}

/** Every name another owner listed is still listed; ours (`expectOurs`) exactly once, or not at all. */
async function assertEntries(
    context: Context,
    namespace: string,
    theirs: Set<string>,
    expectOurs: boolean,
): Promise<void> {
    const live = await clusterState(context.core).pullSecrets(namespace, "default");
    for (const name of theirs)
        assert.ok(live.includes(name), `${namespace}: another owner's ${name} is gone: ${JSON.stringify(live)}`);
    assert.equal(
        live.filter((name) => name === secretName).length,
        expectOurs ? 1 : 0,
        `${namespace}: ours in ${JSON.stringify(live)}`,
    );
    const unknown = live.filter((name) => name !== secretName && !theirs.has(name));
    assert.deepEqual(unknown, [], `${namespace}: names nobody listed`);
}

async function runSchedule(context: Context, index: number, steps: Step[]): Promise<void> {
    const { core, project } = context;
    const cli = project.cli;
    const stack = `s${index}`;
    const namespaceOf = (s: Slot) => `cli-${index}-${s}`;
    const foreign: Foreign = { a: new Set(), b: new Set(), c: new Set() };
    await clusterState(core).createNamespaces(slots.map(namespaceOf));
    // A Secret of another owner beside ours: nothing may write it.
    const theirsSecret = new Map<string, string>();
    for (const s of slots) {
        const made = await core.createNamespacedSecret({
            namespace: namespaceOf(s),
            body: { metadata: { name: "theirs-secret" }, stringData: { token: "not ours" } },
        });
        theirsSecret.set(namespaceOf(s), made.metadata!.resourceVersion!);
    }
    await cli.must(["stack", "init", stack]);
    await cli.must(
        ["config", "set", "--secret", "kubernetes:kubeconfig"],
        withContextLeadingNowhere(context.proxy.kubeconfig),
    );
    await cli.must(["config", "set", "kubernetes:context", "real"]);
    await cli.must(["config", "set", "kubernetes:enableSecretMutable", "true"]);
    await cli.must(["config", "set", "--path", "registries[0]", registry]);
    await cli.must(["config", "set", "registryUsername", username]);
    await cli.must(["config", "set", "--secret", "registryPassword"], password);
    const setNamespaces = (list: Slot[]) =>
        cli.must(["config", "set", "namespaces", JSON.stringify(list.map(namespaceOf))]);

    for (const step of steps) {
        if (step.kind === "up") {
            await setNamespaces(step.namespaces);
            await command(context, ["up", "--yes", "--skip-preview"], step.interrupt);
        } else if (step.kind === "refresh") {
            await command(context, ["refresh", "--yes", "--skip-preview"]);
        } else if (step.kind === "destroy") {
            await command(context, ["destroy", "--yes", "--skip-preview"], step.interrupt);
        } else {
            await tenantStep(context, namespaceOf, foreign, step);
        }
    }

    // What a user does to reach a known state: refresh (clearing what an interrupted run left pending), up everywhere.
    await setNamespaces([...slots]);
    await recovered(context, ["refresh", "--yes", "--skip-preview", "--clear-pending-creates"]);
    await recovered(context, ["up", "--yes", "--skip-preview"]);
    for (const s of slots) {
        await assertEntries(context, namespaceOf(s), foreign[s], true);
        const secret = await core.readNamespacedSecret({ name: secretName, namespace: namespaceOf(s) });
        const config = JSON.parse(dockerConfigOf(secret));
        assert.equal(
            Buffer.from(config.auths[registry].auth, "base64").toString(),
            `${username}:${password}`,
            `${namespaceOf(s)}: the Secret holds the stack's credential`,
        );
    }
    await recovered(context, ["preview", "--refresh", "--expect-no-changes"]);
    await recovered(context, ["destroy", "--yes", "--skip-preview"]);
    for (const s of slots) {
        const namespace = namespaceOf(s);
        await assertEntries(context, namespace, foreign[s], false);
        const names = await clusterState(core).secretNames(namespace);
        assert.ok(!names.includes(secretName), `${namespace}: our Secret is left after destroy`);
        const theirs = await core.readNamespacedSecret({ name: "theirs-secret", namespace });
        assert.equal(
            theirs.metadata!.resourceVersion,
            theirsSecret.get(namespace),
            `${namespace}: another owner's Secret was written`,
        );
    }
    await cli.must(["stack", "rm", "--yes", stack]);
    for (const output of context.outputs)
        assert.ok(!output.includes(password), "the password is in a command's output");
    context.outputs.length = 0;
}

/** Runs one given schedule (a named regression: a shrunk schedule the campaign found) on stack `s<index>`. */
export async function runOneSchedule(
    cluster: RealCluster,
    core: CoreV1Api,
    project: TypeScriptProject,
    index: number,
    steps: Step[],
): Promise<CliCampaignReport> {
    const report: CliCampaignReport = { schedules: 1, commands: 0, events: {} };
    const proxy = await holdingProxy(cluster);
    try {
        await runSchedule({ cluster, proxy, core, project, report, outputs: [] }, index, steps);
    } finally {
        await proxy.close();
    }
    return report;
}

/**
 * Runs `runs` generated schedules, each on a new stack and new namespaces of `cluster`, through the CLI
 * of `project`. A failure throws fast-check's report: the seed, the shrunk schedule, the assertion.
 */
export async function runCliCampaign(
    cluster: RealCluster,
    core: CoreV1Api,
    project: TypeScriptProject,
    options: { runs: number; seed?: number; log?: (line: string) => void },
): Promise<CliCampaignReport> {
    const report: CliCampaignReport = { schedules: 0, commands: 0, events: {} };
    const proxy = await holdingProxy(cluster);
    const context: Context = { cluster, proxy, core, project, report, outputs: [], log: options.log };
    let index = 0;
    try {
        await fc.assert(
            fc.asyncProperty(schedules, async (steps) => {
                index++;
                report.schedules++;
                options.log?.(`schedule ${index}: ${JSON.stringify(steps)}`);
                try {
                    await runSchedule(context, index, steps);
                } catch (error) {
                    writeFileSync(path.join(project.dir, `failed-schedule-${index}.json`), JSON.stringify(steps));
                    throw error;
                }
            }),
            { numRuns: options.runs, seed: options.seed, endOnFailure: false, verbose: 1 },
        );
    } finally {
        await proxy.close();
    }
    return report;
}
