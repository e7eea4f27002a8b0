/**
 * The seed's own case with the REAL engine, as its user runs it: this repository's sample program
 * (index.ts) and its `Pulumi.dev.yaml` stack (a created service account, `asia/asia.gcr.io`-style
 * repositories, two namespaces) in a checkout after `npm ci`, driven by the commands the README gives
 * typed into the real `pulumi` CLI (`stack init`, `config set`, `preview --diff`, `up --yes`,
 * `refresh --yes`, `destroy --yes`), with its Node.js language host, the real Kubernetes provider
 * and API server, and the Google Cloud provider DOUBLE (`pulumi-resource-gcp`,
 * test/support/google-cloud-double) installed as the `gcp` plugin with a JSON file standing for
 * Google (test/support/google-engine.ts). The Secrets are pulled with through the Artifact Registry
 * front (a double before Debian's real docker-registry) by skopeo, by a real kubelet, and by a loop
 * every 100 ms while `pulumi up` rotates the key. The order of the engine's steps is read from the
 * events `pulumi up --json` prints. A later day is `faketime` (libfaketime, Debian) before `pulumi`,
 * which moves the clock the program reads. The steps run in order on one stack.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, it, type TestContext } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import {
    assertStateHoldsNone,
    clusterState,
    dockerConfigOf,
    engineEvents,
    plannedResources,
    watchDockerConfigs,
} from "../support/engine-checks";
import { startGoogleEngine, type GoogleEngine } from "../support/google-engine";
import {
    changeGoogleCloud,
    googleResources,
    newProject,
    newServiceAccount,
    type GoogleCloud,
} from "../support/google-cloud-double/state";
import { engineTestDelays, slowPropagation } from "../support/google-cloud-double/propagation";
import { changed, pulumiCli, typeAndName } from "../support/pulumi-cli";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";
import { pullByKubelet, startRealNode, type RealNode } from "../support/real-node";
import { startPullLoop, type PullAttempt } from "../support/registry-pull";

// What the repository's Pulumi.dev.yaml names.
const project = "example-project-dev";
const namespaces = ["team-a-dev", "team-b-dev"];
const email = `image-puller-dev@${project}.iam.gserviceaccount.com`;
const reader = "roles/artifactregistry.reader";
const theirReader = `serviceAccount:ci-reader@${project}.iam.gserviceaccount.com`;
/** The image under each registry host the stack lists, as Artifact Registry names it there. */
const images: Record<string, string> = {
    "asia.gcr.io": `${project}/tiny:1`,
    "asia-northeast1-docker.pkg.dev": `${project}/images/tiny:1`,
};
/** A namespace the stack does not target. */
const outside = "elsewhere";
const types = {
    account: "gcp:serviceaccount/account:Account",
    grant: "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    key: "gcp:serviceaccount/key:Key",
    secret: "kubernetes:core/v1:Secret",
    entry: "pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry",
    handover: "pulumi-nodejs:dynamic/registry-pull-secret:KeyHandover",
    readiness: "pulumi-nodejs:dynamic/registry-pull-secret:PullReadiness",
};
/**
 * How late the pull loop's reader sees each Secret's new content: a kubelet's secret manager reads
 * pull Secrets through a watch, a moment after the write. Forced here (every watch event is applied
 * this much later), so the race of an old key deleted while a reader still holds it is run on every
 * rotation instead of hoped for; the key's handover grace (components/credential/key-handover.ts) must
 * cover it.
 */
const readerLagMs = 10_000;

let cluster: RealCluster;
let core: CoreV1Api;
let inCluster: ReturnType<typeof clusterState>;
let node: RealNode;
let world: GoogleEngine;
/** Google before the first `up`, to compare after `destroy`. */
let googleBefore: unknown;
/** Everything the engine printed, for the check that no key material is in it. */
const engineOutput: { command: string; text: string }[] = [];
/** Every key file a Secret held (base64), for the same check. */
const keysSeen = new Set<string>();

