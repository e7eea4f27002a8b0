import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { stackConfig } from "./support/stack-config";

/** Evaluates index.ts with a stack's config in its own process (Pulumi state is per process). */
function evaluate(stack: string) {
    const run = spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/sample-program.ts", stack], {
        encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as {
        registrations: any[];
        outputs: Record<string, { value: unknown; secret: boolean }>;
        warnings: string[];
    };
}

/** What a preview of each stack warns about, in order (docs/keyless.md#keyless-pulls-gcpcredential and docs/security.md#supply-chain). */
const expectedWarnings: Record<string, RegExp[]> = {
    dev: [],
    prod: [],
    gke: [
        /^gcp\.credential "accessToken" on GKE: the refresher's principal .* names no cluster/,
        /^gcp\.refresher\.image "node:24-alpine" is not pinned by digest/,
    ],
    eks: [/^gcp\.refresher\.image "node:24-alpine" is not pinned by digest/],
    "gke-node": [/^gcp\.credential "gkeNode": EVERY pod on the nodes/],
};

const stacks = readdirSync(".").flatMap((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1] ?? []);

describe("the sample stack program", () => {
    it("ships dev and prod (keys), gke and eks (access tokens) and gke-node (the node pool's account) stacks", () =>
        assert.deepEqual(stacks.sort(), ["dev", "eks", "gke", "gke-node", "prod"]));

    for (const stack of stacks) {
        it(`evaluates with Pulumi.${stack}.yaml into one Secret per namespace and one attachment per ServiceAccount`, () => {
            const config = stackConfig(stack);
            const list = (key: string) => JSON.parse(config[`registry-pull-secret:${key}`]) as string[];
            const { registrations, outputs, warnings } = evaluate(stack);
            assert.equal(warnings.length, expectedWarnings[stack].length, warnings.join("\n"));
            expectedWarnings[stack].forEach((pattern, i) => assert.match(warnings[i], pattern));
            const count = (type: string) => registrations.filter((r) => r.type === type).length;
            // Access tokens: the refresher writes the Secrets; Pulumi holds no docker config.
            const tokens = config["registry-pull-secret:credential"] === "accessToken";
            // The node pool's account: grants only, so the stack leaves namespaces and registries out.
            const nodeOnly = config["registry-pull-secret:credential"] === "gkeNode";
            if (nodeOnly) assert.deepEqual([list("namespaces"), list("registries")], [[], []]);
            assert.equal(count("registry-pull-secret:index:RegistryPullSecret"), 1);
            assert.equal(
                count(
                    tokens ? "pulumi-nodejs:dynamic/registry-pull-secret:RefreshedSecret" : "kubernetes:core/v1:Secret",
                ),
                list("namespaces").length,
            );
            assert.equal(count("gcp:serviceaccount/key:Key"), tokens || nodeOnly ? 0 : 1);
            assert.equal(
                count("pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry"),
                list("namespaces").length * list("serviceAccounts").length,
            );
            assert.equal(
                count("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"),
                list("repositories").length,
            );
            assert.equal(
                count("gcp:serviceaccount/account:Account"),
                config["registry-pull-secret:serviceAccountId"] ? 1 : 0,
            );
            assert.deepEqual(outputs.namespaces.value, list("namespaces"));
            assert.deepEqual(outputs.registries.value, list("registries"));
            assert.equal(outputs.secretName.value, nodeOnly ? "" : config["registry-pull-secret:secretName"]);
            const secretOutputs = Object.entries(outputs)
                .filter(([, o]) => o.secret)
                .map(([name]) => name);
            if (tokens || nodeOnly) {
                assert.equal(outputs.dockerConfigJson.value, "");
                assert.deepEqual(secretOutputs, [], "no stack output holds a credential");
                return;
            }
            assert.deepEqual(
                Object.keys(JSON.parse(outputs.dockerConfigJson.value as string).auths).sort(),
                list("registries").sort(),
            );
            assert.deepEqual(
                secretOutputs,
                ["dockerConfigJson"],
                "only the docker config is secret among the stack outputs",
            );
        });
    }
});
