/**
 * The one claim of a component (components/claim/secret-claim-provider.ts) driven through
 * @kubernetes/client-node against the API-server DOUBLE (test/support/api-server-double.ts) behind a
 * proxy that holds each answer a little, so that reads overlap as they do against a real API server,
 * and counts how many it holds at once. What the engine sends is what these calls send: the checked
 * inputs to create and update, the state as olds.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
    readsAtOnce,
    secretClaimProvider,
    type SecretClaimInputs,
    type SecretClaimState,
} from "../../components/claim/secret-claim-provider";
import { takeOverArgument } from "../../components/claim/secret-claim-plan";
import { ownerIdOf, ownershipKeys } from "../../components/rules/ownership";
import { startApiServerDouble, type ApiServerDouble } from "../support/api-server-double";
import { forwardTo, serveWithFaults, type FaultInjectingServer } from "../support/fault-injection";

const owner = ownerIdOf("urn:pulumi:dev::app::registry-pull-secret:index:RegistryPullSecret::ours");
const other = ownerIdOf("urn:pulumi:prod::app::registry-pull-secret:index:RegistryPullSecret::theirs");
const dockerConfig = Buffer.from(JSON.stringify({ auths: { "asia.gcr.io": { auth: "eDp5" } } })).toString("base64");

let double: ApiServerDouble;
let proxy: FaultInjectingServer;
let held = 0;
let mostHeld = 0;
const reads: string[] = [];

before(async () => {
    double = await startApiServerDouble();
    const forward = forwardTo(double.url);
    proxy = await serveWithFaults(async (request, body) => {
        reads.push(`${request.method} ${request.url}`);
        mostHeld = Math.max(mostHeld, ++held);
        await new Promise((done) => setTimeout(done, 15));
        held--;
        return forward(request, body);
    });
});
after(async () => {
    await proxy?.close();
    await double?.close();
});

const inputs = (namespaces: string[], overrides: Partial<SecretClaimInputs> = {}): SecretClaimInputs => ({
    namespaces,
    secretName: "regcred",
    owner,
    takeOver: false,
    registries: ["asia.gcr.io"],
    takeOverFix: takeOverArgument,
    serviceAccounts: ["default"],
    kubeconfig: double.kubeconfig.replace(double.url, proxy.url),
    ...overrides,
});

/** A pull Secret `owner` made in `namespace` (its owner label), or, without one, a tenant's Secret written by `kubectl create`. */
function putSecret(namespace: string, ownedBy?: string) {
    double.putSecret({
        metadata: {
            name: "regcred",
            namespace,
            ...(ownedBy
                ? {
                      labels: {
                          [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value,
                          [ownershipKeys.secretOwner]: ownedBy,
                      },
                  }
                : {}),
        },
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": dockerConfig },
    });
}

const secretReads = (namespaces: string[]) =>
    reads.filter((r) => namespaces.some((ns) => r === `GET /api/v1/namespaces/${ns}/secrets/regcred`));

describe("one claim for every namespace of a component", () => {
    const many = Array.from({ length: 30 }, (_, i) => `claims-${i}`);

    it(`decides 30 namespaces in one create, reading at most ${readsAtOnce} at once, each once`, async () => {
        [reads.length, mostHeld] = [0, 0];
        const provider = secretClaimProvider();
        const created = await provider.create(inputs(many));
        assert.deepEqual(Object.keys(created.outs.verdicts).sort(), [...many].sort());
        assert.ok(mostHeld > 1 && mostHeld <= readsAtOnce, `at most ${readsAtOnce} reads at once: ${mostHeld}`);
        assert.equal(secretReads(many).length, many.length);
    });

    it("a later check and update keep the verdicts made and read only the namespaces added", async () => {
        const provider = secretClaimProvider();
        const state = (await provider.create(inputs(many.slice(0, 10)))).outs as SecretClaimState;
        reads.length = 0;
        const news = inputs([...many.slice(0, 10), "claims-added"]);
        const checked = await provider.check!(state, news);
        assert.deepEqual(checked.failures ?? [], []);
        assert.deepEqual(secretReads(many.slice(0, 10)), [], "no namespace decided before is read again");
        assert.equal(secretReads(["claims-added"]).length, 1);
        const diff = await provider.diff!("regcred", state, checked.inputs);
        assert.equal(diff.changes, true);
        assert.deepEqual(diff.replaces, []);
        reads.length = 0;
        const updated = await provider.update!("regcred", state, checked.inputs);
        assert.deepEqual(Object.keys(updated.outs.verdicts).sort(), [...many.slice(0, 10), "claims-added"].sort());
        assert.deepEqual(secretReads(many.slice(0, 10)), []);
        assert.equal(secretReads(["claims-added"]).length, 1);
    });

    it("a namespace removed is dropped from the verdicts; the same namespaces in another order are no change", async () => {
        const provider = secretClaimProvider();
        const state = (await provider.create(inputs(["claims-x", "claims-y"]))).outs as SecretClaimState;
        assert.equal((await provider.diff!("regcred", state, inputs(["claims-y", "claims-x"]))).changes, false);
        const updated = await provider.update!("regcred", state, inputs(["claims-y"]));
        assert.deepEqual(Object.keys(updated.outs.verdicts), ["claims-y"]);
    });

    it("refuses, naming every namespace whose Secret is somebody else's, in the preview's check and in create", async () => {
        putSecret("claims-theirs-1", other);
        putSecret("claims-theirs-2", other);
        putSecret("claims-ours", owner);
        const provider = secretClaimProvider();
        const news = inputs(["claims-free", "claims-theirs-1", "claims-ours", "claims-theirs-2"]);
        const checked = await provider.check!({}, news);
        assert.deepEqual(
            (checked.failures ?? []).map((f) => [f.property, /namespace "([^"]+)"/.exec(f.reason)?.[1]]),
            [
                ["secretName", "claims-theirs-1"],
                ["secretName", "claims-theirs-2"],
            ],
        );
        await assert.rejects(provider.create(news), (error: Error) => {
            assert.match(error.message, /namespace "claims-theirs-1" belongs to another RegistryPullSecret component/);
            assert.match(error.message, /namespace "claims-theirs-2" belongs to another RegistryPullSecret component/);
            assert.doesNotMatch(error.message, /claims-ours|claims-free/);
            return true;
        });
    });

    it("a preview that cannot reach the cluster leaves the decision to up, keeping the verdicts it has", async () => {
        const provider = secretClaimProvider();
        const state = (await provider.create(inputs(["claims-kept"]))).outs as SecretClaimState;
        const unreachable = inputs(["claims-kept", "claims-new"], {
            kubeconfig: double.kubeconfig.replace(double.url, "http://127.0.0.1:9"),
        });
        const checked = await provider.check!(state, unreachable);
        assert.deepEqual(checked.failures, undefined);
        assert.deepEqual(Object.keys(checked.inputs.verdicts), ["claims-kept"]);
    });

    it("the state of the former one-claim-per-namespace design keeps nothing: every namespace is decided again", async () => {
        putSecret("claims-upgraded", owner);
        const provider = secretClaimProvider();
        const former: Record<string, unknown> = {
            ...inputs([]),
            namespace: "claims-upgraded",
            takesOverFrom: [],
            entriesTakenOver: [],
        };
        delete former.namespaces;
        const updated = await provider.update!("claims-upgraded/regcred", former, inputs(["claims-upgraded"]));
        assert.deepEqual(updated.outs.verdicts, { "claims-upgraded": { takesOverFrom: [], entriesTakenOver: [] } });
    });
});
