/**
 * The token refresher (components/refresher/token-refresher.ts) run in this test process against DOUBLES: of
 * the metadata server, STS and IAM Credentials (test/support/google-token-doubles.ts) and of the
 * Kubernetes API server (test/support/api-server-double.ts). Time is a manual clock: the refresher
 * waits on it between rounds, so "an hour later" is one call, not a sleep. The readiness endpoint is
 * real HTTP on loopback (IPv4 and IPv6).
 *
 * The tests speak to the cluster through {@link Cluster} only, so a real API server (a URL, a token
 * with the refresher's RBAC and an admin connection for setup) can implement it later.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { dockerConfigJson } from "../../components/rules/docker-config";
import {
    artifactRegistryScope,
    isReady,
    refreshDelayMs,
    retryDelayMs,
    startRefresher,
    systemClock,
    timing,
    type Endpoints,
    type LogFields,
    type Refresher,
    type RefresherConfig,
} from "../../components/refresher/token-refresher";
import { ownerIdOf, ownershipKeys } from "../../components/rules/ownership";
import { startApiServerDouble, type ApiServerDouble, type EventObject } from "../support/api-server-double";
import { startTokenRegistryDouble } from "../support/token-registry-double";
import {
    ManualClock,
    startIamCredentialsDouble,
    startMetadataServerDouble,
    startStsDouble,
    type TokenDouble,
} from "../support/google-token-doubles";

/** The component's owner id, and another component's. */
const owner = ownerIdOf("urn:pulumi:dev::app::registry-pull-secret:index:RegistryPullSecret::regcred");
const otherOwner = ownerIdOf("urn:pulumi:prod::app::registry-pull-secret:index:RegistryPullSecret::regcred");
const ourLabels = (id = owner) => ({
    [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value,
    [ownershipKeys.secretOwner]: id,
});
const deployment = { namespace: "regcred-refresher-0a1b2c3d", name: "token-refresher" };
const deploymentUid = "5f0c6f4e-uid-of-the-deployment";

/** What the tests need from a cluster. */
interface Cluster {
    url: string;
    /** Creates the empty Secret the component declares for the refresher. */
    declareSecret(namespace: string, name: string, labels?: Record<string, string>): void;
    /** The Secret's decoded `.dockerconfigjson` and annotations, `undefined` when it is gone. */
    read(namespace: string, name: string): { config: string; annotations: Record<string, string> } | undefined;
    remove(namespace: string, name: string): void;
    forbid(namespace: string, name: string): void;
    allow(namespace: string, name: string): void;
    /** Methods and paths the refresher sent, e.g. `PATCH /api/v1/...`. */
    requests(): string[];
    bearers(): string[];
    /** The next requests for this Secret answer these statuses. */
    failNext(namespace: string, name: string, ...statuses: number[]): void;
    /** Makes the Secret immutable, as its namespace's owner may. */
    makeImmutable(namespace: string, name: string): void;
    /** The Events the refresher reported. */
    reported(): EventObject[];
    /** TCP connections and the most concurrent requests the API server saw. */
    load(): { connections: number; mostInFlight: number };
}

async function newCluster(): Promise<Cluster> {
    const api = await startApiServerDouble();
    api.putDeployment(deployment.namespace, deployment.name, deploymentUid);
    running.push({ stop: () => api.close() });
    return doubleCluster(api);
}

function doubleCluster(api: ApiServerDouble): Cluster {
    return {
        url: api.url,
        declareSecret: (namespace, name, labels = ourLabels()) =>
            api.putSecret({
                metadata: { name, namespace, labels },
                type: "kubernetes.io/dockerconfigjson",
                data: { ".dockerconfigjson": Buffer.from('{"auths":{}}').toString("base64") },
            }),
        read: (namespace, name) => {
            const secret = api.secret(namespace, name);
            if (!secret) return undefined;
            return {
                config: Buffer.from(secret.data![".dockerconfigjson"], "base64").toString("utf8"),
                annotations: secret.metadata.annotations ?? {},
            };
        },
        remove: (namespace, name) => api.deleteSecret(namespace, name),
        forbid: (namespace, name) => api.forbidSecret(namespace, name),
        allow: (namespace, name) => api.allowSecret(namespace, name),
        requests: () => api.log,
        bearers: () => api.bearers,
        failNext: (namespace, name, ...statuses) => api.failSecretNext(namespace, name, ...statuses),
        makeImmutable: (namespace, name) => api.putSecret({ ...api.secret(namespace, name)!, immutable: true }),
        reported: () => api.events,
        load: () => ({ connections: api.connections(), mostInFlight: api.mostInFlight() }),
    };
}

const registries = ["asia-northeast1-docker.pkg.dev", "gcr.io"];
const targets = [
    { namespace: "team-a", secretName: "regcred" },
    { namespace: "team-b", secretName: "regcred" },
];
const serviceAccountToken = "kubernetes-sa-token-of-the-refresher";

/** Every log line of every refresher in this file: none may hold any token a double issued. */
const allLogLines: string[] = [];
const allDoubles: TokenDouble[] = [];
const running: { stop(): Promise<unknown> }[] = [];
afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
});

/** Polls (real time, 5 ms steps) until `check` holds; the refresher's HTTP calls are real I/O. */
async function until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
}

