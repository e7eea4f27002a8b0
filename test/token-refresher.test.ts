/**
 * The token refresher (components/token-refresher.ts) run in this test process against DOUBLES: of
 * the metadata server, STS and IAM Credentials (test/support/google-token-doubles.ts) and of the
 * Kubernetes API server (test/support/api-server-double.ts). Time is a manual clock: the refresher
 * waits on it between rounds, so "an hour later" is one call, not a sleep.
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
import { dockerConfigJson } from "../components/docker-config";
import {
    expiresAtAnnotation,
    isReady,
    managedByLabel,
    refreshDelayMs,
    retryDelayMs,
    startRefresher,
    timing,
    type Endpoints,
    type LogFields,
    type Refresher,
    type RefresherConfig,
} from "../components/token-refresher";
import { startApiServerDouble, type ApiServerDouble } from "./support/api-server-double";
import {
    ManualClock,
    startIamCredentialsDouble,
    startMetadataServerDouble,
    startStsDouble,
    type TokenDouble,
} from "./support/google-token-doubles";

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
}

async function newCluster(): Promise<Cluster> {
    const api = await startApiServerDouble();
    running.push({ stop: () => api.close() });
    return doubleCluster(api);
}

function doubleCluster(api: ApiServerDouble): Cluster {
    return {
        url: api.url,
        declareSecret: (namespace, name, labels = { [managedByLabel.key]: managedByLabel.value }) =>
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
    tokenIn(namespace: string, name: string): string | undefined;
}

async function setup(options: {
    config?: Partial<RefresherConfig>;
    endpoints?: Partial<Endpoints>;
    metadata?: TokenDouble;
    clock?: ManualClock;
    /** A cluster prepared by the test; default: a new one holding the component's empty Secrets. */
    cluster?: Cluster;
}): Promise<Setup> {
    const clock = options.clock ?? new ManualClock();
    const cluster = options.cluster ?? (await newCluster());
    if (options.cluster === undefined) for (const t of targets) cluster.declareSecret(t.namespace, t.secretName);
    const metadata = options.metadata ?? (await startMetadataServerDouble(clock.now));
    allDoubles.push(metadata);
    running.push({ stop: () => metadata.close() });
    const events: Setup["events"] = [];
    const refresher = await startRefresher({
        config: { targets, registries, identity: { source: "gkeMetadata" }, port: 0, ...options.config },
        endpoints: {
            metadataServer: metadata.url,
            sts: "http://127.0.0.1:9",
            iamCredentials: "http://127.0.0.1:9",
            kubernetes: { url: cluster.url, token: () => serviceAccountToken },
            ...options.endpoints,
        },
        clock,
        host: "127.0.0.1",
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
        tokenIn(namespace, name) {
            const read = cluster.read(namespace, name);
            if (!read) return undefined;
            const auths = JSON.parse(read.config).auths as Record<string, { username: string; password: string }>;
            return auths[registries[0]]?.password;
        },
    };
}

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
    it("is ready only when every Secret holds a token that has not expired", () => {
        assert.equal(isReady([10, 20], 5), true);
        assert.equal(isReady([10, 20], 10), false);
        assert.equal(isReady([10, undefined], 5), false);
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
            assert.equal(read.annotations[expiresAtAnnotation], new Date(issued.expiresAtMs).toISOString());
        }
        assert.equal(s.refresher.ready(), true);
        assert.equal(await s.readyz(), 200);
        // Every API request carried the refresher's own ServiceAccount token; only GET and PATCH were sent.
        assert.ok(s.cluster.bearers().every((b) => b === serviceAccountToken));
        assert.deepEqual([...new Set(s.cluster.requests().map((r) => r.split(" ")[0]))].sort(), ["GET", "PATCH"]);
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
        assert.ok(s.clock.nextWakeInMs! <= 60_000, "still retrying at most a minute apart");
    });

    it("an RBAC-denied write leaves that Secret alone, writes the others, and is not ready until allowed", async () => {
        const cluster = await newCluster();
        for (const t of targets) cluster.declareSecret(t.namespace, t.secretName);
        cluster.forbid("team-b", "regcred");
        const s = await setup({ cluster });
        assert.equal(tokenOf(cluster, "team-a"), s.metadata.issued[0].token);
        assert.equal(cluster.read("team-b", "regcred")!.config, '{"auths":{}}');
        assert.equal(s.refresher.ready(), false);
        assert.ok(s.events.some((e) => e.event === "secret-write-failed" && e.fields.status === 403));
        assert.equal(s.clock.nextWakeInMs, 1_000);
        cluster.allow("team-b", "regcred");
        await s.nextRound();
        assert.equal(tokenOf(cluster, "team-b"), s.metadata.issued[1].token);
        assert.equal(s.refresher.ready(), true);
    });

    it("a Secret deleted behind its back: not ready at once, never re-created by the refresher, written when declared again", async () => {
        const s = await setup({});
        s.cluster.remove("team-b", "regcred");
        await s.nextRound();
        assert.equal(s.cluster.read("team-b", "regcred"), undefined);
        assert.equal(s.refresher.ready(), false);
        assert.ok(s.events.some((e) => e.event === "secret-missing" && e.fields.namespace === "team-b"));
        assert.ok(!s.cluster.requests().some((r) => r.startsWith("POST")), "the refresher cannot create Secrets");
        // What `pulumi refresh` then `pulumi up` does: the component declares the empty Secret again.
        s.cluster.declareSecret("team-b", "regcred");
        await s.nextRound();
        assert.equal(s.tokenIn("team-b", "regcred"), s.metadata.issued.at(-1)!.token);
        assert.equal(s.refresher.ready(), true);
    });

    it("writes no token into a Secret the component did not create (no managed-by label)", async () => {
        const cluster = await newCluster();
        cluster.declareSecret("team-a", "regcred", { "app.kubernetes.io/managed-by": "someone-else" });
        cluster.declareSecret("team-b", "regcred");
        const t = await setup({ cluster });
        assert.equal(cluster.read("team-a", "regcred")!.config, '{"auths":{}}');
        assert.equal(tokenOf(cluster, "team-b"), t.metadata.issued[0].token);
        assert.ok(t.events.some((e) => e.event === "secret-not-ours" && e.fields.namespace === "team-a"));
        assert.equal(t.refresher.ready(), false);
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

    it("exchanges the projected ServiceAccount token, re-reading it each round as the kubelet rotates it", async () => {
        const clock = new ManualClock();
        const tokenFile = path.join(work, "token");
        writeFileSync(tokenFile, "projected-jwt-1\n");
        let projected = "projected-jwt-1";
        const sts = await startStsDouble(clock.now, { audience, acceptsSubjectToken: (token) => token === projected });
        allDoubles.push(sts);
        running.push({ stop: () => sts.close() });
        const s = await setup({
            clock,
            config: { identity: { source: "federation", audience, tokenFile } },
            endpoints: { sts: sts.url },
        });
        assert.equal(s.metadata.requests, 0, "no metadata server outside GKE");
        assert.equal(s.tokenIn("team-a", "regcred"), sts.issued[0].token);
        writeFileSync(tokenFile, "projected-jwt-2\n");
        projected = "projected-jwt-2";
        await s.nextRound();
        assert.deepEqual(sts.refusals, []);
        assert.equal(s.tokenIn("team-b", "regcred"), sts.issued[1].token);
    });

    it("a refused exchange (wrong audience) is retried with backoff and writes nothing", async () => {
        const clock = new ManualClock();
        const tokenFile = path.join(work, "token-wrong");
        writeFileSync(tokenFile, "jwt");
        const sts = await startStsDouble(clock.now, { audience, acceptsSubjectToken: (token) => token === "jwt" });
        allDoubles.push(sts);
        running.push({ stop: () => sts.close() });
        const s = await setup({
            clock,
            config: { identity: { source: "federation", audience: `${audience}-other`, tokenFile } },
            endpoints: { sts: sts.url },
        });
        assert.equal(sts.issued.length, 0);
        assert.ok(
            s.events.some(
                (e) => e.event === "token-failed" && e.fields.status === 400 && e.fields.code === "invalid_request",
            ),
        );
        assert.equal(s.refresher.ready(), false);
        assert.equal(s.clock.nextWakeInMs, 1_000);
    });

    it("impersonates the service account: the Secret holds the IAM Credentials token, not the caller's", async () => {
        const clock = new ManualClock();
        const metadata = await startMetadataServerDouble(clock.now);
        const email = "puller@example-project.iam.gserviceaccount.com";
        const iam = await startIamCredentialsDouble(clock.now, {
            email,
            trusted: () => metadata.issued.map((t) => t.token),
        });
        allDoubles.push(iam);
        running.push({ stop: () => iam.close() });
        const s = await setup({
            clock,
            metadata,
            config: { impersonate: email },
            endpoints: { iamCredentials: iam.url },
        });
        assert.deepEqual(iam.refusals, []);
        assert.equal(s.tokenIn("team-a", "regcred"), iam.issued[0].token);
        assert.notEqual(iam.issued[0].token, metadata.issued[0].token);
        iam.failNext(503);
        await s.nextRound();
        assert.equal(s.clock.nextWakeInMs, 1_000);
        await s.nextRound();
        assert.equal(s.tokenIn("team-a", "regcred"), iam.issued[1].token);
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