before(async () => {
    const home = newProject("123456789012", ["asia/asia.gcr.io", "asia-northeast1/images"]);
    // Another owner's reader on the same repository: non-authoritative grants must leave it.
    home.serviceAccounts[`ci-reader@${project}.iam.gserviceaccount.com`] = newServiceAccount("CI");
    home.repositories["asia/asia.gcr.io"].iamPolicy.bindings.push({ role: reader, members: [theirReader] });
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    inCluster = clusterState(core);
    world = await startGoogleEngine({
        seed: { projects: { [project]: home }, auditLog: [], propagation: slowPropagation(engineTestDelays) },
        standsFor: Object.keys(images),
        images: Object.values(images),
        kubeconfig: cluster.kubeconfig,
    });
    node = await startRealNode(cluster);
    for (const host of Object.values(world.front.hosts)) node.trustPlainHttp(host);
    await inCluster.createNamespaces([...namespaces, outside]);
    await inCluster.setPullSecrets("team-a-dev", "default", ["theirs-before"]);
    await world.initStack("dev", stackFile());
    googleBefore = googleResources(world.google());
});
after(async () => {
    await node?.stop();
    await cluster?.stop();
    await world?.close();
});

const google = (): GoogleCloud => world.google();
/** The repository's Pulumi.dev.yaml on the fronts, each the mirror of its Google host for the readiness gate. */
const stackFile = () => world.withMirrors(world.sampleStackFile("dev"));

/** How long each `up` that proved a credential waited at the readiness gate, for the last test's report. */
const gateWaits: { why: string; waitedMs: number }[] = [];

/** What the readiness gate of the stack last waited (ms), as its state holds it; reported under `why`. */
async function gateWaited(t: TestContext, why: string): Promise<number> {
    const waitedMs = await world.readinessWaitedMs();
    gateWaits.push({ why, waitedMs });
    const drawn = google()
        .propagation.log.slice(-3)
        .map((d) => `${d.what.split(" ")[0]} ${d.delayMs} ms`);
    t.diagnostic(
        `readiness gate (${why}): waited ${waitedMs} ms; Google's last delays drawn: ${drawn.join(", ")}; seed ${google().propagation.seed}`,
    );
    return waitedMs;
}
const ourKeys = () => Object.keys(google().projects[project].serviceAccounts[email]?.keys ?? {});

async function dockerConfigIn(namespace: string): Promise<string> {
    return dockerConfigOf(await core.readNamespacedSecret({ name: "regcred", namespace }));
}

/** The key ids a docker config holds (each `_json_key_base64` password is a key file in base64). */
function keyIdsIn(dockerConfigJson: string): string[] {
    const config: { auths: Record<string, { password: string }> } = JSON.parse(dockerConfigJson);
    return [
        ...new Set(
            Object.values(config.auths).map((entry) => {
                keysSeen.add(entry.password);
                return JSON.parse(Buffer.from(entry.password, "base64").toString("utf8")).private_key_id as string;
            }),
        ),
    ];
}

/** The key id each namespace's Secret holds. */
async function keyIdsInSecrets(): Promise<string[]> {
    const ids = await Promise.all(namespaces.map(async (namespace) => keyIdsIn(await dockerConfigIn(namespace))));
    return [...new Set(ids.flat())];
}

/** Median and longest time between the starts of one source's consecutive pulls, in ms. */
function cadence(attempts: PullAttempt[]): { median: number; longest: number } {
    const gaps = Object.values(Object.groupBy(attempts, (a) => a.label)).flatMap((mine) =>
        mine!.slice(1).map((a, i) => a.atMs - mine![i].atMs),
    );
    gaps.sort((a, b) => a - b);
    return { median: gaps[Math.floor(gaps.length / 2)], longest: gaps[gaps.length - 1] };
}

/**
 * `pulumi <args>` in the checkout, on the real clock or, with `at`, as `faketime -f "@<at>" pulumi
 * <args>`: the user's shell on that day. Keeps what it printed, reports how long it took, and fails
 * with its output when it exits non-zero; its stdout.
 */