interface Setup {
    clock: ManualClock;
    cluster: Cluster;
    refresher: Refresher;
    metadata: TokenDouble;
    events: { event: string; fields: LogFields }[];
    /** Waits until the refresher has finished a round and sleeps on the clock. */
    round(): Promise<void>;
    /** Moves the clock to the refresher's next wake-up and waits for that round. */
    nextRound(): Promise<void>;
    readyz(): Promise<number>;
    /** Each Secret's state, as the logs and Events tell it (`GET /status` gives counts only). */
    statusz(): Promise<{ ready: boolean; targets: { namespace: string; state: string; reason?: string }[] }>;
    tokenIn(namespace: string, name: string): string | undefined;
}

/** The config of a refresher on GKE for {@link targets}, proving nothing before it writes (`probes: []`). */
const gkeConfig = (): RefresherConfig => ({
    targets,
    registries,
    probes: [],
    identity: { source: "gkeMetadata" },
    port: 0,
    owner,
    deployment,
});

async function setup(options: {
    config?: Partial<RefresherConfig>;
    endpoints?: Partial<Endpoints>;
    metadata?: TokenDouble;
    clock?: ManualClock;
    /** A cluster prepared by the test; default: a new one holding the component's empty Secrets. */
    cluster?: Cluster;
    /** Default 127.0.0.1; `null`: the refresher's own default (every address). */
    host?: string | null;
    requestTimeoutMs?: number;
}): Promise<Setup> {
    const clock = options.clock ?? new ManualClock();
    const cluster = options.cluster ?? (await newCluster());
    if (options.cluster === undefined) for (const t of targets) cluster.declareSecret(t.namespace, t.secretName);
    const metadata = options.metadata ?? (await startMetadataServerDouble(clock.now));
    allDoubles.push(metadata);
    running.push({ stop: () => metadata.close() });
    const events: Setup["events"] = [];
    const refresher = await startRefresher({
        config: { ...gkeConfig(), ...options.config },
        endpoints: {
            metadataServer: metadata.url,
            sts: "http://127.0.0.1:9",
            iamCredentials: "http://127.0.0.1:9",
            kubernetes: { url: cluster.url, token: () => serviceAccountToken },
            ...options.endpoints,
        },
        clock,
        ...(options.host === null ? {} : { host: options.host ?? "127.0.0.1" }),
        ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
        log: (event, fields = {}) => {
            events.push({ event, fields });
            allLogLines.push(JSON.stringify({ event, ...fields }));
        },
    });
    running.unshift(refresher);
    const round = () => until(() => clock.waiting === 1, "the refresher to finish a round");
    await round();
    return {
        clock,
        cluster,
        refresher,
        metadata,
        events,
        round,
        async nextRound() {
            clock.advance(clock.nextWakeInMs!);
            await round();
        },
        readyz: () => fetch(`http://127.0.0.1:${refresher.port}/readyz`).then((r) => r.status),
        statusz: () => Promise.resolve({ ready: refresher.ready(), targets: refresher.targets() }),
        tokenIn(namespace, name) {
            const read = cluster.read(namespace, name);
            if (!read) return undefined;
            const auths = JSON.parse(read.config).auths as Record<string, { username: string; password: string }>;
            return auths[registries[0]]?.password;
        },
    };
}

describe("the refresher's system clock", () => {
    it("sleeps a delay longer than a Node.js timer holds (2^31-1 ms) as long as a timer can, not for 1 ms", async () => {
        const stop = new AbortController();
        let woke = false;
        const sleeping = systemClock.sleep(2 ** 32, stop.signal).then(() => (woke = true));
        await new Promise((done) => setTimeout(done, 50));
        assert.equal(woke, false);
        stop.abort();
        await sleeping;
        assert.equal(woke, true);
    });
});

describe("token refresher rules", () => {
    it("refreshes at a third of the token's remaining lifetime", () => {
        assert.equal(refreshDelayMs(3_600_000), 1_200_000);
        assert.equal(refreshDelayMs(300_000), 100_000);
    });
    it("backs off 1 s, 2 s, 4 s ... up to 60 s, never past the planned refresh", () => {
        assert.deepEqual(
            [1, 2, 3, 4, 7, 8, 20].map((n) => retryDelayMs(n)),
            [1_000, 2_000, 4_000, 8_000, 60_000, 60_000, 60_000],
        );
        assert.equal(retryDelayMs(7, 5_000), 5_000);
    });
    it("is ready when no Secret waits for its first token and every written token is valid; a broken Secret holds nothing back", () => {
        const written = (expiresAtMs: number) => ({ state: "written", expiresAtMs }) as const;
        const broken = { state: "broken", reason: "missing" } as const;
        const pending = { state: "pending" } as const;
        assert.equal(isReady([written(10), written(20)], 5), true);
        assert.equal(isReady([written(10), written(20)], 10), false, "an expired token");
        assert.equal(isReady([written(10), pending], 5), false, "a Secret waits for its first token");
        assert.equal(isReady([written(10), broken], 5), true, "a broken Secret is settled");
        assert.equal(isReady([broken, pending], 5), false);
        assert.equal(isReady([], 5), false);
    });
});

