/**
 * From the kubectl recipe to the component in key mode, on a Google as slow as Google (issue 29): two
 * namespaces hold the recipe's Secret and ServiceAccount patch, made with exactly its two kubectl
 * commands and a working key of a hand-made account (docs/takeover.md#from-the-kubectl-recipe); then
 * this repository's sample program, with `takeOver` and a service account and key the component
 * creates, through the real `pulumi` CLI (test/support/google-engine.ts), with the Google Cloud
 * provider double applying the new grant and key only after delays drawn in engineTestDelays' range
 * (test/support/google-cloud-double/propagation.ts). While `pulumi up` takes the Secrets over, a loop
 * pulls every 100 ms with whatever each Secret holds (read through a watch, as the kubelet's secret
 * manager reads pull Secrets) and a real kubelet starts one pod after another in the first namespace,
 * each pulling through the Artifact Registry front double: no pull may fail, because each Secret keeps
 * the recipe's working key until the readiness gate proved the new one pulls. The steps run in order.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, it } from "node:test";
import type { CoreV1Api } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { clusterState, dockerConfigOf, watchDockerConfigs } from "../support/engine-checks";
import { addMember, issueKey } from "../support/google-cloud-double/google-apis";
import { engineTestDelays, instantPropagation, slowPropagation } from "../support/google-cloud-double/propagation";
import { newProject, newServiceAccount } from "../support/google-cloud-double/state";
import { startGoogleEngine, type GoogleEngine } from "../support/google-engine";
import { runCommand } from "../support/pulumi-cli";
import { coreApi, startRealCluster, type RealCluster } from "../support/real-cluster";
import { pullByKubelet, startKubeletPullLoop, startRealNode, type RealNode } from "../support/real-node";
import { startPullLoop } from "../support/registry-pull";

const project = "example-project-takeover";
const namespaces = ["recipe-a", "recipe-b"];
const reader = "roles/artifactregistry.reader";
/** The account the recipe's key belongs to, made by hand long before. */
const recipeAccount = `recipe-puller@${project}.iam.gserviceaccount.com`;
/** The account the component creates (`serviceAccountId`). */
const componentAccount = `image-puller-takeover@${project}.iam.gserviceaccount.com`;
const image = `${project}/tiny:1`;

let cluster: RealCluster;
let core: CoreV1Api;
let node: RealNode;
let world: GoogleEngine;
let work: string;
/** The front standing for asia.gcr.io: the registry the recipe and the stack name. */
let host: string;
const recipeUids = new Map<string, string | undefined>();

/** The account a docker config's key belongs to (the recipe's `_json_key`, the component's `_json_key_base64`). */
function accountIn(dockerConfigJson: string): string {
    const entry: { username: string; password: string } = JSON.parse(dockerConfigJson).auths[host];
    const keyFile = entry.username === "_json_key" ? entry.password : Buffer.from(entry.password, "base64").toString();
    return JSON.parse(keyFile).client_email as string;
}

before(async () => {
    // The recipe's account, key and grant were made long before: in effect already. What the
    // component makes from now on takes effect only after Google's drawn delays.
    const google = {
        projects: { [project]: newProject("123456789012", ["asia/asia.gcr.io"]) },
        auditLog: [],
        propagation: instantPropagation(),
    };
    google.projects[project].serviceAccounts[recipeAccount] = newServiceAccount("made by hand for the recipe");
    const recipeKey = Buffer.from(issueKey(google, recipeAccount), "base64").toString("utf8");
    addMember(
        google.projects[project].repositories["asia/asia.gcr.io"].iamPolicy,
        reader,
        `serviceAccount:${recipeAccount}`,
    );
    cluster = await startRealCluster();
    core = await coreApi(cluster.kubeconfig);
    world = await startGoogleEngine({
        seed: { ...google, propagation: slowPropagation(engineTestDelays) },
        standsFor: ["asia.gcr.io"],
        images: [image],
        kubeconfig: cluster.kubeconfig,
    });
    host = world.front.hosts["asia.gcr.io"];
    node = await startRealNode(cluster);
    node.trustPlainHttp(host);
    work = path.dirname(world.checkout);
    writeFileSync(path.join(work, "key.json"), recipeKey, { mode: 0o600 });
    await clusterState(core).createNamespaces(namespaces);
});
after(async () => {
    await node?.stop();
    await cluster?.stop();
    await world?.close();
});

it("the recipe's two kubectl commands with a working key: the kubelet pulls through the front with its Secret", async () => {
    const sh = (script: string) =>
        runCommand("sh", ["-c", script], {
            cwd: work,
            env: { PATH: process.env.PATH, HOME: work, KUBECONFIG: world.cli.env.KUBECONFIG },
        });
    for (const namespace of namespaces) {
        for (const command of [
            `kubectl create secret docker-registry regcred --docker-server=${host} --docker-username=_json_key --docker-password="$(cat key.json)" -n ${namespace}`,
            `kubectl patch serviceaccount default -p '{"imagePullSecrets":[{"name":"regcred"}]}' -n ${namespace}`,
        ]) {
            const ran = await sh(command);
            assert.equal(ran.status, 0, ran.stderr);
        }
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        recipeUids.set(namespace, secret.metadata?.uid);
        assert.equal(accountIn(dockerConfigOf(secret)), recipeAccount);
    }
    assert.deepEqual(await pullByKubelet(core, node, namespaces[0], "recipe-pulls", `${host}/${image}`), {
        pulled: true,
    });
});

