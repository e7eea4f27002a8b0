/**
 * The provider of `PullReadiness` (components/credential/pull-readiness.ts), loaded by package name in
 * Pulumi's dynamic-provider process (components/cluster/provider-by-name.ts). Its create, and its update
 * when the credential changed, return only once the credential pulls: with the exact username and
 * password the docker config holds, each listed host must sign the credential in and grant pull on each
 * listed repository (components/rules/readiness.ts says which; components/rules/pull-proof.ts asks, as
 * `docker pull` does).
 *
 * It tries again after 1, 2, 4, 8, then every 10 s, logs on the component every 20 s what it waits
 * for, and fails after `timeoutSeconds` naming each host and repository still refusing and why. It
 * never prints the credential: reasons are the registry's words with the credential cut out.
 */
import { randomBytes, scryptSync } from "node:crypto";
import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";
import { refuseImport } from "../cluster/cluster-connection";
import { probeHost, type PullProofWorld } from "../rules/pull-proof";
import { progressEveryMs, retryDelayMs, timeoutMessage, waitingMessage, type ReadinessProbe } from "../rules/readiness";

export interface PullReadinessInputs {
    /** The docker config's username for every listed host. */
    username: string;
    /** Its password (a key file in base64, a password, a token): a secret, never logged. */
    password: string;
    probes: ReadinessProbe[];
    timeoutSeconds: number;
    /** The component's URN, which the progress lines are logged on. */
    component: string;
}

/**
 * What the state keeps: never the password. The Node.js SDK's debug diagnostic of a registration quotes
 * its outputs in plain text, secret or not (@pulumi/pulumi runtime/resource.js), so the credential is
 * kept only as a salted scrypt digest, enough to tell a new credential from the one proved.
 */
export interface PullReadinessOutputs extends Omit<PullReadinessInputs, "password"> {
    /** scrypt of `username:password` with `salt`, hex. */
    credentialDigest: string;
    salt: string;
    /** How long the last proof waited, in ms: 0 when the credential pulled at the first try. */
    waitedMs: number;
}

const digest = (inputs: PullReadinessInputs, salt: string) =>
    scryptSync(`${inputs.username}:${inputs.password}`, salt, 32).toString("hex");

/** The state of a proved credential, without its password. */
function proved(inputs: PullReadinessInputs, waitedMs: number): PullReadinessOutputs {
    const rest: Partial<PullReadinessInputs> = { ...inputs };
    delete rest.password;
    const salt = randomBytes(16).toString("hex");
    return {
        ...(rest as Omit<PullReadinessInputs, "password">),
        credentialDigest: digest(inputs, salt),
        salt,
        waitedMs,
    };
}

/** Whether `news` asks to prove something else than `olds` proved: another credential or other probes. */
const provesAnew = (olds: PullReadinessOutputs, news: PullReadinessInputs) =>
    digest(news, olds.salt) !== olds.credentialDigest || JSON.stringify(olds.probes) !== JSON.stringify(news.probes);

/** What the provider does to the world, as parameters so tests can run it on a fake clock and network. */
export interface ReadinessWorld extends PullProofWorld {
    sleep: (ms: number) => Promise<unknown>;
    now: () => number;
    log: (message: string, component: string) => Promise<void>;
}

/** Tries every probe until none refuses, or throws the deadline's error; returns how long it waited, in ms. */
export async function waitUntilPulls(world: ReadinessWorld, inputs: PullReadinessInputs): Promise<number> {
    const started = world.now();
    const deadline = started + inputs.timeoutSeconds * 1000;
    let loggedAt = -Infinity;
    for (let attempt = 0; ; attempt++) {
        const refusals = (
            await Promise.all(inputs.probes.map((p) => probeHost(world, p, inputs.username, inputs.password)))
        ).flat();
        const now = world.now();
        if (refusals.length === 0) {
            if (attempt > 0) {
                await world.log(
                    `the new credential pulls from ${inputs.probes.map((p) => p.host).join(", ")} after ${Math.round((now - started) / 1000)} s`,
                    inputs.component,
                );
            }
            return now - started;
        }
        if (now >= deadline) throw new Error(timeoutMessage(refusals, inputs.timeoutSeconds));
        if (now - loggedAt >= progressEveryMs) {
            await world.log(waitingMessage(refusals[0], now - started), inputs.component);
            loggedAt = now;
        }
        await world.sleep(Math.min(retryDelayMs(attempt), deadline - now));
    }
}

/** The provider, with the world it acts on as a parameter. */
export function pullReadinessProvider(world: ReadinessWorld = realWorld()): pulumi.dynamic.ResourceProvider {
    return {
        diff: (_id, olds: PullReadinessOutputs, news: PullReadinessInputs) =>
            Promise.resolve({
                changes: provesAnew(olds, news) || olds.timeoutSeconds !== news.timeoutSeconds,
                replaces: [],
                deleteBeforeReplace: false,
            }),
        create: async (inputs: PullReadinessInputs) => ({
            id: "pull-readiness",
            outs: proved(inputs, await waitUntilPulls(world, inputs)),
        }),
        read: async (id, props: PullReadinessOutputs) => {
            refuseImport("PullReadiness", props);
            return Promise.resolve({ id, props });
        },
        update: async (_id, olds: PullReadinessOutputs, news: PullReadinessInputs) => ({
            // A changed deadline alone proves nothing new.
            outs: provesAnew(olds, news)
                ? proved(news, await waitUntilPulls(world, news))
                : { ...olds, timeoutSeconds: news.timeoutSeconds },
        }),
        delete: () => Promise.resolve(),
    };
}

/**
 * A log line on `component` through the engine: `pulumi.log` where the SDK knows the engine (the
 * plugin, provider.ts), else straight to the engine address Pulumi's dynamic-provider host was started
 * with (its last argument: pulumi/pulumi sdk/go/common/resource/plugin/plugin.go puts flags first),
 * which that host does not hand to the SDK (@pulumi/pulumi cmd/dynamic-provider/index.js `main`).
 */
async function engineLog(message: string, component: string): Promise<void> {
    const resource = { urn: pulumi.output(component) } as unknown as pulumi.Resource;
    if (pulumi.runtime.hasEngine()) return pulumi.log.info(message, resource);
    const address = process.argv.slice(2).findLast((arg) => /^[^-][^\s]*:\d+$/.test(arg));
    if (address === undefined) return;
    const sdk = createRequire(require.resolve("@pulumi/pulumi"));
    const grpc = sdk("@grpc/grpc-js") as { credentials: { createInsecure(): unknown } };
    const { EngineClient } = sdk("./proto/engine_grpc_pb") as {
        EngineClient: new (
            address: string,
            credentials: unknown,
        ) => {
            log(request: unknown, done: () => void): void;
            close(): void;
        };
    };
    const proto = sdk("./proto/engine_pb") as {
        LogRequest: new () => { setSeverity(s: number): void; setMessage(m: string): void; setUrn(u: string): void };
        LogSeverity: { INFO: number };
    };
    const client = new EngineClient(address, grpc.credentials.createInsecure());
    const request = new proto.LogRequest();
    request.setSeverity(proto.LogSeverity.INFO);
    request.setMessage(message);
    request.setUrn(component);
    await new Promise<void>((resolve) => client.log(request, () => resolve()));
    client.close();
}

function realWorld(): ReadinessWorld {
    return {
        fetch: (...args) => fetch(...args),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        now: Date.now,
        log: (message, component) => engineLog(message, component).catch(() => undefined),
    };
}

/** The one provider the dynamic-provider process uses. */
export const provider = pullReadinessProvider();
