/**
 * The provider text a dynamic resource stores names a module of this package instead of copying it
 * (components/cluster/provider-by-name.ts). Here, in this repository, the name resolves by Node's
 * self-reference: to the TypeScript source under `npm test` (the `registry-pull-secret-source`
 * condition) and to the build in bin/ without it, as in the sample stack's dynamic-provider process.
 * test/package/installed-package.test.ts runs the same text from a project that installed the package.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { startApiServerDouble, type ApiServerDouble } from "../support/api-server-double";
import { packageName, providerByName } from "../../components/cluster/provider-by-name";
import { provider as implementation } from "../../components/attachment/pull-secret-entry-provider";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString = require("require-from-string") as (code: string) => { handler(): unknown };
const subpath = "pull-secret-entry-provider";
const packageJson = JSON.parse(readFileSync("package.json", "utf8"));

describe("a dynamic provider loaded by package name", () => {
    let double: ApiServerDouble;
    const text = providerByName(subpath, implementation);
    before(async () => (double = await startApiServerDouble()));
    after(async () => double.close());

    it("is at most 2 KB that name the module and copy nothing of the implementation", () => {
        assert.ok(Buffer.byteLength(text) <= 2048, `${Buffer.byteLength(text)} bytes`);
        assert.match(text, /"registry-pull-secret\/pull-secret-entry-provider"/);
        assert.doesNotMatch(text, /planAttach|imagePullSecrets|client-node|resourceVersion/);
    });

    it("has exactly the implementation's methods (a missing one means something else to the host)", () => {
        const loaded = requireFromString(text).handler() as Record<string, unknown>;
        assert.deepEqual(Object.keys(loaded).sort(), Object.keys(implementation).sort());
        assert.equal("check" in loaded, false);
    });

    it("attaches from text evaluated like the dynamic-provider host does, in this repository", async () => {
        const loaded = requireFromString(text).handler() as pulumi.dynamic.ResourceProvider;
        double.put("self", "default", ["theirs"]);
        const target = { namespace: "self", serviceAccount: "default", secretName: "regcred" };
        const inputs = {
            ...target,
            entry: "self/default: regcred",
            owner: "0123456789abcdef",
            kubeconfig: double.kubeconfig,
        };
        const created = await loaded.create(inputs);
        assert.deepEqual(double.pullSecrets("self", "default"), ["theirs", "regcred"]);
        await loaded.delete!(created.id, created.outs);
        assert.deepEqual(double.pullSecrets("self", "default"), ["theirs"]);
    });

    it("resolves the package's own name to the source under npm test and to bin/ without the condition", () => {
        const resolveIn = (...nodeArgs: string[]) =>
            execFileSync(
                process.execPath,
                [
                    ...nodeArgs,
                    "-p",
                    `require("node:module").createRequire(process.cwd() + "/").resolve("${packageName}/${subpath}")`,
                ],
                { encoding: "utf8" },
            ).trim();
        assert.equal(packageJson.name, packageName);
        assert.equal(
            resolveIn("--conditions=registry-pull-secret-source"),
            `${process.cwd()}/components/attachment/${subpath}.ts`,
        );
        assert.equal(resolveIn(), `${process.cwd()}/bin/components/attachment/${subpath}.js`);
        assert.ok(existsSync(`bin/components/attachment/${subpath}.js`), "npm ci builds bin/ (prepare)");
        assert.match(packageJson.scripts.test, /--conditions=registry-pull-secret-source /);
    });
});
