import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { importCircles, importGraph } from "../tools/import-circles";

const root = path.join(__dirname, "..");
const relative = (circle: string[]) => circle.map((file) => path.relative(root, file));

describe("import circles", () => {
    it("the project's modules, tests and tools import one another without a circle", () => {
        const graph = importGraph(path.join(root, "tsconfig.json"));
        // The graph is the real one, not an empty reading: the component's own imports are in it, and
        // those of the modules in components/'s folders.
        assert.ok(
            graph
                .get(path.join(root, "components", "registry-pull-secret.ts"))
                ?.includes(path.join(root, "components", "names.ts")),
        );
        assert.ok(
            graph
                .get(path.join(root, "components", "refresher", "token-refresher.ts"))
                ?.includes(path.join(root, "components", "rules", "docker-config.ts")),
        );
        assert.ok(graph.size > 100, `${graph.size} files`);
        assert.deepEqual(importCircles(graph).map(relative), []);
    });

    it("finds two files that import each other, even when one of the imports is `import type`", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "import-circles-"));
        try {
            fs.writeFileSync(
                path.join(dir, "tsconfig.json"),
                JSON.stringify({ compilerOptions: { module: "node16", strict: true }, include: ["*.ts"] }),
            );
            fs.writeFileSync(path.join(dir, "deployment.ts"), 'import type { Identity } from "./keyless";\n');
            fs.writeFileSync(path.join(dir, "keyless.ts"), 'import { names } from "./deployment";\n');
            fs.writeFileSync(path.join(dir, "alone.ts"), 'import * as path from "node:path";\n');
            const circles = importCircles(importGraph(path.join(dir, "tsconfig.json")));
            assert.deepEqual(
                circles.map((circle) => circle.map((file) => path.basename(file))),
                [["deployment.ts", "keyless.ts"]],
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("finds a circle through several modules, a module importing itself, and none in a diamond", () => {
        const graph = new Map([
            ["a", ["b"]],
            ["b", ["c"]],
            ["c", ["a", "d"]],
            ["d", []],
            ["self", ["self"]],
            ["top", ["left", "right"]],
            ["left", ["bottom"]],
            ["right", ["bottom"]],
            ["bottom", []],
        ]);
        assert.deepEqual(importCircles(graph), [["a", "b", "c"], ["self"]]);
    });
});
