/**
 * Bad input for `gcp.credential` and the keyless arguments: an InputPropertyError naming the property,
 * thrown before anything registers.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { claimWarning, settled, startMocks } from "../support/mocks";
import { describeRefusals, type Refusal } from "../support/refusals";
const registrations = startMocks();
import { RegistryPullSecret, type GoogleCloudCredentialArgs, type RegistryPullSecretArgs } from "../../components";

const repositories = [{ location: "asia", repository: "asia.gcr.io" }];
const email = "nodes@example-project.iam.gserviceaccount.com";
function withGcp(gcp: Partial<GoogleCloudCredentialArgs>): RegistryPullSecretArgs {
    return {
        namespaces: ["team-a"],
        registries: ["asia.gcr.io"],
        gcp: { project: "example-project", repositories, ...gcp },
    };
}
/** gkeNode args as its users write them: no namespaces, no registries. */
const node = (extra: Partial<GoogleCloudCredentialArgs>, cluster: Partial<RegistryPullSecretArgs> = {}) => ({
    gcp: {
        project: "example-project",
        repositories,
        credential: "gkeNode" as const,
        serviceAccountEmail: email,
        ...extra,
    },
    ...cluster,
});
const token = (extra: Partial<GoogleCloudCredentialArgs>) =>
    withGcp({ credential: "accessToken", projectNumber: "123456789012", ...extra });
const federation = { poolId: "eks-pool", providerId: "eks-oidc", issuerUri: "https://oidc.example.com" };

const cases: Refusal[] = [
    [
        "an unknown credential",
        // as a JavaScript program or another language may send it (TypeScript refuses it at compile time)
        withGcp({ credential: "workloadIdentity" as never }),
        "gcp.credential",
        /^gcp.credential must be one of "key", "gkeNode", "accessToken"/,
    ],
    [
        "a credential only known later",
        withGcp({ credential: pulumi.output("gkeNode") as never }),
        "gcp.credential",
        /plain string known when the program runs/,
    ],
    [
        "gkeNode without the node pool's account",
        node({ serviceAccountEmail: undefined }),
        "gcp.serviceAccountEmail",
        /^gcp.serviceAccountEmail is required with gcp.credential "gkeNode" and is not set: the node pool's service account \(gcloud container node-pools describe POOL --cluster CLUSTER --format='value\(config.serviceAccount\)'; "default" there means PROJECT_NUMBER-compute@developer.gserviceaccount.com\)$/,
    ],
    [
        "gkeNode with namespaces (it declares no Secret)",
        node({}, { namespaces: ["team-a"] }),
        "namespaces",
        /^namespaces cannot be given with gcp.credential "gkeNode": the nodes pull with their own service account, so no Secret is declared in any namespace; leave namespaces out/,
    ],
    [
        "gkeNode with registries (it writes no docker config)",
        node({}, { registries: ["asia.gcr.io"] }),
        "registries",
        /^registries cannot be given with gcp.credential "gkeNode": .* so no docker config is written for any registry; leave registries out/,
    ],
    [
        "gkeNode with registries only known later",
        node({}, { registries: pulumi.output(["asia.gcr.io"]) }),
        "registries",
        /cannot be given with gcp.credential "gkeNode"/,
    ],
    [
        "gkeNode with an existing key",
        node({ existingKey: "{}" }),
        "gcp.existingKey",
        /cannot be given with gcp.credential "gkeNode"/,
    ],
    ["gkeNode with key rotation", node({ keyRotationDays: 30 }), "gcp.keyRotationDays", /"gkeNode"/],
    ["gkeNode with a key version", node({ keyVersion: 1 }), "gcp.keyVersion", /"gkeNode"/],
    ["gkeNode creating an account", node({ serviceAccountId: "image-puller" }), "gcp.serviceAccountId", /"gkeNode"/],
    ["gkeNode with federation", node({ federation }), "gcp.federation", /"gkeNode"/],
    ["gkeNode with a refresher", node({ refresher: {} }), "gcp.refresher", /"gkeNode"/],
    ["gkeNode without repositories", node({ repositories: [] }), "gcp.repositories", /at least one repository/],
    [
        "accessToken with an existing key",
        token({ existingKey: "{}" }),
        "gcp.existingKey",
        /"accessToken": it uses no key/,
    ],
    ["accessToken with key rotation", token({ keyRotationDays: 7 }), "gcp.keyRotationDays", /"accessToken"/],
    ["accessToken with a key version", token({ keyVersion: 2 }), "gcp.keyVersion", /"accessToken"/],
    [
        "accessToken creating an account",
        token({ serviceAccountId: "image-puller" }),
        "gcp.serviceAccountId",
        /creates no service account/,
    ],
    [
        "accessToken without the project number",
        token({ projectNumber: undefined }),
        "gcp.projectNumber",
        /is required with gcp.credential "accessToken" and is not set: .*gcloud projects describe PROJECT --format='value\(projectNumber\)'/,
    ],
    [
        "accessToken with a project id for its number",
        token({ projectNumber: "example-project" }),
        "gcp.projectNumber",
        /digits only/,
    ],
    [
        "accessToken with nothing to read and no account to impersonate",
        token({ repositories: [] }),
        "gcp.repositories",
        /unless gcp.serviceAccountEmail/,
    ],
    [
        "a non-https issuer",
        token({ federation: { ...federation, issuerUri: "http://oidc.example.com" } }),
        "gcp.federation.issuerUri",
        /must be an https:\/\/ URL/,
    ],
    [
        "an issuer that is not a URL",
        token({ federation: { ...federation, issuerUri: "oidc.example.com" } }),
        "gcp.federation.issuerUri",
        /absolute https/,
    ],
    [
        "federation without a pool id",
        token({ federation: { ...federation, poolId: undefined as never } }),
        "gcp.federation.poolId",
        /^gcp.federation.poolId is required; it is not set$/,
    ],
    [
        "federation without an issuer",
        token({ federation: { poolId: "eks-pool", providerId: "eks-oidc" } }),
        "gcp.federation.issuerUri",
        /is required unless gcp.federation.existing/,
    ],
    [
        "an existing federation with an issuer",
        token({ federation: { ...federation, existing: true } }),
        "gcp.federation.issuerUri",
        /cannot be given with gcp.federation.existing/,
    ],
    [
        "a pool id Google reserves",
        token({ federation: { ...federation, poolId: "gcp-pool" } }),
        "gcp.federation.poolId",
        /reserved/,
    ],
    [
        "a provider id too short",
        token({ federation: { ...federation, providerId: "eks" } }),
        "gcp.federation.providerId",
        /4 to 32/,
    ],
    [
        "a JWKS that is not a key set",
        token({ federation: { ...federation, jwksJson: "[]" } }),
        "gcp.federation.jwksJson",
        /JSON Web Key Set/,
    ],
    [
        "a refresher namespace that is not a label",
        token({ refresher: { namespace: "Pull_Tokens" } }),
        "gcp.refresher.namespace",
        /RFC 1123/,
    ],
    ["a refresher image with spaces", token({ refresher: { image: "node 24" } }), "gcp.refresher.image", /whitespace/],
    [
        "a refresher namespace that is one of the target namespaces (the component would own and delete it)",
        token({ refresher: { namespace: "team-a" } }),
        "gcp.refresher.namespace",
        /^gcp\.refresher\.namespace must not be one of namespaces \("team-a"\): the component creates and deletes the refresher's namespace/,
    ],
    [
        "a refresher namespace too long for the federated subject (google.subject holds at most 127 bytes)",
        token({
            federation: { ...federation, providerId: "p".repeat(32) },
            refresher: { namespace: "n".repeat(57) },
        }),
        "gcp.refresher.namespace",
        /is too long for gcp\.federation\.providerId "p{32}": the refresher's federated subject \(provider, namespace and account\) would be 128 bytes, and Google accepts at most 127/,
    ],
    [
        "a key credential with federation",
        withGcp({ serviceAccountEmail: email, federation }),
        "gcp.federation",
        /only for gcp.credential "accessToken"/,
    ],
    [
        "a key credential with a project number",
        withGcp({ serviceAccountEmail: email, projectNumber: "1" }),
        "gcp.projectNumber",
        /only for/,
    ],
];

