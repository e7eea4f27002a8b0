/**
 * The monorepo shape: the package installed into `infra`, a member of an npm workspace (a parent
 * package.json with `workspaces`), where npm hoists it into the workspace root's node_modules. The
 * program is evaluated under Pulumi's mocks in the member's folder, the "merge" provider loads the
 * package by name from there and creates and deletes an entry on the API-server DOUBLE; and the SDK's
 * own workspace-root lookup, which calls `fs.promises.glob`, works on Node.js 22 and 24 and fails on 20.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startApiServerDouble, type ApiServerDouble } from "../support/api-server-double";
import {
    addConsumerProgram,
    installedConsumer,
    undiciLoadFailure,
    undiciLoads,
    type ConsumerProject,
} from "../support/consumer-project";
import { isSecretValue } from "../support/mocks";

const entryType = "pulumi-nodejs:dynamic/registry-pull-secret:PullSecretEntry";
const hasGlob = Number(process.versions.node.split(".")[0]) >= 22;

describe(`the package in an npm workspace member, on Node.js ${process.version}`, () => {
    let member: ConsumerProject & { root: string };
    let double: ApiServerDouble;

    before(async () => {
        member = installedConsumer({ workspace: true });
        addConsumerProgram(member);
        double = await startApiServerDouble();
    });
    after(async () => {
        await double?.close();
        member?.remove();
    });

    it(
        hasGlob
            ? "the SDK finds the workspace root"
            : "the SDK's workspace-root lookup fails: Node.js 20 has no fs.promises.glob",
        async () => {
            const lookup = await member.node([
                "-e",
                'require("@pulumi/pulumi/runtime/closure/codePaths").findWorkspaceRoot(process.cwd()).then((root) => console.log(root))',
            ]);
            if (hasGlob) {
                assert.equal(lookup.status, 0, lookup.stderr);
                assert.equal(lookup.stdout.trim(), member.root);
            } else {
                assert.notEqual(lookup.status, 0);
                assert.match(lookup.stderr, /glob\(\.\.\.\) is not a function/);
            }
        },
    );

    it("evaluates the program in the member and runs the merge provider from its folder, loading the hoisted package by name", async (t) => {
        assert.ok(existsSync(join(member.root, "node_modules", "registry-pull-secret")), "hoisted to the root");
        assert.ok(!existsSync(join(member.dir, "node_modules", "registry-pull-secret")), "none in the member");
        const run = await member.node(["program.js", "merge", double.kubeconfig]);
        assert.equal(run.status, 0, run.stderr);
        const entry = (JSON.parse(run.stdout) as { type: string; inputs: Record<string, unknown> }[]).find(
            (r) => r.type === entryType,
        );
        assert.ok(entry, "a PullSecretEntry is declared");
        const { __provider: text, ...inputs } = entry.inputs;
        const kubeconfig = isSecretValue(inputs.kubeconfig) ? inputs.kubeconfig.value : inputs.kubeconfig;
        const host = (call: unknown[]) => member.node(["host.js", JSON.stringify(call)], text as string);

        double.put("apps", "default", ["theirs"]);
        const created = await host(["create", { ...inputs, kubeconfig }]);
        if (!undiciLoads) {
            assert.match(created.stderr, undiciLoadFailure);
            t.diagnostic(
                `Node.js ${process.version} cannot load client-node's undici 8; create and delete run on 22 and 24`,
            );
            return;
        }
        assert.equal(created.status, 0, created.stderr);
        const { id, outs } = JSON.parse(created.stdout) as { id: string; outs: Record<string, unknown> };
        assert.deepEqual(double.pullSecrets("apps", "default"), ["theirs", "regcred"]);
        const deleted = await host(["delete", id, outs]);
        assert.equal(deleted.status, 0, deleted.stderr);
        assert.deepEqual(double.pullSecrets("apps", "default"), ["theirs"]);
    });
});
