/**
 * No error of the component's own resources quotes what it was given or what it received: every
 * path of the dynamic providers (PullSecretEntry, RefreshedSecret, SecretClaim), and of the plugin serving them,
 * with a malformed kubeconfig (the YAML parser quotes the lines around a fault: token and client key
 * included), a kubeconfig whose context does not exist, a token given where a kubeconfig path goes,
 * and an API server that cannot be reached. Pulumi prints these errors (and their stacks) to the
 * terminal, to CI logs and into the backend.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type * as pulumi from "@pulumi/pulumi";
import { entryProvider } from "../components/attachment/pull-secret-entry-provider";
import { refreshedSecretProvider } from "../components/refresher/refreshed-secret-provider";
import { secretClaimProvider } from "../components/claim/secret-claim-provider";
import { pluginOptions, pluginProvider } from "../components/plugin";
import { servedType } from "../components/cluster/provider-by-name";
import { ownerIdOf } from "../components/rules/ownership";
import { freePort } from "./support/real-cluster";
import { secretValue } from "../tools/recording-monitor";

const token = "kube-token-THAT-MUST-NEVER-BE-PRINTED-0123456789";
const clientKey = Buffer.from("-----BEGIN PRIVATE KEY-----\nMIIEvQ-client-key-material\n").toString("base64");
const owner = ownerIdOf("urn:pulumi:dev::app::registry-pull-secret:index:RegistryPullSecret::regcred");
const fast = { appearTimeoutMs: 200, initialDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 };

const kubeconfigFor = (server: string) =>
    JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server, "insecure-skip-tls-verify": true } }],
        users: [{ name: "u", user: { token, "client-key-data": clientKey } }],
        contexts: [{ name: "real", context: { cluster: "c", user: "u" } }],
        "current-context": "real",
    });

/** A YAML kubeconfig whose last line breaks the document, right after the credentials. */
const malformed = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: c",
    "  cluster:",
    "    server: https://127.0.0.1:6443",
    "users:",
    "- name: u",
    "  user:",
    `    token: ${token}`,
    `    client-key-data: ${clientKey}`,
    "  broken: [",
    "",
].join("\n");

interface BadConnection {
    what: string;
    kubeconfig: string;
    context?: string;
    /** The whole message, or for a provider with retries its end. */
    message: RegExp;
}

async function badConnections(): Promise<BadConnection[]> {
    // Nothing listens on a port just freed: the connection is refused.
    const unreachable = kubeconfigFor(`http://127.0.0.1:${await freePort()}`);
    return [
        {
            what: "a malformed kubeconfig",
            kubeconfig: malformed,
            message: /^kubeconfig is not a valid kubeconfig document \(a syntax error at line 1[23]\)$/,
        },
        {
            what: "a kubeconfig without the context asked for",
            kubeconfig: unreachable,
            context: "staging",
            message: /^kubernetes context "staging" is not in the kubeconfig$/,
        },
        {
            what: "a token where a kubeconfig path goes",
            kubeconfig: token,
            message: /^kubeconfig: the file it names cannot be read \(ENOENT\)$/,
        },
        {
            what: "an unreachable API server",
            kubeconfig: unreachable,
            message:
                /: the API server could not be reached \(ECONNREFUSED at 127\.0\.0\.1:\d+\); check the kubeconfig it was reached through: the component's kubeconfig, else the stack's kubernetes:kubeconfig, else KUBECONFIG or ~\/\.kube\/config( after 2 attempt\(s\))?$/,
        },
    ];
}

/** The error's message and stack hold no credential and no line of the document. */
function assertQuotesNothing(error: unknown, bad: BadConnection) {
    assert.ok(error instanceof Error, String(error));
    assert.match(error.message, bad.message);
    for (const text of [error.message, error.stack ?? ""]) {
        assert.ok(!text.includes(token), `the token: ${text}`);
        assert.ok(!text.includes(clientKey.slice(0, 24)), `the client key: ${text}`);
        for (const line of bad.kubeconfig.split("\n").filter((l) => l.trim().length > 12)) {
            assert.ok(!text.includes(line.trim()), `a line of the kubeconfig: ${text}`);
        }
    }
    assert.equal((error as { cause?: unknown }).cause, undefined, "no cause carrying the original");
}

type Step = (
    provider: pulumi.dynamic.ResourceProvider,
    connection: { kubeconfig: string; context?: string },
) => Promise<unknown>;