describeRefusals("keyless validation before anything registers", RegistryPullSecret, registrations, cases);

describe("keyless validation before anything registers: what is accepted", () => {
    it("accepts the longest refresher namespace whose federated subject fits in 127 bytes, and any default one", async () => {
        assert.doesNotThrow(
            () =>
                new RegistryPullSecret(
                    "fits",
                    token({
                        federation: { ...federation, providerId: "p".repeat(32) },
                        refresher: { namespace: "n".repeat(56) },
                    }),
                ),
        );
        // The default namespace is at most 51 characters: it fits beside a 32-character provider id.
        assert.doesNotThrow(
            () =>
                new RegistryPullSecret(
                    "a-component-name-far-longer-than-any-namespace-could-hold-in-one-label",
                    token({ federation: { ...federation, providerId: "p".repeat(32) } }),
                ),
        );
        await settled();
        for (let i = 0; i < 2; i++) claimWarning(/^gcp\.refresher\.image "node:24-alpine" is not pinned by digest/);
    });

    const leftOut: [string, Partial<RegistryPullSecretArgs>][] = [
        ["left out", {}],
        ["empty lists", { namespaces: [], registries: [] }],
    ];
    for (const [what, cluster] of leftOut) {
        it(`accepts gkeNode with namespaces and registries ${what}: it declares nothing in the cluster`, async () => {
            assert.doesNotThrow(() => new RegistryPullSecret(`node-${what.replace(" ", "-")}`, node({}, cluster)));
            await settled();
            claimWarning(/^gcp\.credential "gkeNode": EVERY pod on the nodes/);
        });
    }

    it('accepts credential "key" spelled out, as the default', async () => {
        assert.doesNotThrow(
            () => new RegistryPullSecret("spelled", withGcp({ credential: "key", serviceAccountEmail: email })),
        );
        await settled();
    });
});
