import assert from "node:assert/strict";
import { it } from "node:test";
import { isSecretValue, resolve, startMocks } from "./support/mocks";
const registrations = startMocks({ preview: true });
import { RegistryPullSecret } from "../components";
import { registeredBy, sampleArgs } from "./support/component";

const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

it("previews the whole graph while the key, the account's email and the Secret data are still unknown", async () => {
    const component = new RegistryPullSecret(
        "preview",
        sampleArgs({ namespaces: ["a", "b"], serviceAccounts: ["default", "deployer"] }),
    );
    const { children } = await registeredBy(component, registrations);
    // account, grant, key, readiness gate, key handover, the Secrets' provider, the claim, Secrets, entries
    assert.equal(children.length, 1 + 1 + 1 + 1 + 1 + 1 + 1 + 2 + 4);
    // The gate is a step of the preview, its credential unknown: nothing is asked until up.
    const gate = children.find((c) => c.type.endsWith(":PullReadiness"))!;
    assert.equal(JSON.stringify(gate.inputs.password).includes(unknown), true);
    const config = await resolve(component.dockerConfigJson);
    assert.equal(config.known, false);
    assert.equal(config.secret, true);
    assert.equal((await resolve(component.serviceAccountEmail)).known, false);
    assert.deepEqual((await resolve(component.namespaces)).value, ["a", "b"]);
    for (const secret of children.filter((c) => c.type === "kubernetes:core/v1:Secret")) {
        assert.ok(isSecretValue(secret.inputs.data) || secret.inputs.data === unknown);
        assert.equal(
            JSON.stringify(secret.inputs.data).includes(unknown),
            true,
            "data is unknown in preview, not invented",
        );
    }
});