async function pulumi(t: TestContext, args: string[], at?: Date): Promise<string> {
    const started = Date.now();
    const result = await (at ? world.cli.onDay(at) : world.cli).run(args);
    const command = `${at ? `faketime ${at.toISOString()} ` : ""}pulumi ${args.join(" ")}`;
    engineOutput.push({ command, text: `${result.stdout}\n${result.stderr}` });
    t.diagnostic(`${command}: ${Date.now() - started} ms`);
    assert.equal(result.status, 0, `${command} failed:\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
}

/**
 * What the commands printed, line by line, apart from debug diagnostics, which are returned apart:
 * `pulumi up --json` prints every engine event, debug ones too (a person's `pulumi up` shows them only
 * with `--debug`), and the Node.js SDK's `RegisterResource RPC finished: ...; resp: ...`
 * (@pulumi/pulumi runtime/resource.js) quotes a registered resource's outputs as the provider returned
 * them, secrets in plain text.
 */
function printedLines() {
    const shown: { command: string; line: string }[] = [];
    const debug: { command: string; message: string }[] = [];
    for (const { command, text } of engineOutput) {
        for (const line of text.split("\n")) {
            const event = line.startsWith('{"sequence":') ? JSON.parse(line) : undefined;
            if (event?.diagnosticEvent?.severity === "debug") {
                debug.push({ command, message: event.diagnosticEvent.message });
            } else shown.push({ command, line });
        }
    }
    return { shown, debug };
}

/** The stack's outputs, as `pulumi stack output --json` prints them (secrets as `[secret]`). */
const stackOutputs = async (): Promise<Record<string, string>> =>
    JSON.parse(await world.cli.must(["stack", "output", "--json"]));

it("the CLI finds the double as the gcp plugin of the version @pulumi/gcp asks for, and reads its schema", async () => {
    // Outside the checkout, which holds both Pulumi.yaml and PulumiPlugin.yaml (the CLI refuses to choose).
    const elsewhere = pulumiCli(path.dirname(world.checkout), world.cli.env);
    const schema = JSON.parse(await elsewhere.must(["package", "get-schema", `gcp@${world.gcpVersion}`]));
    assert.deepEqual([schema.name, schema.version], ["gcp", world.gcpVersion]);
    assert.ok(types.key in schema.resources && types.account in schema.resources && types.grant in schema.resources);
});

it("pulumi preview of the Pulumi.dev.yaml stack shows every resource the offline plan shows for it", async () => {
    assert.deepEqual(typeAndName(await world.cli.previewSteps()), plannedResources("dev", stackFile()));
});

it("pulumi up creates the account, the grants, the key, the readiness gate, the Secrets and the entries in the graph's order, beside another owner's grant and entry; no pull with a Secret present fails while Google propagates", async (t) => {
    // Pulls with whatever the Secrets hold from the moment they exist, as kubelets starting pods would.
    const secrets = await watchDockerConfigs(cluster.kubeconfig, namespaces, "regcred", 0, true);
    const loop = startPullLoop(
        namespaces.flatMap((namespace) =>
            Object.entries(images).map(([host, image]) => ({
                label: `${namespace} via ${host}`,
                dockerConfigJson: () => Promise.resolve(secrets.current(namespace)),
                host: world.front.hosts[host],
                image,
            })),
        ),
    );
    let output: string;
    try {
        output = await pulumi(t, ["up", "--yes", "--json"]);
    } finally {
        secrets.stop();
    }
    const attempts = await loop.stop();
    const present = attempts.filter((a) => !/^no Secret regcred in /.test(a.failure ?? ""));
    const failed = present.filter((a) => !a.pulled);
    t.diagnostic(`pull loop (first up): ${present.length} pulls with a Secret present, ${failed.length} failed`);
    assert.deepEqual(failed, [], "no Secret held a credential that could not pull yet");
    assert.ok(present.length > 0, "the loop pulled once the Secrets existed");
    const waited = await gateWaited(t, "first up");
    // Google takes each grant and the key into effect at its write plus its drawn delay; the gate starts
    // once the key exists, so it must wait until the last of them (less a moment of process start-up).
    const drawn = google().propagation.log;
    const keyMade = drawn.find((d) => d.what.startsWith("new key"))!.atMs;
    const effective = Math.max(...drawn.map((d) => d.atMs + d.delayMs));
    assert.ok(
        waited > 0 && waited >= effective - keyMade - 3000,
        `the gate waited ${waited} ms; Google's last change took effect ${effective - keyMade} ms after the key was made`,
    );
    // What the user read meanwhile: the gate's progress on the component, never the key.
    const progress = [...output.matchAll(/waiting for [^"]*? s so far: [^"]*/g)].map((m) => m[0]);
    t.diagnostic(`the gate said: ${progress.join(" | ")}`);
    assert.ok(progress.length > 0, "the gate said what it waited for");
    assert.match(output, /the new credential pulls from 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+ after \d+ s/);
    const recorded = engineEvents(output);
    const done = (type: string, name?: string) =>
        recorded.at(
            "done",
            (s) => s.type === type && s.op === "create" && (name === undefined || s.urn.endsWith(`::${name}`)),
        );
    const pre = (type: string, name: string) =>
        recorded.at("pre", (s) => s.type === type && s.urn.endsWith(`::${name}`));
    const grants = ["regcred/reader/asia/asia.gcr.io", "regcred/reader/asia-northeast1/images"];
    for (const grant of grants) assert.ok(done(types.account) < pre(types.grant, grant), `the account before ${grant}`);
    for (const grant of grants)
        assert.ok(done(types.grant, grant) < pre(types.key, "regcred-key"), `${grant} before the key`);
    assert.ok(done(types.key) < pre(types.readiness, "regcred-pull-readiness"), "the key before the gate");
    for (const namespace of namespaces) {
        assert.ok(
            done(types.readiness) < pre(types.secret, `regcred/${namespace}`),
            `the gate before the Secret in ${namespace}`,
        );
        assert.ok(
            done(types.secret, `regcred/${namespace}`) < pre(types.entry, `regcred/${namespace}/default`),
            `the Secret before the entry in ${namespace}`,
        );
    }

    const home = google().projects[project];
    assert.equal(home.serviceAccounts[email].displayName, "Image pulls");
    assert.deepEqual(home.repositories["asia/asia.gcr.io"].iamPolicy.bindings, [
        { role: reader, members: [theirReader, `serviceAccount:${email}`] },
    ]);
    assert.deepEqual(home.repositories["asia-northeast1/images"].iamPolicy.bindings, [
        { role: reader, members: [`serviceAccount:${email}`] },
    ]);
    assert.deepEqual(await keyIdsInSecrets(), ourKeys(), "both Secrets hold the one key Google has");
    const outputs = await stackOutputs();
    assert.equal(outputs.serviceAccountEmail, email);
    assert.match(outputs.keyName, new RegExp(`^projects/${project}/serviceAccounts/${email}/keys/${ourKeys()[0]}$`));
    assert.equal(outputs.dockerConfigJson, "[secret]");
    assert.deepEqual(await inCluster.pullSecrets("team-a-dev", "default"), ["theirs-before", "regcred"]);
    assert.deepEqual(await inCluster.pullSecrets("team-b-dev", "default"), ["regcred"]);
});