describe("token refresher on GKE (metadata server double)", () => {
    it("writes the first token into every Secret, kubectl-encoded as oauth2accesstoken, then turns ready", async () => {
        const s = await setup({});
        assert.equal(s.metadata.issued.length, 1);
        const [issued] = s.metadata.issued;
        const expected = dockerConfigJson(
            registries.map((server) => ({ server, username: "oauth2accesstoken", password: issued.token })),
        );
        for (const t of targets) {
            const read = s.cluster.read(t.namespace, t.secretName)!;
            assert.equal(read.config, expected);
            assert.equal(read.annotations[ownershipKeys.tokenExpiresAt], new Date(issued.expiresAtMs).toISOString());
        }
        assert.equal(s.refresher.ready(), true);
        assert.equal(await s.readyz(), 200);
        // Every API request carried the refresher's own ServiceAccount token; only GET and PATCH were sent.
        assert.ok(s.cluster.bearers().every((b) => b === serviceAccountToken));
        assert.deepEqual([...new Set(s.cluster.requests().map((r) => r.split(" ")[0]))].sort(), ["GET", "PATCH"]);
    });

    it("asks the metadata server for the narrowest scope Artifact Registry accepts (devstorage.read_only), and writes that token", async () => {
        const s = await setup({});
        assert.deepEqual(s.metadata.issued[0].scopes, [artifactRegistryScope]);
        assert.equal(artifactRegistryScope, "https://www.googleapis.com/auth/devstorage.read_only");
    });

    it("answers the readiness probe on IPv4 and IPv6 loopback alike when it listens on its default (every) address", async () => {
        const s = await setup({ host: null });
        for (const host of ["127.0.0.1", "[::1]"]) {
            const answer = await fetch(`http://${host}:${s.refresher.port}/readyz`);
            assert.equal(answer.status, 200, host);
        }
    });

    it("GET /status and GET /readyz, which any pod may ask, count Secrets by state and name no namespace or Secret", async () => {
        const clock = new ManualClock();
        const metadata = await startMetadataServerDouble(clock.now);
        metadata.failNext(503);
        const s = await setup({ clock, metadata });
        const base = `http://127.0.0.1:${s.refresher.port}`;
        const notReady = await (await fetch(`${base}/readyz`)).text();
        assert.equal(notReady, "not ready: 2 pending, 0 expired\n");
        await s.nextRound();
        const status = await (await fetch(`${base}/status`)).text();
        assert.deepEqual(JSON.parse(status), {
            ready: true,
            states: { pending: 0, written: 2, expired: 0, broken: 0 },
            tokenPulls: true,
        });
        for (const target of s.refresher.targets()) {
            for (const answer of [status, notReady]) {
                assert.ok(!answer.includes(target.namespace) && !answer.includes(target.secretName), answer);
            }
        }
    });

    it("is not ready before the first token is written (a refresher whose endpoint fails)", async () => {
        const clock = new ManualClock();
        const metadata = await startMetadataServerDouble(clock.now);
        metadata.failNext(503);
        const s = await setup({ clock, metadata });
        assert.equal(s.refresher.ready(), false);
        assert.equal(await s.readyz(), 503);
        assert.equal(s.cluster.read("team-a", "regcred")!.config, '{"auths":{}}');
        await s.nextRound();
        assert.equal(await s.readyz(), 200);
    });

    it("refreshes at a third of the lifetime: a new token replaces the old one in every Secret", async () => {
        const s = await setup({});
        assert.equal(s.clock.nextWakeInMs, 1_200_000, "an hour's token is refreshed after 20 minutes");
        const first = s.metadata.issued[0].token;
        await s.nextRound();
        const second = s.metadata.issued[1].token;
        assert.notEqual(second, first);
        for (const t of targets) assert.equal(s.tokenIn(t.namespace, t.secretName), second);
        assert.equal(s.refresher.ready(), true);
    });

    it("never writes a nearly expired token: it asks again soon and writes the fresh one", async () => {
        const clock = new ManualClock();
        const metadata = await startMetadataServerDouble(clock.now, 30);
        const s = await setup({ clock, metadata });
        assert.equal(s.cluster.read("team-a", "regcred")!.config, '{"auths":{}}', "the 30 s token was not written");
        assert.ok(s.events.some((e) => e.event === "token-nearly-expired" && e.fields.expiresInSeconds === 30));
        assert.equal(s.clock.nextWakeInMs, timing.firstRetryMs);
        metadata.lifetimeSeconds = 3600;
        await s.nextRound();
        assert.equal(s.tokenIn("team-a", "regcred"), metadata.issued[1].token);
    });

    it("uses a token's remaining lifetime: one with 10 minutes left is refreshed after 200 s", async () => {
        const clock = new ManualClock();
        const metadata = await startMetadataServerDouble(clock.now, 600);
        const s = await setup({ clock, metadata });
        assert.equal(s.tokenIn("team-a", "regcred"), metadata.issued[0].token);
        assert.equal(s.clock.nextWakeInMs, 200_000);
    });

    it("backs off while the endpoint fails, stays ready on the still-valid token, and recovers", async () => {
        const s = await setup({});
        const first = s.metadata.issued[0];
        s.metadata.failNext(503, 500, 429);
        const waits: number[] = [];
        for (let i = 0; i < 3; i++) {
            await s.nextRound();
            waits.push(s.clock.nextWakeInMs!);
            assert.equal(s.refresher.ready(), true, "the written token is still valid");
        }
        assert.deepEqual(waits, [1_000, 2_000, 4_000]);
        await s.nextRound();
        assert.equal(s.tokenIn("team-a", "regcred"), s.metadata.issued[1].token);
        assert.notEqual(s.metadata.issued[1].token, first.token);
        assert.equal(s.clock.nextWakeInMs, 1_200_000, "back on schedule after recovery");
    });

    it("never writes a malformed answer (not JSON, no expires_in, empty token): it retries with backoff", async () => {
        const answers = [
            "<html>proxy error</html>",
            '{"access_token":"ya29.x"}',
            '{"access_token":"","expires_in":3600}',
        ];
        // A metadata server double that answers 200 with these bodies, one per request.
        const garbage = http.createServer((_req, res) => res.writeHead(200).end(answers.shift() ?? "{}"));
        await new Promise<void>((done) => garbage.listen(0, "127.0.0.1", done));
        running.push({ stop: () => new Promise<void>((done) => garbage.close(() => done())) });
        const url = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`;
        const s = await setup({ endpoints: { metadataServer: url } });
        await s.nextRound();
        await s.nextRound();
        assert.deepEqual(
            s.events.filter((e) => e.event === "token-failed").map((e) => e.fields.code),
            ["malformed_answer", "no_expires_in", "no_access_token"],
        );
        assert.equal(s.cluster.read("team-a", "regcred")!.config, '{"auths":{}}');
        assert.equal(s.refresher.ready(), false);
        assert.equal(s.clock.nextWakeInMs, 4_000);
    });

    it("takes a JSON answer that is not an object (null, a list, a number) for a malformed one: retried, the loop goes on, and a good answer is written", async () => {
        const answers = ["null", "[]", "42"];
        const garbage = http.createServer((_req, res) =>
            res.writeHead(200).end(answers.shift() ?? '{"access_token":"ya29.after-garbage","expires_in":3600}'),
        );
        await new Promise<void>((done) => garbage.listen(0, "127.0.0.1", done));
        running.push({ stop: () => new Promise<void>((done) => garbage.close(() => done())) });
        const url = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`;
        const s = await setup({ endpoints: { metadataServer: url } });
        for (let i = 0; i < 3; i++) await s.nextRound();
        assert.deepEqual(
            s.events.filter((e) => e.event === "token-failed").map((e) => e.fields.code),
            ["malformed_answer", "malformed_answer", "malformed_answer"],
        );
        assert.equal(s.tokenIn("team-a", "regcred"), "ya29.after-garbage");
        assert.equal(s.refresher.ready(), true);
    });

    it("takes a token said to live 100 days for one of 12 hours: the next refresh is due in 4 hours, not a timer that overflows to 1 ms", async () => {
        const clock = new ManualClock();
        const metadata = await startMetadataServerDouble(clock.now, 100 * 86_400);
        const s = await setup({ clock, metadata });
        assert.equal(s.tokenIn("team-a", "regcred"), metadata.issued[0].token);
        assert.equal(s.clock.nextWakeInMs, 4 * 3_600_000);
    });

    it("gives up a request at its overall deadline: a server sending a byte every 100 ms cannot hold a round", async () => {
        // Answers 200 and then trickles one space every 100 ms, never ending: an idle timeout never fires.
        const trickle = http.createServer((_req, res) => {
            res.writeHead(200, { "content-type": "application/json" });
            const timer = setInterval(() => res.write(" "), 100);
            res.on("close", () => clearInterval(timer));
        });
        await new Promise<void>((done) => trickle.listen(0, "127.0.0.1", done));
        running.push({
            stop: () =>
                new Promise<void>((done) => {
                    trickle.closeAllConnections();
                    trickle.close(() => done());
                }),
        });
        const url = `http://127.0.0.1:${(trickle.address() as AddressInfo).port}`;
        const started = Date.now();
        const s = await setup({ endpoints: { metadataServer: url }, requestTimeoutMs: 400 });
        const took = Date.now() - started;
        assert.ok(
            s.events.some((e) => e.event === "token-failed" && e.fields.code === "timeout"),
            JSON.stringify(s.events),
        );
        assert.ok(took < 3_000, `the round ended after ${took} ms`);
        assert.equal(s.clock.nextWakeInMs, 1_000, "and the loop goes on");
    });

    it("stops promptly when asked during a round (SIGTERM), instead of sleeping until the next refresh", async () => {
        const cluster = await newCluster();
        for (const t of targets) cluster.declareSecret(t.namespace, t.secretName);
        // The real clock, as in the container: a sleep it starts is a real timer.
        const metadata = await startMetadataServerDouble(Date.now);
        running.push({ stop: () => metadata.close() });
        // The metadata server answers after 200 ms: the stop below lands while the round runs.
        const slow = http.createServer((req, res) =>
            setTimeout(() => {
                const forwarded = http.request(`${metadata.url}${req.url}`, { headers: req.headers }, (answer) => {
                    res.writeHead(answer.statusCode ?? 500, answer.headers);
                    answer.pipe(res);
                });
                forwarded.end();
            }, 200),
        );
        await new Promise<void>((done) => slow.listen(0, "127.0.0.1", done));
        running.push({ stop: () => new Promise<void>((done) => slow.close(() => done())) });
        const refresher = await startRefresher({
            config: gkeConfig(),
            endpoints: {
                metadataServer: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`,
                sts: "http://127.0.0.1:9",
                iamCredentials: "http://127.0.0.1:9",
                kubernetes: { url: cluster.url, token: () => serviceAccountToken },
            },
            host: "127.0.0.1",
            log: () => undefined,
        });
        const stopped = refresher.stop().then(() => "stopped");
        const waited = new Promise((resolve) => setTimeout(() => resolve("still sleeping"), 3_000));
        assert.equal(
            await Promise.race([stopped, waited]),
            "stopped",
            "not after the 20-minute sleep that follows a round",
        );
    });

    it("turns not-ready once the written token has expired while the endpoint keeps failing", async () => {
        const s = await setup({});
        s.metadata.failNext(...Array(200).fill(503));
        const expiresAt = s.metadata.issued[0].expiresAtMs;
        while (s.clock.now() + s.clock.nextWakeInMs! < expiresAt) await s.nextRound();
        assert.equal(s.refresher.ready(), true);
        await s.nextRound();
        assert.ok(s.clock.now() >= expiresAt);
        assert.equal(s.refresher.ready(), false);
        assert.equal(await s.readyz(), 503);
        assert.deepEqual(
            (await s.statusz()).targets.map((t) => t.state),
            ["expired", "expired"],
        );
        assert.ok(s.clock.nextWakeInMs! <= 60_000, "still retrying at most a minute apart");
    });

    it("a ServiceAccount token file it cannot read fails the round's writes, never the loop, and it recovers", async () => {
        const cluster = await newCluster();
        for (const t of targets) cluster.declareSecret(t.namespace, t.secretName);
        let readable = false;
        const token = () => {
            if (!readable) throw Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });
            return serviceAccountToken;
        };
        const s = await setup({ cluster, endpoints: { kubernetes: { url: cluster.url, token } } });
        assert.ok(
            s.events.some(
                (e) =>
                    e.event === "secret-write-failed" &&
                    e.fields.step === "service-account-token" &&
                    e.fields.code === "ENOENT",
            ),
        );
        assert.ok(!s.events.some((e) => e.event === "crashed"));
        assert.equal(s.refresher.ready(), false, "the Secrets wait for their first token");
        readable = true;
        await s.nextRound();
        assert.equal(s.tokenIn("team-a", "regcred"), s.metadata.issued[0].token);
        assert.equal(s.refresher.ready(), true);
    });
});

describe("token refresher at scale", () => {
    it("writes 60 Secrets at most 8 at a time, over a few kept-alive connections, not one connection and burst per Secret", async () => {
        const many = Array.from({ length: 60 }, (_, i) => ({ namespace: `team-${i}`, secretName: "regcred" }));
        const cluster = await newCluster();
        for (const t of many) cluster.declareSecret(t.namespace, t.secretName);
        const s = await setup({ cluster, config: { targets: many } });
        for (const t of many) assert.equal(s.tokenIn(t.namespace, t.secretName), s.metadata.issued[0].token);
        assert.equal(s.refresher.ready(), true);
        const { connections, mostInFlight } = cluster.load();
        assert.ok(
            mostInFlight <= timing.concurrentWrites,
            `at most ${timing.concurrentWrites} at once, saw ${mostInFlight}`,
        );
        // A GET and a PATCH per Secret, plus the Deployment and Events: 120+ requests over <= 8 connections.
        assert.ok(connections <= timing.concurrentWrites, `${connections} connections`);
        await s.nextRound();
        assert.ok(cluster.load().connections <= 2 * timing.concurrentWrites, "the next round reuses them");
    });

    it("gives up an answer larger than 1 MiB (a broken or hostile peer) as a failed step, and goes on", async () => {
        const huge = http.createServer((_req, res) => {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(`{"access_token":"${"x".repeat(2 * 1_048_576)}","expires_in":3600}`);
        });
        await new Promise<void>((done) => huge.listen(0, "127.0.0.1", done));
        running.push({ stop: () => new Promise<void>((done) => huge.close(() => done())) });
        const url = `http://127.0.0.1:${(huge.address() as AddressInfo).port}`;
        const s = await setup({ endpoints: { metadataServer: url } });
        assert.deepEqual(
            s.events.filter((e) => e.event === "token-failed").map((e) => e.fields.code),
            ["answer_too_large"],
        );
        assert.equal(s.refresher.ready(), false);
        assert.equal(s.clock.nextWakeInMs, 1_000);
    });
});

describe("token refresher readiness with Secrets their namespaces broke", () => {
    it("a Secret whose write is forbidden (RBAC removed) is reported (log, Event on the Deployment, /status) and the refresher stays ready", async () => {
        const cluster = await newCluster();
        for (const t of targets) cluster.declareSecret(t.namespace, t.secretName);
        cluster.forbid("team-b", "regcred");
        const s = await setup({ cluster });
        assert.equal(tokenOf(cluster, "team-a"), s.metadata.issued[0].token);
        assert.equal(cluster.read("team-b", "regcred")!.config, '{"auths":{}}');
        assert.equal(s.refresher.ready(), true, "team-a is not held hostage by team-b");
        assert.equal(await s.readyz(), 200);
        assert.ok(s.events.some((e) => e.event === "secret-broken" && e.fields.reason === "forbidden"));
        const [event] = cluster.reported();
        assert.deepEqual(
            { ...event.involvedObject, type: event.type, reason: event.reason, namespace: event.metadata.namespace },
            {
                apiVersion: "apps/v1",
                kind: "Deployment",
                name: deployment.name,
                namespace: deployment.namespace,
                uid: deploymentUid,
                type: "Warning",
                reason: "PullSecretBroken",
            },
        );
        assert.match(event.message, /^Secret team-b\/regcred: writing it is forbidden \(403\)/);
        assert.deepEqual((await s.statusz()).targets, [
            {
                namespace: "team-a",
                secretName: "regcred",
                state: "written",
                expiresAt: new Date(s.metadata.issued[0].expiresAtMs).toISOString(),
            },
            {
                namespace: "team-b",
                secretName: "regcred",
                state: "broken",
                reason: "forbidden",
                detail: "writing it is forbidden (403): its Role or RoleBinding is missing",
            },
        ]);
        // Retried, reported once, and written once allowed again.
        await s.nextRound();
        assert.equal(cluster.reported().length, 1, "one Event per change, not per retry");
        cluster.allow("team-b", "regcred");
        await s.nextRound();
        assert.equal(tokenOf(cluster, "team-b"), s.metadata.issued[0].token, "the held token, not a new one");
        assert.equal(s.metadata.issued.length, 1, "retries between refreshes reuse the token");
        assert.equal(cluster.reported().at(-1)!.reason, "PullSecretRecovered");
    });

    it("a Secret deleted behind its back: reported, never re-created by the refresher, written when declared again; ready throughout", async () => {
        const s = await setup({});
        s.cluster.remove("team-b", "regcred");
        await s.nextRound();
        assert.equal(s.cluster.read("team-b", "regcred"), undefined);
        assert.equal(s.refresher.ready(), true);
        assert.ok(
            s.events.some(
                (e) => e.event === "secret-broken" && e.fields.reason === "missing" && e.fields.namespace === "team-b",
            ),
        );
        assert.ok(
            !s.cluster.requests().some((r) => r.startsWith("POST /api/v1/namespaces/team-b")),
            "the refresher cannot create Secrets",
        );
        // What `pulumi refresh` then `pulumi up` does: the component declares the empty Secret again.
        s.cluster.declareSecret("team-b", "regcred");
        await s.nextRound();
        assert.equal(s.tokenIn("team-b", "regcred"), s.metadata.issued.at(-1)!.token);
        assert.equal(s.refresher.ready(), true);
    });

    it("a Secret made immutable by its namespace: the write is rejected (422), reported, and the others stay fresh and ready", async () => {
        const s = await setup({});
        s.cluster.makeImmutable("team-b", "regcred");
        await s.nextRound();
        assert.equal(s.tokenIn("team-a", "regcred"), s.metadata.issued[1].token);
        assert.equal(s.tokenIn("team-b", "regcred"), s.metadata.issued[0].token, "unchanged");
        assert.ok(s.events.some((e) => e.event === "secret-broken" && e.fields.reason === "rejected"));
        assert.equal(s.refresher.ready(), true);
    });

    it("still waits for the FIRST token of a Secret Pulumi just created: a transient failure there keeps it not ready, even beside a broken one", async () => {
        const cluster = await newCluster();
        for (const t of targets) cluster.declareSecret(t.namespace, t.secretName);
        cluster.forbid("team-a", "regcred");
        cluster.failNext("team-b", "regcred", 503);
        const s = await setup({ cluster });
        assert.equal(s.refresher.ready(), false);
        assert.equal(await s.readyz(), 503);
        assert.deepEqual(
            (await s.statusz()).targets.map((t) => [t.namespace, t.state]),
            [
                ["team-a", "broken"],
                ["team-b", "pending"],
            ],
        );
        await s.nextRound();
        assert.equal(tokenOf(cluster, "team-b"), s.metadata.issued[0].token);
        assert.equal(s.refresher.ready(), true);
    });

    it("writes no token into a Secret without our managed-by label, or another component's (its owner label), and reports each", async () => {
        const cluster = await newCluster();
        cluster.declareSecret("team-a", "regcred", { "app.kubernetes.io/managed-by": "someone-else" });
        cluster.declareSecret("team-b", "regcred", ourLabels(otherOwner));
        const t = await setup({ cluster });
        assert.equal(cluster.read("team-a", "regcred")!.config, '{"auths":{}}');
        assert.equal(cluster.read("team-b", "regcred")!.config, '{"auths":{}}', "another component's Secret");
        assert.deepEqual(
            t.events.filter((e) => e.event === "secret-broken").map((e) => [e.fields.namespace, e.fields.reason]),
            [
                ["team-a", "notOurs"],
                ["team-b", "notOurs"],
            ],
        );
    });
});

function tokenOf(cluster: Cluster, namespace: string): string | undefined {
    const read = cluster.read(namespace, "regcred");
    return read ? JSON.parse(read.config).auths[registries[0]]?.password : undefined;
}

describe("token refresher with Workload Identity Federation (STS double) and impersonation (IAM Credentials double)", () => {
    const work = mkdtempSync(path.join(tmpdir(), "refresher-"));
    after(() => rmSync(work, { recursive: true, force: true }));
    const audience =
        "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/eks-pool/providers/eks";

    /** A refresher exchanging `tokenFile` at the STS double, which accepts `subjectToken()` for `audience`. */
    async function federated(tokenFile: string, subjectToken: () => string, refresherAudience = audience) {
        const clock = new ManualClock();
        const sts = await startStsDouble(clock.now, {
            audience,
            acceptsSubjectToken: (token) => token === subjectToken(),
        });
        allDoubles.push(sts);
        running.push({ stop: () => sts.close() });
        const s = await setup({
            clock,
            config: { identity: { source: "federation", audience: refresherAudience, tokenFile } },
            endpoints: { sts: sts.url },
        });
        return { s, sts };
    }

    it("exchanges the projected ServiceAccount token for a devstorage.read_only token, re-reading it each round as the kubelet rotates it", async () => {
        const tokenFile = path.join(work, "token");
        writeFileSync(tokenFile, "projected-jwt-1\n");
        let projected = "projected-jwt-1";
        const { s, sts } = await federated(tokenFile, () => projected);
        assert.equal(s.metadata.requests, 0, "no metadata server outside GKE");
        assert.equal(s.tokenIn("team-a", "regcred"), sts.issued[0].token);
        assert.deepEqual(sts.issued[0].scopes, [artifactRegistryScope]);
        writeFileSync(tokenFile, "projected-jwt-2\n");
        projected = "projected-jwt-2";
        await s.nextRound();
        assert.deepEqual(sts.refusals, []);
        assert.equal(s.tokenIn("team-b", "regcred"), sts.issued[1].token);
    });

    it("a projected token file it cannot read is a failed step, retried with backoff; the loop goes on", async () => {
        const tokenFile = path.join(work, "token-later");
        const { s, sts } = await federated(tokenFile, () => "jwt-later");
        assert.ok(
            s.events.some(
                (e) => e.event === "token-failed" && e.fields.step === "projected-token" && e.fields.code === "ENOENT",
            ),
        );
        assert.equal(s.clock.nextWakeInMs, 1_000);
        writeFileSync(tokenFile, "jwt-later");
        await s.nextRound();
        assert.equal(s.tokenIn("team-a", "regcred"), sts.issued[0].token);
        assert.ok(!s.events.some((e) => e.event === "crashed"));
    });

    it("a refused exchange (wrong audience) is retried with backoff and writes nothing", async () => {
        const tokenFile = path.join(work, "token-wrong");
        writeFileSync(tokenFile, "jwt");
        const { s, sts } = await federated(tokenFile, () => "jwt", `${audience}-other`);
        assert.equal(sts.issued.length, 0);
        assert.ok(
            s.events.some(
                (e) => e.event === "token-failed" && e.fields.status === 400 && e.fields.code === "invalid_request",
            ),
        );
        assert.equal(s.refresher.ready(), false);
        assert.equal(s.clock.nextWakeInMs, 1_000);
    });

    /** A refresher on GKE impersonating an account through the IAM Credentials double, whose clock is `skewMs` from the pod's. */
    async function impersonating(skewMs: number) {
        const clock = new ManualClock();
        const metadata = await startMetadataServerDouble(clock.now);
        const email = "puller@example-project.iam.gserviceaccount.com";
        const iam = await startIamCredentialsDouble(() => clock.now() + skewMs, {
            email,
            trusted: () => metadata.issued,
        });
        allDoubles.push(iam);
        running.push({ stop: () => iam.close() });
        const s = await setup({
            clock,
            metadata,
            config: { impersonate: email },
            endpoints: { iamCredentials: iam.url },
        });
        return { s, iam, metadata };
    }

    it("impersonates the service account: the Secret holds the IAM Credentials token (devstorage.read_only), not the caller's (cloud-platform, never written)", async () => {
        const { s, iam, metadata } = await impersonating(0);
        assert.deepEqual(iam.refusals, []);
        assert.equal(s.tokenIn("team-a", "regcred"), iam.issued[0].token);
        assert.notEqual(iam.issued[0].token, metadata.issued[0].token);
        assert.deepEqual(iam.issued[0].scopes, [artifactRegistryScope]);
        assert.deepEqual(metadata.issued[0].scopes, ["https://www.googleapis.com/auth/cloud-platform"]);
        iam.failNext(503);
        await s.nextRound();
        assert.equal(s.clock.nextWakeInMs, 1_000);
        await s.nextRound();
        assert.equal(s.tokenIn("team-a", "regcred"), iam.issued[1].token);
    });

    for (const [skewMinutes, what] of [
        [10, "ahead of"],
        [-50, "behind"],
    ] as const) {
        it(`schedules by Google's clock when the pod's clock is ${Math.abs(skewMinutes)} minutes ${what === "ahead of" ? "behind" : "ahead of"} Google's (the answer's Date header): refresh after 20 minutes, annotation in Google's time`, async () => {
            const { s, iam } = await impersonating(skewMinutes * 60_000);
            assert.equal(s.tokenIn("team-a", "regcred"), iam.issued[0].token);
            assert.equal(s.clock.nextWakeInMs, 1_200_000, "a third of the token's real hour");
            assert.equal(
                s.cluster.read("team-a", "regcred")!.annotations[ownershipKeys.tokenExpiresAt],
                new Date(iam.issued[0].expiresAtMs).toISOString(),
            );
            const status = s.refresher.status().get("team-a/regcred")!;
            assert.deepEqual(
                status,
                { state: "written", expiresAtMs: s.clock.now() + 3_600_000 },
                "valid for the real hour",
            );
        });
    }
});

describe("token refresher proves its first token pulls before it writes one", () => {
    /** A registry (Docker's token flow) that signs in any token as oauth2accesstoken, and lets it pull once granted. */
    async function registryGranting(grant: { on: boolean }) {
        const registry = await startTokenRegistryDouble({
            accepts: (username) => username === "oauth2accesstoken",
            granted: (path) => grant.on && path === "e2e-project/images",
        });
        running.push({ stop: () => Promise.resolve(registry.close()) });
        const probes = [{ host: registry.host, repositories: [{ name: "us/images", path: "e2e-project/images" }] }];
        return { registry, config: { registries: [registry.host], probes } };
    }
    const held = (s: Setup, host: string) =>
        targets.map((t) => JSON.parse(s.cluster.read(t.namespace, t.secretName)!.config).auths[host]?.password);

    it("writes no token while the grant has not taken effect: every Secret stays as Pulumi made it, not ready, one Warning Event naming the repository; the first token that pulls is written everywhere", async () => {
        const grant = { on: false };
        const { registry, config } = await registryGranting(grant);
        const s = await setup({ config });
        assert.deepEqual(held(s, registry.host), [undefined, undefined], "no Secret holds a token that cannot pull");
        assert.equal(s.refresher.ready(), false);
        const base = `http://127.0.0.1:${s.refresher.port}`;
        assert.equal(
            await (await fetch(`${base}/readyz`)).text(),
            "not ready: 2 pending, 0 expired, the token does not pull yet\n",
        );
        assert.equal(JSON.parse(await (await fetch(`${base}/status`)).text()).tokenPulls, false);
        const waiting = s.events.find((e) => e.event === "token-does-not-pull-yet");
        assert.deepEqual(
            { host: waiting?.fields.host, repository: waiting?.fields.repository, status: waiting?.fields.status },
            { host: registry.host, repository: "us/images", status: 403 },
        );
        const [event] = s.cluster.reported();
        assert.deepEqual([event.type, event.reason], ["Warning", "TokenDoesNotPullYet"]);
        assert.match(
            event.message,
            /^waiting for the grant on us\/images to take effect, 0 s so far: .* No Secret is written until the token pulls\.$/,
        );
        // Asked again after 1 s, then 2 s more (then 4 s): the same token, still nothing written, no second Event.
        await s.nextRound();
        await s.nextRound();
        assert.deepEqual(held(s, registry.host), [undefined, undefined]);
        assert.equal(s.cluster.reported().length, 1, "one Event while it waits, not one per try");
        grant.on = true;
        await s.nextRound();
        const [token] = s.metadata.issued;
        assert.equal(s.metadata.issued.length, 1, "the token it proved is the one it writes");
        assert.deepEqual(held(s, registry.host), [token.token, token.token]);
        assert.equal(s.refresher.ready(), true);
        assert.deepEqual(
            s.cluster.reported().map((e) => [e.type, e.reason, e.message]),
            [
                ["Warning", "TokenDoesNotPullYet", event.message],
                ["Normal", "TokenPulls", "the token pulls after 7 s"],
            ],
        );
    });

    it("asks the registries once per process: a refreshed token is written without asking again", async () => {
        const { registry, config } = await registryGranting({ on: true });
        const s = await setup({ config });
        const [first] = s.metadata.issued;
        assert.deepEqual(held(s, registry.host), [first.token, first.token]);
        assert.ok(s.events.some((e) => e.event === "token-pulls" && e.fields.waitedSeconds === 0));
        assert.deepEqual(s.cluster.reported(), [], "nothing to report when the first token pulls");
        const asked = registry.requests.length;
        assert.ok(asked > 0, "the first token was proved");
        await s.nextRound();
        const second = s.metadata.issued[1];
        assert.deepEqual(held(s, registry.host), [second.token, second.token]);
        assert.equal(registry.requests.length, asked, "the refresh asked no registry");
    });
});

describe("token refresher logs", () => {
    it("hold no token any double issued, and no Kubernetes token (checked over every line this file logged)", () => {
        const tokens = [...allDoubles.flatMap((d) => d.issued.map((t) => t.token)), serviceAccountToken];
        assert.ok(
            tokens.length > 10 && allLogLines.length > 20,
            `${tokens.length} tokens, ${allLogLines.length} lines`,
        );
        for (const line of allLogLines) for (const token of tokens) assert.ok(!line.includes(token), line);
        assert.ok(!allLogLines.some((line) => /ya29\.|projected-jwt/.test(line)));
    });
});
