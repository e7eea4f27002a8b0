/**
 * `RefreshedSecret` (the Secret of `gcp.credential: "accessToken"`) against the API-server double,
 * through the real client-node: Pulumi creates it holding no credential, never writes its data again
 * (update, refresh), adopts only its own, and deletes only its own.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString = require("require-from-string") as (code: string) => { handler(): unknown };
import { startApiServerDouble, type ApiServerDouble } from "./support/api-server-double";
import {
    emptyDockerConfig,
    refreshedSecretProvider,
    writerAnnotation,
    type RefreshedSecretInputs,
} from "../components/refreshed-secret-provider";
import { managedByLabel } from "../components/token-refresher";
import { providerByName } from "../components/provider-by-name";

const ours = { [managedByLabel.key]: managedByLabel.value };

describe("RefreshedSecret against the API-server double", () => {
    let double: ApiServerDouble;
    const provider = refreshedSecretProvider();
    const inputs = (namespace: string, secretName = "regcred"): RefreshedSecretInputs => ({
        namespace,
        secretName,
        writer: "pull-token-refresher/token-refresher",
        kubeconfig: double.kubeconfig,
    });
    const configOf = (namespace: string, name = "regcred") =>
        Buffer.from(double.secret(namespace, name)!.data![".dockerconfigjson"], "base64").toString("utf8");
    before(async () => (double = await startApiServerDouble()));
    after(() => double.close());

    it("creates a dockerconfigjson Secret with no credential, labelled for the refresher, and keeps no data in its state", async () => {
        const { id, outs } = await provider.create(inputs("a"));
        assert.equal(id, "a/regcred");
        assert.deepEqual(Object.keys(outs).sort(), ["kubeconfig", "namespace", "secretName", "writer"]);
        const secret = double.secret("a", "regcred")!;
        assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
        assert.deepEqual(secret.metadata.labels, ours);
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
        const olds = inputs("b");
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

    it("adopts its own Secret left by an interrupted destroy, token and all", async () => {
        const token = Buffer.from('{"auths":{"gcr.io":{"auth":"dTpw"}}}').toString("base64");
        double.putSecret({
            metadata: { name: "regcred", namespace: "g", labels: ours },
            type: "kubernetes.io/dockerconfigjson",
            data: { ".dockerconfigjson": token },
        });
        await provider.create(inputs("g"));
        assert.equal(double.secret("g", "regcred")!.data![".dockerconfigjson"], token);
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
