/**
 * `RefreshedSecret` (the Secret of `gcp.credential: "accessToken"`) against the API-server double,
 * through the real client-node: Pulumi creates it holding no credential and recording its component's
 * owner id, never writes its data again (update, refresh), adopts only its own (same owner, nothing
 * foreign on it), and deletes only its own.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString = require("require-from-string") as (code: string) => { handler(): unknown };
import { startApiServerDouble, type ApiServerDouble } from "../support/api-server-double";
import {
    emptyDockerConfig,
    refreshedSecretProvider,
    type RefreshedSecretInputs,
    type RefreshedSecretState,
} from "../../components/refresher/refreshed-secret-provider";
import { ownerIdOf, ownershipKeys } from "../../components/rules/ownership";
import { providerByName } from "../../components/cluster/provider-by-name";

const owner = ownerIdOf("urn:pulumi:dev::app::registry-pull-secret:index:RegistryPullSecret::regcred");
const otherOwner = ownerIdOf("urn:pulumi:prod::app::registry-pull-secret:index:RegistryPullSecret::regcred");
const writerAnnotation = ownershipKeys.writer;
/** The labels the component puts on its Secrets. */
const labelsOf = (id: string) => ({
    [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value,
    [ownershipKeys.secretOwner]: id,
});

describe("RefreshedSecret against the API-server double", () => {
    let double: ApiServerDouble;
    const provider = refreshedSecretProvider();
    const inputs = (namespace: string, secretName = "regcred", id = owner): RefreshedSecretInputs => ({
        namespace,
        secretName,
        writer: "pull-token-refresher/token-refresher",
        owner: id,
        kubeconfig: double.kubeconfig,
    });
    const configOf = (namespace: string, name = "regcred") =>
        Buffer.from(double.secret(namespace, name)!.data![".dockerconfigjson"], "base64").toString("utf8");
    before(async () => (double = await startApiServerDouble()));
    after(() => double.close());

    it("creates a dockerconfigjson Secret with no credential, labelled for the refresher with its owner, and keeps no data in its state", async () => {
        const { id, outs } = await provider.create(inputs("a"));
        assert.equal(id, "a/regcred");
        assert.deepEqual(Object.keys(outs).sort(), ["kubeconfig", "namespace", "owner", "secretName", "uid", "writer"]);
        assert.equal(outs.uid, double.secret("a", "regcred")!.metadata.uid, "the uid the API server gave it");
        const secret = double.secret("a", "regcred")!;
        assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
        assert.deepEqual(secret.metadata.labels, labelsOf(owner));
        assert.equal(secret.metadata.annotations?.[writerAnnotation], "pull-token-refresher/token-refresher");
        assert.equal(configOf("a"), emptyDockerConfig);
    });

    it("update and refresh leave the refresher's token in place: at most the writer annotation is patched", async () => {
        await provider.create(inputs("b"));
        const token = '{"auths":{"gcr.io":{"username":"oauth2accesstoken","password":"fresh","auth":"x"}}}';
        double.putSecret({
            ...double.secret("b", "regcred")!,
            data: { ".dockerconfigjson": Buffer.from(token).toString("base64") },
        });
        const writes = () => double.log.filter((l) => !l.startsWith("GET"));
        const writesBefore = writes().length;
        const olds = { ...inputs("b"), uid: double.secret("b", "regcred")!.metadata.uid };
        const read = await provider.read!("b/regcred", olds);
        assert.equal(read.id, "b/regcred");
        assert.deepEqual(read.props, olds, "refresh reads back no data");
        await provider.update!("b/regcred", olds, { ...olds, kubeconfig: `${double.kubeconfig}\n` });
        assert.equal(writes().length, writesBefore, "a new kubeconfig writes nothing");
        const news = { ...olds, writer: "other-namespace/token-refresher" };
        assert.deepEqual(await provider.diff!("b/regcred", olds, news), {
            changes: true,
            replaces: [],
            deleteBeforeReplace: false,
        });
        await provider.update!("b/regcred", olds, news);
        assert.equal(writes().length, writesBefore + 1, "one patch, of the annotation only");
        assert.match(writes().at(-1)!, /^PATCH /);
        assert.equal(double.secret("b", "regcred")!.metadata.annotations?.[writerAnnotation], news.writer);
        assert.equal(configOf("b"), token);
    });

    it("a new namespace or name replaces the resource (create first, then delete)", async () => {
        const olds = inputs("c");
        assert.deepEqual(await provider.diff!("c/regcred", olds, inputs("d")), {
            changes: true,
            replaces: ["namespace"],
            deleteBeforeReplace: false,
        });
        assert.deepEqual((await provider.diff!("c/regcred", olds, inputs("c", "other"))).replaces, ["secretName"]);
        assert.equal((await provider.diff!("c/regcred", olds, inputs("c"))).changes, false);
    });

    it("refresh after the Secret was deleted forgets it, so the next pulumi up creates it again", async () => {
        await provider.create(inputs("e"));
        double.deleteSecret("e", "regcred");
        assert.equal((await provider.read!("e/regcred", inputs("e"))).id, "");
        await provider.create(inputs("e"));
        assert.equal(configOf("e"), emptyDockerConfig);
    });

    it("refuses to take over a Secret of the same name that someone else created, and leaves it as it was", async () => {
        double.putSecret({ metadata: { name: "regcred", namespace: "f" }, type: "Opaque", data: { x: "eQ==" } });
        await assert.rejects(
            provider.create(inputs("f")),
            /already exists and was not created by registry-pull-secret/,
        );
        assert.deepEqual(double.secret("f", "regcred")!.data, { x: "eQ==" });
        assert.equal((await provider.read!("f/regcred", inputs("f"))).id, "", "not ours: not in the stack");
        await provider.delete!("f/regcred", inputs("f"));
        assert.ok(double.secret("f", "regcred"), "delete leaves another owner's Secret");
    });

    it("adopts its own Secret left by an interrupted create or destroy, token and all", async () => {
        const token = Buffer.from('{"auths":{"gcr.io":{"auth":"dTpw"}}}').toString("base64");
        double.putSecret({
            metadata: {
                name: "regcred",
                namespace: "g",
                labels: labelsOf(owner),
                annotations: {
                    [writerAnnotation]: "x/token-refresher",
                    [ownershipKeys.tokenExpiresAt]: "2026-01-01T01:00:00.000Z",
                },
            },
            type: "kubernetes.io/dockerconfigjson",
            data: { ".dockerconfigjson": token },
        });
        await provider.create(inputs("g"));
        assert.equal(double.secret("g", "regcred")!.data![".dockerconfigjson"], token);
    });

    it("refuses another component's Secret of the same namespace and name (another stack), and its destroy leaves it", async () => {
        await provider.create(inputs("other-stack", "regcred", otherOwner));
        await assert.rejects(
            provider.create(inputs("other-stack")),
            new RegExp(
                `already exists and belongs to another registry-pull-secret component \\(owner ${otherOwner}\\)`,
            ),
        );
        assert.equal((await provider.read!("other-stack/regcred", inputs("other-stack"))).id, "", "not in our stack");
        await provider.delete!("other-stack/regcred", inputs("other-stack"));
        assert.equal(double.secret("other-stack", "regcred")?.metadata.labels?.[ownershipKeys.secretOwner], otherOwner);
    });

    it("refuses a Secret a tenant pre-created with our managed-by label: without our owner, or with it but anything else on it", async () => {
        double.putSecret({
            metadata: {
                name: "regcred",
                namespace: "tenant",
                labels: { [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value },
            },
            type: "kubernetes.io/dockerconfigjson",
            data: { ".dockerconfigjson": Buffer.from("{}").toString("base64") },
        });
        await assert.rejects(provider.create(inputs("tenant")), /without an owner record/);
        double.putSecret({
            metadata: {
                name: "regcred",
                namespace: "tenant",
                labels: labelsOf(owner),
                annotations: { "reflector.v1.k8s.emberstack.com/reflection-allowed": "true" },
            },
            type: "kubernetes.io/dockerconfigjson",
            data: { ".dockerconfigjson": Buffer.from("{}").toString("base64") },
        });
        await assert.rejects(
            provider.create(inputs("tenant")),
            /carries labels or annotations the component never writes \(reflector\.v1\.k8s\.emberstack\.com\/reflection-allowed\)/,
        );
        await provider.delete!("tenant/regcred", { ...inputs("tenant"), owner: otherOwner });
        assert.ok(double.secret("tenant", "regcred"), "left as it is");
    });

    it("a Secret created before owners were recorded: refresh keeps it, the next update records the owner, destroy deletes it", async () => {
        double.putSecret({
            metadata: {
                name: "regcred",
                namespace: "legacy",
                labels: { [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value },
                annotations: { [writerAnnotation]: "pull-token-refresher/token-refresher" },
            },
            type: "kubernetes.io/dockerconfigjson",
            data: { ".dockerconfigjson": Buffer.from(emptyDockerConfig).toString("base64") },
        });
        const legacy: RefreshedSecretState = { ...inputs("legacy"), owner: undefined };
        assert.equal((await provider.read!("legacy/regcred", legacy)).id, "legacy/regcred");
        assert.equal((await provider.diff!("legacy/regcred", legacy, inputs("legacy"))).changes, true);
        await provider.update!("legacy/regcred", legacy, inputs("legacy"));
        assert.deepEqual(double.secret("legacy", "regcred")!.metadata.labels, labelsOf(owner));
        await provider.delete!("legacy/regcred", inputs("legacy"));
        assert.equal(double.secret("legacy", "regcred"), undefined);
    });

    it("a tenant who changes the labels of our Secret locks nobody out: refresh keeps it, the next up puts our labels back", async () => {
        const { outs } = await provider.create(inputs("relabel"));
        const created = double.secret("relabel", "regcred")!;
        // A tenant with patch rights on Secrets: the refresher now refuses to write it ("not ours any more").
        double.putSecret({
            ...created,
            metadata: { ...created.metadata, labels: { [ownershipKeys.secretOwner]: otherOwner } },
        });
        const read = await provider.read!("relabel/regcred", outs as RefreshedSecretState);
        assert.equal(read.id, "relabel/regcred", "the object we created stays in the stack");
        const refreshed = read.props as RefreshedSecretState;
        assert.equal(refreshed.relabeled, true);
        assert.equal(
            (await provider.diff!("relabel/regcred", refreshed, inputs("relabel"))).changes,
            true,
            "up has work to do",
        );
        const updated = await provider.update!("relabel/regcred", refreshed, inputs("relabel"));
        assert.deepEqual(double.secret("relabel", "regcred")!.metadata.labels, labelsOf(owner));
        assert.equal(updated.outs.uid, created.metadata.uid);
        assert.equal(updated.outs.relabeled, undefined);
        const again = await provider.read!("relabel/regcred", updated.outs as RefreshedSecretState);
        assert.equal(
            (await provider.diff!("relabel/regcred", again.props as RefreshedSecretState, inputs("relabel"))).changes,
            false,
        );
    });

    it("destroy deletes the Secret it created even after a tenant relabelled it, and forgets one replaced by another object of that name", async () => {
        const { outs } = await provider.create(inputs("replaced"));
        const created = double.secret("replaced", "regcred")!;
        double.putSecret({ ...created, metadata: { ...created.metadata, labels: {} } });
        await provider.delete!("replaced/regcred", outs as RefreshedSecretState);
        assert.equal(double.secret("replaced", "regcred"), undefined, "ours, whatever its labels");
        const second = await provider.create(inputs("replaced"));
        double.deleteSecret("replaced", "regcred");
        // Somebody else's object of the same name, made to look like another component's: a new uid.
        double.putSecret({
            metadata: { name: "regcred", namespace: "replaced", labels: labelsOf(otherOwner) },
            type: "kubernetes.io/dockerconfigjson",
            data: { ".dockerconfigjson": Buffer.from(emptyDockerConfig).toString("base64") },
        });
        assert.equal((await provider.read!("replaced/regcred", second.outs as RefreshedSecretState)).id, "");
        await provider.delete!("replaced/regcred", second.outs as RefreshedSecretState);
        assert.ok(double.secret("replaced", "regcred"), "another object is left as it is");
    });

    it("a refused adoption names the way out for the stack's owner: our labels back, or another secretName", async () => {
        double.putSecret({
            metadata: { name: "regcred", namespace: "locked", labels: labelsOf(otherOwner) },
            type: "kubernetes.io/dockerconfigjson",
            data: { ".dockerconfigjson": Buffer.from(emptyDockerConfig).toString("base64") },
        });
        await assert.rejects(provider.create(inputs("locked")), (error: Error) => {
            assert.match(error.message, /belongs to another registry-pull-secret component/);
            assert.ok(
                error.message.includes(
                    `kubectl label secret regcred -n locked --overwrite app.kubernetes.io/managed-by=registry-pull-secret registry-pull-secret/owner=${owner}`,
                ),
                error.message,
            );
            assert.match(error.message, /otherwise choose another secretName/);
            return true;
        });
        const secret = double.secret("locked", "regcred")!;
        double.putSecret({ ...secret, metadata: { ...secret.metadata, labels: labelsOf(owner) } });
        const { outs } = await provider.create(inputs("locked"));
        assert.equal(outs.uid, secret.metadata.uid, "after the owner relabelled it, it is adopted");
    });

    it("destroy deletes its Secret; a Secret already gone is not an error", async () => {
        await provider.create(inputs("h"));
        await provider.delete!("h/regcred", inputs("h"));
        assert.equal(double.secret("h", "regcred"), undefined);
        await provider.delete!("h/regcred", inputs("h"));
    });

    it("works from the text the resource stores, evaluated like the dynamic-provider host does", async () => {
        const text = providerByName("refreshed-secret-provider", provider);
        const loaded = requireFromString(text).handler() as pulumi.dynamic.ResourceProvider;
        await loaded.create(inputs("serialized"));
        assert.equal(configOf("serialized"), emptyDockerConfig);
        assert.ok(Buffer.byteLength(text) <= 2048, `${Buffer.byteLength(text)} bytes`);
        assert.doesNotMatch(
            text,
            /startRefresher|createNamespacedSecret|auths/,
            "nothing of the implementation is copied",
        );
    });
});