it("skopeo pulls through the Artifact Registry front with each Secret, from both repositories", async () => {
    for (const namespace of namespaces) {
        const authfile = world.registry.writeAuthfile(`up-${namespace}`, await dockerConfigIn(namespace));
        for (const [host, image] of Object.entries(images))
            await world.registry.assertPulls(authfile, { host: world.front.hosts[host], image });
    }
});

it("a real kubelet pulls through the front for a pod in a target namespace, and is refused in a namespace the stack does not target", async () => {
    const image = `${world.front.hosts["asia.gcr.io"]}/${images["asia.gcr.io"]}`;
    assert.deepEqual(await pullByKubelet(core, node, "team-a-dev", "pulls", image), { pulled: true });
    const refused = await pullByKubelet(core, node, outside, "refused", image);
    assert.equal(refused.pulled, false);
    // Without a credential containerd gets an anonymous token, and the manifest is denied (403), as
    // Artifact Registry answers an unauthenticated pull of a private repository.
    assert.match((refused as { reason: string }).reason, /403|denied/i);
});

it("a second pulumi up --expect-no-changes succeeds", async (t) => {
    await pulumi(t, ["up", "--yes", "--expect-no-changes"]);
    assert.deepEqual(changed(await world.cli.lastUpdate()), {});
});

