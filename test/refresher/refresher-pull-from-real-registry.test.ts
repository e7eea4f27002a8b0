/**
 * End to end for `gcp.credential: "accessToken"`: the token refresher (components/refresher/token-refresher.ts)
 * writes a Secret through the API-server double with a token the metadata server double issued; that
 * Secret's `.dockerconfigjson` pulls an image from a real registry (test/support/real-registry.ts)
 * that accepts user `oauth2accesstoken` with the current token, as Artifact Registry does. Once the
 * registry accepts only the next token (the first one expired), the old config is refused and the
 * refreshed Secret pulls.
 *
 * What only Google can show is not shown here: that Artifact Registry accepts the tokens of a real
 * metadata server, STS or IAM Credentials for a principal holding roles/artifactregistry.reader.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startRefresher, type Refresher } from "../../components/refresher/token-refresher";
import { ownerIdOf, ownershipKeys } from "../../components/rules/ownership";
import { startApiServerDouble, type ApiServerDouble } from "../support/api-server-double";
import { doubleToken, ManualClock, startMetadataServerDouble, type TokenDouble } from "../support/google-token-doubles";
import { RealRegistry } from "../support/real-registry";

/** Artifact Registry's username for an access token (docs/facts.md#access-tokens), set up independently here. */
const tokenUser = "oauth2accesstoken";
const [firstToken, secondToken] = [doubleToken(), doubleToken()];
const clock = new ManualClock();
const owner = ownerIdOf("urn:pulumi:e2e::app::registry-pull-secret:index:RegistryPullSecret::regcred");
let registry: RealRegistry;
let api: ApiServerDouble;
let metadata: TokenDouble;
let refresher: Refresher;

before(async () => {
    registry = await RealRegistry.start([{ user: tokenUser, password: firstToken }]);
    api = await startApiServerDouble();
    api.putSecret({
        metadata: {
            name: "regcred",
            namespace: "e2e",
            labels: {
                [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value,
                [ownershipKeys.secretOwner]: owner,
            },
        },
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": Buffer.from('{"auths":{}}').toString("base64") },
    });
    metadata = await startMetadataServerDouble(clock.now);
    metadata.issueNext(firstToken, secondToken);
    refresher = await startRefresher({
        config: {
            targets: [{ namespace: "e2e", secretName: "regcred" }],
            registries: [registry.host],
            // Proved by the real registry before the first write: it signs the first token in.
            probes: [{ host: registry.host, repositories: [] }],
            identity: { source: "gkeMetadata" },
            port: 0,
            owner,
            deployment: { namespace: "e2e-refresher", name: "token-refresher" },
        },
        endpoints: {
            metadataServer: metadata.url,
            sts: "http://127.0.0.1:9",
            iamCredentials: "http://127.0.0.1:9",
            kubernetes: { url: api.url, token: () => "refresher-sa-token" },
        },
        clock,
        host: "127.0.0.1",
        log: () => undefined,
    });
    await untilWaiting();
});
after(async () => {
    await refresher?.stop();
    await metadata?.close();
    await api?.close();
    await registry?.remove();
});

async function untilWaiting(): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (clock.waiting !== 1) {
        if (Date.now() > deadline) throw new Error("the refresher did not finish its round");
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
}

/** The Secret's docker config as the kubelet would read it, written where skopeo can read it. */
function authfileFromSecret(name: string): string {
    const secret = api.secret("e2e", "regcred")!;
    return registry.writeAuthfile(name, Buffer.from(secret.data![".dockerconfigjson"], "base64").toString("utf8"));
}

test("the registry refuses the Secret as Pulumi created it (no credential), so the pulls below prove the token", async () => {
    await registry.assertRefused(registry.writeAuthfile("empty", '{"auths":{}}'));
});

let firstConfig = "";
test("the Secret the refresher wrote pulls the image with the token the metadata server double issued", async () => {
    assert.equal(metadata.issued[0].token, firstToken);
    firstConfig = authfileFromSecret("first");
    assert.equal(registry.passwordIn(firstConfig), firstToken);
    await registry.assertPulls(firstConfig);
    assert.equal(refresher.ready(), true);
});

test("the same token under another username is refused", async () => {
    const config = JSON.parse(readFileSync(firstConfig, "utf8"));
    const entry = config.auths[registry.host];
    entry.username = "_json_key";
    entry.auth = Buffer.from(`_json_key:${firstToken}`).toString("base64");
    await registry.assertRefused(registry.writeAuthfile("wrong-user", JSON.stringify(config)));
});

test("once the first token is stale the old config is refused, and the refreshed Secret pulls", async () => {
    // The registry now accepts only the next token, as Artifact Registry refuses an expired one.
    await registry.restart([{ user: tokenUser, password: secondToken }]);
    await registry.assertRefused(firstConfig);
    clock.advance(clock.nextWakeInMs!);
    await untilWaiting();
    assert.equal(metadata.issued[1].token, secondToken);
    const refreshed = authfileFromSecret("refreshed");
    assert.equal(registry.passwordIn(refreshed), secondToken);
    await registry.assertPulls(refreshed);
});
