/**
 * `pulumi import` of the package's own resources (issue 27 item 8): the engine calls `read` with the id
 * alone. Each provider refuses with a message that names the type and what to do instead, before it
 * touches any cluster; a refresh (with the state) is unaffected.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type * as pulumi from "@pulumi/pulumi";
import { entryProvider } from "../../components/attachment/pull-secret-entry-provider";
import { secretClaimProvider } from "../../components/claim/secret-claim-provider";
import { keyHandoverProvider } from "../../components/credential/key-handover-provider";
import { refreshedSecretProvider } from "../../components/refresher/refreshed-secret-provider";

const neverConnect = () => Promise.reject(new Error("import must not reach the cluster"));

const providers: [string, pulumi.dynamic.ResourceProvider, string][] = [
    ["PullSecretEntry", entryProvider(neverConnect), "team-a/default/regcred"],
    ["SecretClaim", secretClaimProvider(neverConnect), "team-a/regcred"],
    ["RefreshedSecret", refreshedSecretProvider(neverConnect), "team-a/regcred"],
    ["KeyHandover", keyHandoverProvider(), "key-handover"],
];

describe("pulumi import of the package's resources", () => {
    for (const [type, provider, id] of providers) {
        it(`${type}: refused with what to do instead, reaching no cluster`, async () => {
            for (const props of [undefined, {}]) {
                await assert.rejects(provider.read!(id, props), (error: Error) => {
                    assert.equal(error.name, "ClusterError");
                    assert.match(
                        error.message,
                        new RegExp(
                            `^${type} cannot be imported: the RegistryPullSecret component declares it\\. Declare the component instead and run pulumi up`,
                        ),
                    );
                    return true;
                });
            }
        });
    }

    it("a refresh (the state at hand) is no import: the claim and the handover read back their state", async () => {
        const claim = { namespace: "team-a", secretName: "regcred", takesOverFrom: [], entriesTakenOver: [] };
        assert.deepEqual(await secretClaimProvider(neverConnect).read!("team-a/regcred", claim), {
            id: "team-a/regcred",
            props: claim,
        });
        const handover = { keyName: "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/1", graceSeconds: 60 };
        assert.deepEqual(await keyHandoverProvider().read!("key-handover", handover), {
            id: "key-handover",
            props: handover,
        });
    });
});