it("pulumi up with takeOver and a key the component creates, while Google applies its grant and key late: the Secrets keep the recipe's key until the gate proved the new one, and no pull fails, neither the loop's nor the kubelet's", async (t) => {
    await world.initStack(
        "takeover",
        world.withMirrors(
            [
                "config:",
                "  registry-pull-secret:namespaces:",
                ...namespaces.map((namespace) => `    - ${namespace}`),
                "  registry-pull-secret:registries:",
                `    - ${host}`,
                `  registry-pull-secret:gcpProject: ${project}`,
                "  registry-pull-secret:serviceAccountId: image-puller-takeover",
                "  registry-pull-secret:repositories:",
                "    - asia/asia.gcr.io",
                '  registry-pull-secret:takeOver: "true"',
                "",
            ].join("\n"),
        ),
    );
    const previewed = await world.cli.run(["preview", "--diff"]);
    const preview = previewed.stdout + previewed.stderr;
    assert.equal(previewed.status, 0, preview);
    for (const namespace of namespaces) {
        assert.ok(
            preview.includes(`takeOver: this update takes over Secret "regcred" in namespace "${namespace}"`),
            preview,
        );
    }

    const secrets = await watchDockerConfigs(cluster.kubeconfig, namespaces, "regcred");
    const loop = startPullLoop(
        namespaces.map((namespace) => ({
            label: namespace,
            dockerConfigJson: () => Promise.resolve(secrets.current(namespace)),
            identify: accountIn,
            host,
            image,
        })),
    );
    const kubelet = startKubeletPullLoop(core, node, namespaces[0], `${host}/${image}`);
    const started = Date.now();
    let up: Awaited<ReturnType<GoogleEngine["cli"]["run"]>>;
    try {
        up = await world.cli.run(["up", "--yes"]);
    } finally {
        secrets.stop();
    }
    const upMs = Date.now() - started;
    const attempts = await loop.stop();
    const pods = await kubelet.stop();
    assert.equal(up.status, 0, `${up.stdout}\n${up.stderr}`);

    const failed = attempts.filter((a) => !a.pulled);
    const withRecipe = attempts.filter((a) => a.credential === recipeAccount).length;
    const withComponent = attempts.filter((a) => a.credential === componentAccount).length;
    const podsFailed = pods.filter((p) => !p.pulled);
    const waitedMs = await world.readinessWaitedMs();
    const drawn = world.google().propagation.log;
    const report = `pulumi up ${upMs} ms; readiness gate waited ${waitedMs} ms (Google's delays drawn: ${drawn.map((d) => `${d.what.split(" ")[0]} ${d.delayMs} ms`).join(", ")}; seed ${world.google().propagation.seed}); loop: ${attempts.length} pulls (${withRecipe} with the recipe's key, ${withComponent} with the component's), ${failed.length} failed; kubelet: ${pods.length} pods pulled, ${podsFailed.length} failed`;
    t.diagnostic(report);
    console.log(`google-takeover: ${report}`);
    assert.deepEqual(failed, [], "no Secret held a key that could not pull");
    assert.deepEqual(podsFailed, [], "no pod of the kubelet failed to pull");
    assert.ok(withRecipe > 0 && withComponent > 0, "the loop pulled with the recipe's key, then with the component's");
    assert.equal(withRecipe + withComponent, attempts.length, "every pull used one of the two keys");
    assert.ok(pods.length > 0, "the kubelet pulled while pulumi up ran");

    // The gate started once the new key existed and had to outwait both the new grant and the new key.
    const keyMade = drawn.find((d) => d.what.startsWith("new key"))!.atMs;
    const effective = Math.max(...drawn.map((d) => d.atMs + d.delayMs));
    assert.ok(
        waitedMs > 0 && waitedMs >= effective - keyMade - 3000,
        `the gate waited ${waitedMs} ms; Google's last change took effect ${effective - keyMade} ms after the key was made`,
    );
    // The same Secret objects now hold the component's key; the recipe's key stays for its owner to retire.
    for (const namespace of namespaces) {
        const secret = await core.readNamespacedSecret({ name: "regcred", namespace });
        assert.equal(secret.metadata?.uid, recipeUids.get(namespace), `taken over in place in ${namespace}`);
        assert.equal(accountIn(dockerConfigOf(secret)), componentAccount);
        assert.deepEqual(await clusterState(core).pullSecrets(namespace, "default"), ["regcred"]);
    }
    const accounts = world.google().projects[project].serviceAccounts;
    assert.equal(Object.keys(accounts[recipeAccount].keys).length, 1, "the recipe's key is left in Google");
    assert.equal(Object.keys(accounts[componentAccount].keys).length, 1);
    assert.deepEqual(await pullByKubelet(core, node, namespaces[1], "after-takeover", `${host}/${image}`), {
        pulled: true,
    });
});