it("pulumi refresh shows what was changed in the console (a renamed account, a removed grant), and pulumi up puts it back once", async (t) => {
    changeGoogleCloud(world.stateFile, (g) => {
        const home = g.projects[project];
        home.serviceAccounts[email].displayName = "renamed in the console";
        home.repositories["asia-northeast1/images"].iamPolicy.bindings = [];
    });
    await pulumi(t, ["refresh", "--yes"]);
    assert.deepEqual(changed(await world.cli.lastUpdate()), { update: 1, delete: 1 });
    await pulumi(t, ["up", "--yes"]);
    assert.deepEqual(changed(await world.cli.lastUpdate()), { update: 1, create: 1 });
    const home = google().projects[project];
    assert.equal(home.serviceAccounts[email].displayName, "Image pulls");
    assert.deepEqual(home.repositories["asia-northeast1/images"].iamPolicy.bindings, [
        { role: reader, members: [`serviceAccount:${email}`] },
    ]);
    await pulumi(t, ["up", "--yes", "--expect-no-changes"]);
    assert.deepEqual(changed(await world.cli.lastUpdate()), {});
    // The grant put back is a new grant to Google, applied after its own delay; the gate does not wait
    // for it (the credential did not change, docs/rotation.md#the-readiness-gate). Until then the key
    // is refused there, as on Google; the rotations below start once it took effect.
    const regrant = google().propagation.log.at(-1)!;
    assert.match(regrant.what, /^grant roles\/artifactregistry\.reader serviceAccount:image-puller-dev@.*images/);
    const authfile = world.registry.writeAuthfile("regranted", await dockerConfigIn("team-a-dev"));
    const pkg = {
        host: world.front.hosts["asia-northeast1-docker.pkg.dev"],
        image: images["asia-northeast1-docker.pkg.dev"],
    };
    const left = regrant.atMs + regrant.delayMs - Date.now();
    if (left > 1000) await world.registry.assertRefused(authfile, pkg, /denied|403/i);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, left + 1000)));
    await world.registry.assertPulls(authfile, pkg);
    t.diagnostic(`the grant put back took effect ${regrant.delayMs} ms after up wrote it`);
});

/** What one rotation measured. */
interface Rotation {
    attempts: PullAttempt[];
    upMs: number;
}
const rotations: Rotation[] = [];

/**
 * Replaces the key with `pulumi up` (on the day `at`, else today) while a loop pulls every 100 ms
 * with whatever the Secrets hold (read through a watch, as the kubelet reads pull Secrets); first
 * checks that `pulumi preview --diff` shows the key replaced and the Secrets updated in place,
 * nothing else.
 */
