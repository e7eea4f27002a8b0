/**
 * The token refresher runs in the cluster on the official Node.js image, with nothing installed: the
 * ConfigMap holds its compiled files and nothing else (components/refresher/token-refresher-deployment.ts).
 * So it, and everything it imports, may load Node built-ins (`node:*`) and its own project files only:
 * no Pulumi, no client library, no other package. Read from the sources with the TypeScript compiler
 * (tools/import-circles.ts), `import type` included.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { refresherFiles } from "../../components/refresher/token-refresher-deployment";
import { moduleImports, reachableImports } from "../../tools/import-circles";

const root = path.join(__dirname, "..", "..");

/** What `entry` loads, directly or not: its project files, and the imports that are not Node built-ins. */
function loads(tsconfigPath: string, entry: string): { files: string[]; packages: string[] } {
    const { files, external } = reachableImports(moduleImports(tsconfigPath), entry);
    return { files, packages: external.filter((specifier) => !specifier.startsWith("node:")) };
}

describe("the in-cluster token refresher", () => {
    it("loads Node built-ins only: no Pulumi or other package, in its file or in any file it imports", () => {
        const entry = path.join(root, "components", "refresher", "token-refresher.ts");
        const { files, packages } = loads(path.join(root, "tsconfig.json"), entry);
        assert.deepEqual(packages, []);
        // A real reading: the refresher's own imports are in it.
        const { external } = reachableImports(moduleImports(path.join(root, "tsconfig.json")), entry);
        assert.ok(external.includes("node:https"), external.join(", "));
        // The ConfigMap ships exactly the files it loads, each at its path under bin/components.
        assert.deepEqual(
            files.map((file) => path.relative(path.join(root, "components"), file).replace(/\.ts$/, ".js")),
            [...refresherFiles].sort(),
        );
    });

    it("the check finds a package a helper of the refresher imports, even as `import type`", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "refresher-imports-"));
        try {
            fs.writeFileSync(
                path.join(dir, "tsconfig.json"),
                JSON.stringify({ compilerOptions: { module: "node16", strict: true }, include: ["*.ts"] }),
            );
            fs.writeFileSync(
                path.join(dir, "refresher.ts"),
                'import * as fs from "node:fs";\nimport { encode } from "./helper";\n',
            );
            fs.writeFileSync(path.join(dir, "helper.ts"), 'import type { Output } from "@pulumi/pulumi";\n');
            const { files, packages } = loads(path.join(dir, "tsconfig.json"), path.join(dir, "refresher.ts"));
            assert.deepEqual(
                files.map((file) => path.basename(file)),
                ["helper.ts", "refresher.ts"],
            );
            assert.deepEqual(packages, ["@pulumi/pulumi"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