const entry = (c: { kubeconfig: string; context?: string }) => ({
    namespace: "team-a",
    serviceAccount: "default",
    secretName: "regcred",
    entry: "team-a/default: regcred",
    owner,
    ...c,
});
const entryState = (c: { kubeconfig: string; context?: string }) => ({
    ...entry(c),
    listedBefore: false,
    present: false,
});
const secret = (c: { kubeconfig: string; context?: string }) => ({
    namespace: "team-a",
    secretName: "regcred",
    writer: "ns/token-refresher",
    owner,
    ...c,
});

const claim = (c: { kubeconfig: string; context?: string }) => ({
    namespaces: ["team-a", "team-b"],
    secretName: "regcred",
    owner,
    takeOver: true,
    serviceAccounts: ["default"],
    ...c,
});
// Only create reaches the cluster for good (check's read is best effort: see the test below).
const claimSteps: Record<string, Step> = { create: (p, c) => p.create(claim(c)) };

const entrySteps: Record<string, Step> = {
    create: (p, c) => p.create(entry(c)),
    read: (p, c) => p.read!("id", entryState(c)),
    update: (p, c) => p.update!("id", entryState(c), entry(c)),
    delete: (p, c) => p.delete!("id", entryState(c)),
};
const secretSteps: Record<string, Step> = {
    create: (p, c) => p.create(secret(c)),
    read: (p, c) => p.read!("id", secret(c)),
    update: (p, c) => p.update!("id", { ...secret(c), writer: "old/token-refresher" }, secret(c)),
    delete: (p, c) => p.delete!("id", secret(c)),
};

describe("errors quote no kubeconfig, credential or answer", async () => {
    const bad = await badConnections();
    const providers: [string, pulumi.dynamic.ResourceProvider, Record<string, Step>][] = [
        ["PullSecretEntry", entryProvider(undefined, fast), entrySteps],
        ["RefreshedSecret", refreshedSecretProvider(), secretSteps],
        ["SecretClaim", secretClaimProvider(), claimSteps],
    ];
    for (const [name, provider, steps] of providers) {
        for (const [step, run] of Object.entries(steps)) {
            for (const connection of bad) {
                it(`${name} ${step} with ${connection.what}`, async () => {
                    await assert.rejects(run(provider, connection), (error) => {
                        assertQuotesNothing(error, connection);
                        return true;
                    });
                });
            }
        }
    }

    for (const connection of bad) {
        it(`SecretClaim check with ${connection.what} leaves the decision to create, reporting no failure`, async () => {
            const checked = await secretClaimProvider().check!({}, claim(connection));
            assert.deepEqual(checked, { inputs: { ...claim(connection), verdicts: {} } });
        });
    }

    // The plugin (a component hosted for Python, Go, .NET or YAML) serves the same providers; the
    // kubeconfig arrives secret-wrapped.
    const plugin = pluginProvider(pluginOptions, {
        [servedType("PullSecretEntry")]: entryProvider(undefined, fast),
        [servedType("RefreshedSecret")]: refreshedSecretProvider(),
    });
    const urnOf = (type: string) =>
        `urn:pulumi:dev::yaml::registry-pull-secret:index:RegistryPullSecret$${servedType(type)}::regcred/team-a`;
    const wrapped = <T extends { kubeconfig: string }>(props: T) => ({
        ...props,
        kubeconfig: secretValue(props.kubeconfig),
    });
    for (const [type, props, state] of [
        ["PullSecretEntry", entry, entryState],
        ["RefreshedSecret", secret, secret],
    ] as const) {
        const urn = urnOf(type);
        const pluginSteps: Record<string, (c: { kubeconfig: string; context?: string }) => Promise<unknown>> = {
            create: (c) => plugin.create!(urn, wrapped(props(c))),
            read: (c) => plugin.read!("id", urn, wrapped(state(c))),
            update: (c) =>
                plugin.update!("id", urn, wrapped({ ...state(c), writer: "old/token-refresher" }), wrapped(props(c))),
            delete: (c) => plugin.delete!("id", urn, wrapped(state(c))),
        };
        for (const [step, run] of Object.entries(pluginSteps)) {
            for (const connection of bad) {
                it(`the plugin's ${type} ${step} with ${connection.what}`, async () => {
                    await assert.rejects(run(connection), (error) => {
                        assertQuotesNothing(error, connection);
                        return true;
                    });
                });
            }
        }
    }
});
