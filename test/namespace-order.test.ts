import assert from "node:assert/strict";
import { it } from "node:test";
import { Namespace } from "@pulumi/kubernetes/core/v1";
import { settled, startMocks } from "./support/mocks";
// The engine answers a registration once the resource exists; a slow Namespace shows whether the
// component's children wait for a `dependsOn` given to the component.
const registrations = startMocks({ createMs: (type) => (type === "kubernetes:core/v1:Namespace" ? 300 : 0) });
import { RegistryPullSecret } from "../components";
import { sampleArgs } from "./support/component";

it("creates nothing of its own before a Namespace the component dependsOn exists", async () => {
    const namespace = new Namespace("team-a", { metadata: { name: "team-a" } });
    new RegistryPullSecret("ordered", sampleArgs({ namespaces: ["team-a"] }), { dependsOn: [namespace] });
    await settled();
    const namespaceAnswered = registrations.find((r) => r.name === "team-a")?.answered as number;
    const children = registrations.filter((r) => r.name.startsWith("ordered"));
    // component, account, grant, key, readiness gate, the Secrets' provider, claim, Secret, entry, key handover
    assert.equal(children.length, 10);
    for (const child of children) {
        const sentAfter = registrations.indexOf(child) > registrations.findIndex((r) => r.name === "team-a");
        assert.ok(
            sentAfter && (child.answered as number) > namespaceAnswered,
            `${child.name} waited for the Namespace`,
        );
    }
});
