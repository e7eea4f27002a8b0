/**
 * The Google Cloud double implements exactly the `gcp:` resource types the component registers:
 * the set is taken from what the component registers under Pulumi's mocks in every way of making a
 * Google credential (each `gcp.credential` kind, with its variants), so a resource the component
 * starts to declare cannot slip past the double, and the double carries no type nobody uses.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { claimWarning, startMocks } from "../support/mocks";
const registrations = startMocks();
import { RegistryPullSecret, type GoogleCloudCredentialArgs } from "../../components";
import { CredentialKind } from "../../components/args";
import { serviceAccountKeyFile } from "../support/key-file";
import { settled } from "../support/mocks";
import { resourceTypes } from "../support/google-cloud-double/resource-types";

const email = "image-puller@example-project.iam.gserviceaccount.com";
const repositories = [{ location: "asia", repository: "asia.gcr.io" }];
const federation = { poolId: "eks-prod", providerId: "eks-prod-oidc" };

/** Every variant of each credential kind (the record is keyed by kind: a new kind must get one here). */
const variants: Record<CredentialKind, Partial<GoogleCloudCredentialArgs>[]> = {
    key: [
        { serviceAccountId: "image-puller", keyRotationDays: 30, keyVersion: 1 },
        { serviceAccountEmail: email },
        { existingKey: serviceAccountKeyFile(email) },
    ],
    gkeNode: [{ serviceAccountEmail: email }],
    accessToken: [
        { projectNumber: "123456789012" },
        { projectNumber: "123456789012", federation: { ...federation, issuerUri: "https://oidc.example" } },
        { projectNumber: "123456789012", federation: { ...federation, existing: true } },
        {
            projectNumber: "123456789012",
            serviceAccountEmail: email,
            federation: { ...federation, issuerUri: "https://oidc.example" },
        },
    ],
};

it("the double's resource types are the gcp types the component registers across every credential kind", async () => {
    let n = 0;
    for (const kind of Object.values(CredentialKind)) {
        assert.ok(variants[kind].length > 0, `a variant of gcp.credential ${kind}`);
        for (const variant of variants[kind]) {
            // gkeNode declares no Secret, so it takes no namespaces or registries.
            const targets =
                kind === CredentialKind.gkeNode ? {} : { namespaces: ["team-a"], registries: ["asia.gcr.io"] };
            new RegistryPullSecret(`c${n++}`, {
                ...targets,
                gcp: { project: "example-project", repositories, credential: kind, ...variant },
            });
        }
    }
    await settled();
    const registered = new Set(registrations.map((r) => r.type).filter((type) => type.startsWith("gcp:")));
    assert.deepEqual([...registered].sort(), Object.keys(resourceTypes).sort());
    // The keyless variants' preview warnings (their text is asserted in keyless-graph.test.ts).
    claimWarning(/^gcp\.credential "gkeNode"/);
    claimWarning(/^gcp\.credential "accessToken" on GKE/);
    claimWarning(/^gcp\.federation\.existing/);
    for (let i = 0; i < variants.accessToken.length; i++) claimWarning(/^gcp\.refresher\.image "node:24-alpine"/);
});
