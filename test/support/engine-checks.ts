/**
 * What the real-engine tests (test/engine/) look at in the real cluster and in the engine's state,
 * shared so each stack is checked the same way.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type * as automation from "@pulumi/pulumi/automation";

/** Reads what the tests check in the cluster, and writes `imagePullSecrets` as another owner would (a full replace). */
export function clusterState(core: CoreV1Api) {
    /** Waits for the service-account controller to give `namespace` its `default` ServiceAccount. */
    const defaultAccount = async (namespace: string): Promise<void> => {
        const deadline = Date.now() + 30_000;
        while (
            !(await core.readNamespacedServiceAccount({ name: "default", namespace }).then(
                () => true,
                () => false,
            ))
        ) {
            if (Date.now() > deadline) throw new Error(`no default ServiceAccount in ${namespace} after 30 s`);
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
    };
    return {
        /** Creates the namespaces and waits for the controller manager to give each its `default` ServiceAccount. */
        async createNamespaces(names: string[]): Promise<void> {
            for (const name of names) await core.createNamespace({ body: { metadata: { name } } });
            for (const namespace of names) await defaultAccount(namespace);
        },
        defaultAccount,
        async secretNames(namespace: string): Promise<string[]> {
            const secrets = await core.listNamespacedSecret({ namespace });
            return secrets.items.map((secret) => secret.metadata!.name!);
        },
        async pullSecrets(namespace: string, name: string): Promise<string[]> {
            const account = await core.readNamespacedServiceAccount({ name, namespace });
            return (account.imagePullSecrets ?? []).map((entry) => entry.name!);
        },
        async setPullSecrets(namespace: string, name: string, names: string[]): Promise<void> {
            const account = await core.readNamespacedServiceAccount({ name, namespace });
            account.imagePullSecrets = names.map((n) => ({ name: n }));
            await core.replaceNamespacedServiceAccount({ name, namespace, body: account });
        },
    };
}

/** The `.dockerconfigjson` document a Secret holds. */
export function dockerConfigOf(secret: V1Secret): string {
    return Buffer.from(secret.data![".dockerconfigjson"], "base64").toString("utf8");
}

/**
 * The cluster's kubeconfig with a current context that leads nowhere (https://127.0.0.1:1): only a
 * `kubernetes:context` of `real` reaches the cluster with it.
 */
export function withContextLeadingNowhere(kubeconfig: string): string {
    const document = JSON.parse(kubeconfig);
    document.clusters.push({ name: "nowhere", cluster: { server: "https://127.0.0.1:1" } });
    document.contexts.push({ name: "nowhere", context: { cluster: "nowhere", user: "admin" } });
    document["current-context"] = "nowhere";
    return JSON.stringify(document);
}

/**
 * `TYPE NAME` of what a TypeScript program's component `regcred` with `credentials` declares for
 * `namespaces` (our entry on each `default` ServiceAccount), sorted: what its first preview plans.
 */
export function credentialsComponentResources(namespaces: string[]): string[] {
    return [
        "registry-pull-secret:index:RegistryPullSecret regcred",
        "pulumi-nodejs:dynamic/registry-pull-secret:SecretClaim regcred-claim",
        ...namespaces.map((ns) => `kubernetes:core/v1:Secret regcred/${ns}`),
        ...namespaces.map((ns) => `pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry regcred/${ns}/default`),
    ].sort();
}

const repo = path.join(__dirname, "..", "..");

/**
 * `TYPE NAME` of every resource in the offline plan's tree (`npm run plan`, the sample stack's
 * index.ts under the mocks) for `stack` with this `Pulumi.<stack>.yaml` content, sorted; without the
 * providers, which a preview's steps leave out too (test/support/pulumi-cli.ts `previewSteps`).
 */
export function plannedResources(stack: string, stackFile: string): string[] {
    const dir = mkdtempSync(path.join(tmpdir(), "plan-project-"));
    try {
        writeFileSync(
            path.join(dir, "Pulumi.yaml"),
            readFileSync(path.join(repo, "Pulumi.yaml"), "utf8").replace(
                /^main: .*$/m,
                `main: ${path.relative(dir, path.join(repo, "index.ts"))}`,
            ),
        );
        writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stackFile);
        const plan = spawnSync("npm", ["run", "--silent", "plan", "--", "--stack", stack, "--dir", dir], {
            cwd: repo,
            encoding: "utf8",
        });
        assert.equal(plan.status, 0, plan.stderr);
        const tree = plan.stdout.split(/^Resources \(\d+\):$/m)[1].split("\n\n")[0];
        return tree
            .split("\n")
            .filter((line) => line.trim() !== "")
            .map((line) => line.replace(/^[\s├└─│]+/, "").replace(/\s+/, " "))
            .filter((line) => !line.startsWith("pulumi:providers:"))
            .sort();
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * Every stack file of a file backend, and the stack's config file, hold none of `others`, nor a
 * password or a registry login made of `username` and one of `passwords` (the `auth` field, base64 of
 * `user:password`).
 */
export function assertStateHoldsNone(
    stateDir: string,
    stackConfigFile: string,
    secrets: { username: string; passwords: string[]; others: string[] },
): void {
    const stacks = path.join(stateDir, ".pulumi", "stacks");
    const files = readdirSync(stacks, { recursive: true })
        .map(String)
        .filter((file) => file.endsWith(".json"))
        .map((file) => path.join(stacks, file));
    assert.ok(files.length > 0, "the backend holds a stack file");
    files.push(stackConfigFile);
    const plainTexts = [
        ...secrets.others,
        ...secrets.passwords.flatMap((password) => [
            password,
            Buffer.from(password).toString("base64"),
            Buffer.from(`${secrets.username}:${password}`).toString("base64"),
        ]),
    ];
    for (const file of files) {
        const text = readFileSync(file, "utf8");
        for (const plain of plainTexts) {
            assert.equal(text.includes(plain), false, `${file} must not hold a secret in plain text`);
        }
        assert.equal(text.includes('.dockerconfigjson": "ey'), false, `${file} must not hold a docker config`);
    }
}

/**
 * The engine's events of one operation, with the sequence numbers that order them: what `pulumi up
 * --json` (and `refresh`, `destroy`) prints, one JSON event a line.
 */
export function engineEvents(jsonOutput: string) {
    const events: automation.EngineEvent[] = jsonOutput
        .split("\n")
        .filter((line) => line.startsWith('{"sequence":'))
        .map((line) => JSON.parse(line));
    type Step = automation.StepEventMetadata;
    const steps = (of: "resourcePreEvent" | "resOutputsEvent") =>
        events.flatMap((e) => (e[of] ? [{ sequence: e.sequence, step: e[of].metadata }] : []));
    return {
        events,
        /**
         * Steps that change something, as they started: `[op, type, name]`, sorted. Provider resources are
         * left out: the engine "updates" a default provider whose inputs (stack config) changed, which
         * touches nothing outside Pulumi.
         */
        changed: () =>
            steps("resourcePreEvent")
                .filter(({ step }) => step.op !== "same" && !step.type.startsWith("pulumi:providers:"))
                .map(({ step }) => [step.op, step.type, step.urn.split("::").pop()!])
                .sort(),
        /** Steps as they started: `[op, type, name]` in order. */
        started: () => steps("resourcePreEvent").map(({ step }) => [step.op, step.type, step.urn.split("::").pop()!]),
        /** The sequence number of the step's start (`pre`) or finish (`done`), for the step matching. */
        at(when: "pre" | "done", match: (step: Step) => boolean): number {
            const found = steps(when === "pre" ? "resourcePreEvent" : "resOutputsEvent").filter(({ step }) =>
                match(step),
            );
            assert.equal(found.length, 1, `one ${when} event matches`);
            return found[0].sequence;
        },
    };
}

/**
 * The `.dockerconfigjson` the Secret `name` holds in each namespace, kept current by a watch on the
 * API server, as the kubelet's secret manager keeps image pull Secrets (its default change-detection
 * strategy is Watch). A watch that ends is started again, as client-go's reflector does
 * (`tools/cache/reflector.go` watches again after a watch closes), keeping the last value meanwhile:
 * client-node ends a watch that saw nothing for 30 s (`Watch.requestTimeoutMs`), which a long `up`
 * reaches before it updates a Secret. A Secret deleted, or a watch that cannot be started again,
 * reads as an error. With `lagMs`, every change after the first content is applied that much later: a
 * kubelet whose cache is behind the API server. With `beforeCreated`, it starts before the Secrets
 * exist (a first `up`), and reads "no Secret" until each is created.
 */
export async function watchDockerConfigs(
    kubeconfig: string,
    namespaces: string[],
    name: string,
    lagMs = 0,
    beforeCreated = false,
) {
    const k8s = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    config.loadFromString(kubeconfig);
    const current = new Map<string, string>();
    const ended = new Set<string>();
    const watches = new Map<string, AbortController>();
    let stopped = false;
    const follow = async (namespace: string): Promise<void> => {
        const watch = await new k8s.Watch(config).watch(
            `/api/v1/namespaces/${namespace}/secrets`,
            { fieldSelector: `metadata.name=${name}` },
            (phase: string, secret: V1Secret) => {
                const apply = () => {
                    if (phase === "DELETED") current.delete(namespace);
                    else current.set(namespace, dockerConfigOf(secret));
                };
                // The first content is taken at once (a reader that has started); later ones lagMs late.
                if (lagMs === 0 || !current.has(namespace)) apply();
                else setTimeout(apply, lagMs);
            },
            () => {
                if (!stopped) follow(namespace).catch(() => ended.add(namespace));
            },
        );
        watches.set(namespace, watch);
    };
    await Promise.all(namespaces.map(follow));
    const deadline = Date.now() + 10_000;
    while (!beforeCreated && namespaces.some((namespace) => !current.has(namespace))) {
        if (Date.now() > deadline) throw new Error(`no Secret ${name} seen in ${namespaces.join(", ")}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return {
        current(namespace: string): string {
            const config = current.get(namespace);
            if (ended.has(namespace)) throw new Error(`the watch of ${namespace} ended`);
            if (config === undefined) throw new Error(`no Secret ${name} in ${namespace}`);
            return config;
        },
        stop: () => {
            stopped = true;
            watches.forEach((watch) => watch.abort());
        },
    };
}