async function rotate(t: TestContext, why: string, at?: Date): Promise<void> {
    const preview = await pulumi(t, ["preview", "--diff"], at);
    // Create-before-delete: the new key first, the Secrets updated in place, the old key deleted last.
    const rotation = [
        ["create-replacement", types.key, "regcred-key"],
        ["delete-replaced", types.key, "regcred-key"],
        ["replace", types.key, "regcred-key"],
        ["update", types.secret, "regcred/team-a-dev"],
        ["update", types.secret, "regcred/team-b-dev"],
        ["update", types.handover, "regcred-key-handover"],
        ["update", types.readiness, "regcred-pull-readiness"],
    ];
    // `preview --json` lists the replacement as one `replace` step, as the diff above does.
    const previewed = await (at ? world.cli.onDay(at) : world.cli).previewSteps();
    assert.deepEqual(
        previewed
            .filter((step) => step.op !== "same")
            .map((step) => [step.op, step.type, step.urn.split("::").pop()])
            .sort(),
        rotation.filter(([op]) => op === "replace" || op === "update"),
    );
    // The CLI's own rendering of that diff: `+-TYPE: (replace)` / `~ TYPE: (update)`, then the id and URN.
    const step = (sign: string, type: string, op: string, name: string) =>
        new RegExp(`${sign}${type}: \\(${op}\\)\\s+\\[id=[^\\]]+\\]\\s+\\[urn=[^\\]]+::${name}\\]`);
    assert.match(preview, step("\\+-", types.key, "replace", "regcred-key"));
    assert.match(preview, /[~+] keepers: \{/);
    for (const namespace of namespaces) {
        assert.match(preview, step("~ ", types.secret, "update", `regcred/${namespace}`));
    }

    const [oldKey] = ourKeys();
    const secrets = await watchDockerConfigs(cluster.kubeconfig, namespaces, "regcred", readerLagMs);
    const loop = startPullLoop(
        namespaces.flatMap((namespace) =>
            Object.entries(images).map(([host, image]) => ({
                label: `${namespace} via ${host}`,
                dockerConfigJson: () => Promise.resolve(secrets.current(namespace)),
                identify: (config: string) => keyIdsIn(config).join(","),
                host: world.front.hosts[host],
                image,
            })),
        ),
    );
    let upOutput = "";
    const started = Date.now();
    try {
        upOutput = await pulumi(t, ["up", "--yes", "--json"], at);
    } finally {
        const attempts = await loop.stop();
        secrets.stop();
        rotations.push({ attempts, upMs: Date.now() - started });
    }
    const { attempts } = rotations[rotations.length - 1];
    const failed = attempts.filter((a) => !a.pulled);
    const { median, longest } = cadence(attempts);
    const [newKey] = ourKeys();
    const withOld = attempts.filter((a) => a.credential === oldKey).length;
    const withNew = attempts.filter((a) => a.credential === newKey).length;
    t.diagnostic(
        `pull loop (${why}): ${attempts.length} pulls (${withOld} with the old key, ${withNew} with the new), ${failed.length} failed; one source's pulls start every ${median} ms (median), at most ${longest} ms apart`,
    );
    assert.deepEqual(failed, [], "no pull failed while the key was replaced");
    assert.ok(withOld > 0 && withNew > 0, "the loop pulled with the old key and then with the new one");
    assert.equal(withOld + withNew, attempts.length, "every pull used the old or the new key");
    const recorded = engineEvents(upOutput);
    assert.deepEqual(recorded.changed(), rotation);

    // The Secrets switch only once the gate proved the new key: Google accepts it and every grant holds.
    const proved = recorded.at("done", (s) => s.type === types.readiness && s.op === "update");
    for (const namespace of namespaces) {
        const switched = recorded.at(
            "pre",
            (s) => s.type === types.secret && s.urn.endsWith(`::regcred/${namespace}`) && s.op === "update",
        );
        assert.ok(proved < switched, `the gate proved the new key before the Secret in ${namespace} took it`);
    }
    await gateWaited(t, why);
    const deleted = recorded.at("pre", (s) => s.type === types.key && s.op === "delete-replaced");
    const handedOver = recorded.at("done", (s) => s.type === types.handover && s.op === "update");
    assert.ok(handedOver < deleted, "the old key was deleted after the handover's grace");
    for (const namespace of namespaces) {
        const updated = recorded.at("pre", (s) => s.type === types.handover && s.op === "update");
        const secret = recorded.at(
            "done",
            (s) => s.type === types.secret && s.urn.endsWith(`::regcred/${namespace}`) && s.op === "update",
        );
        assert.ok(secret < updated, `the Secret in ${namespace} held the new key before the handover began`);
    }
    assert.deepEqual(ourKeys(), [newKey], "the old key is gone, one key is left");
    assert.notEqual(newKey, oldKey);
    assert.deepEqual(await keyIdsInSecrets(), [newKey]);
    const log = google().auditLog.map((e) => `${e.method} ${e.resource.split("/").pop()}`);
    assert.ok(
        log.indexOf(`google.iam.admin.v1.CreateServiceAccountKey ${newKey}`) <
            log.indexOf(`google.iam.admin.v1.DeleteServiceAccountKey ${oldKey}`),
        "Google saw the new key created before the old one deleted",
    );
}

it("rotation by a raised keyVersion: the key is replaced and the Secrets updated in place with no failed pull", async (t) => {
    await world.cli.must(["config", "set", "keyVersion", "1"]);
    await rotate(t, "keyVersion 1");
});

it("rotation by keyRotationDays: a schedule starts with a new key, and a pulumi up on the day the period ends replaces it again, each without a failed pull", async (t) => {
    await world.cli.must(["config", "set", "keyRotationDays", "30"]);
    await rotate(t, "keyRotationDays 30");
    const rotatesAfter = new Date((await stackOutputs()).keyRotatesAfter);
    await pulumi(t, ["up", "--yes", "--expect-no-changes"], new Date(rotatesAfter.getTime() - 60_000));
    assert.deepEqual(changed(await world.cli.lastUpdate()), {}, "a minute before the period ends, nothing changes");
    await rotate(t, "next rotation period", rotatesAfter);
});

it("the engine's state, the stack file, everything the engine printed but the SDK's debug diagnostics, and Google's file hold no private key", (t) => {
    assert.ok(keysSeen.size >= 4, `every key the Secrets held (${keysSeen.size})`);
    const privateKeys = [...keysSeen].map(
        (base64) => JSON.parse(Buffer.from(base64, "base64").toString("utf8")).private_key as string,
    );
    // The PEM's base64 body, line by line: no line of any private key appears anywhere.
    const keyLines = privateKeys.flatMap((pem) =>
        pem.split("\n").filter((line) => line.length > 40 && !line.startsWith("-----")),
    );
    assertStateHoldsNone(world.stateDir, path.join(world.checkout, "Pulumi.dev.yaml"), {
        username: "_json_key_base64",
        passwords: [...keysSeen],
        others: keyLines,
    });
    const { shown, debug } = printedLines();
    const printedBy = (material: string) =>
        shown.filter(({ line }) => line.includes(material)).map(({ command }) => command);
    for (const line of keyLines) assert.deepEqual(printedBy(line), [], "no command printed a private key's line");
    for (const base64 of keysSeen) assert.deepEqual(printedBy(base64.slice(0, 60)), [], "nor a key file");
    // The one place a key file does appear (docs/testing.md#against-a-google-cloud-double): the SDK's debug
    // diagnostic of the key's registration, in each `up` that created a key.
    const quotingKeys = debug.filter(({ message }) => [...keysSeen].some((k) => message.includes(k.slice(0, 60))));
    t.diagnostic(`debug diagnostics that quote a key file: ${quotingKeys.length}, all of regcred-key's registration`);
    assert.ok(quotingKeys.length >= 4, "each up that made a key printed it in a debug diagnostic");
    for (const { message } of quotingKeys) {
        assert.match(message, /^RegisterResource RPC finished: resource:regcred-key\[gcp:serviceaccount\/key:Key\]/);
    }
    assert.equal(
        readFileSync(world.stateFile, "utf8").includes("PRIVATE KEY"),
        false,
        "Google's file holds no private key",
    );
});

it("pulumi destroy leaves Google and the cluster as they were: no account, key or grant of ours; another owner's grant and entry kept", async (t) => {
    await pulumi(t, ["destroy", "--yes"]);
    assert.deepEqual(googleResources(google()), googleBefore);
    for (const namespace of namespaces) assert.deepEqual(await inCluster.secretNames(namespace), []);
    assert.deepEqual(await inCluster.pullSecrets("team-a-dev", "default"), ["theirs-before"]);
    assert.deepEqual(await inCluster.pullSecrets("team-b-dev", "default"), []);
    t.diagnostic(
        `rotations: ${rotations.map((r) => `${r.attempts.length} pulls / ${r.attempts.filter((a) => !a.pulled).length} failed over ${r.upMs} ms`).join("; ")}`,
    );
    t.diagnostic(`readiness gate waits: ${gateWaits.map((g) => `${g.why} ${g.waitedMs} ms`).join("; ")}`);
});
