/**
 * Which reader grants `pulumi destroy` removes: a grant to a principal the stack created goes with it;
 * a grant to one that exists without the stack (a GKE node pool's account, `serviceAccountEmail`) is
 * retained (`retainOnDelete`), because the member may have held the role before us and the bridged
 * provider's delete removes the member whoever added it (components/credential/grants.ts).
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { serviceAccountKeyFile } from "../support/key-file";
import { claimWarning, settled, startMocks } from "../support/mocks";
import type { RegistryPullSecretArgs } from "../../components";

startMocks();
import { RegistryPullSecret } from "../../components";

const grantType = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember";
const repositories = [{ location: "asia", repository: "images" }];
const project = "example-project";
const email = "puller@example-project.iam.gserviceaccount.com";
const pinned = "registry.example.com/node@sha256:" + "a".repeat(64);
const inCluster = { namespaces: ["team-a"], registries: ["asia-docker.pkg.dev"] };
const accessToken = { project, credential: "accessToken" as const, projectNumber: "123456789012", repositories };

const cases: [string, RegistryPullSecretArgs, boolean][] = [
    [
        "a key for an account the stack creates",
        { ...inCluster, gcp: { project, serviceAccountId: "image-puller", repositories } },
        false,
    ],
    [
        "a key for an existing account",
        { ...inCluster, gcp: { project, serviceAccountEmail: email, repositories } },
        true,
    ],
    [
        "an existing key",
        { ...inCluster, gcp: { project, existingKey: serviceAccountKeyFile(email), repositories } },
        true,
    ],
    [
        "gkeNode: the node pool's account",
        { gcp: { project, credential: "gkeNode", serviceAccountEmail: email, repositories } },
        true,
    ],
    [
        "accessToken: the refresher's own Workload Identity principal",
        { ...inCluster, gcp: { ...accessToken, refresher: { image: pinned } } },
        false,
    ],
    [
        "accessToken impersonating an existing account",
        { ...inCluster, gcp: { ...accessToken, serviceAccountEmail: email, refresher: { image: pinned } } },
        true,
    ],
];

for (const [what, args, retained] of cases) {
    it(`${what}: destroy ${retained ? "leaves" : "removes"} the reader grant`, async () => {
        const registrations = startMocks();
        new RegistryPullSecret(`grants-${cases.findIndex(([w]) => w === what)}`, args);
        await settled();
        const grants = registrations.filter((r) => r.type === grantType);
        assert.equal(grants.length, 1, what);
        assert.equal(grants[0].retainOnDelete, retained, what);
        // The warnings these modes always give (test/keyless/ proves them).
        if (args.gcp?.credential === "gkeNode") claimWarning(/^gcp\.credential "gkeNode"/);
        if (args.gcp?.credential === "accessToken") claimWarning(/^gcp\.credential "accessToken" on GKE/);
    });
}
