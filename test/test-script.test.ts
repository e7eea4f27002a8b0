/**
 * `npm test` names its test files by folder (package.json `test`), and the engine suite
 * (`npm run test:engine`: test/engine/run.sh, which runs test/engine/ in two lanes) is not among them: a test file in a folder the script does not
 * name would never run, and an engine test would make the fast suite start a control plane.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

const repo = path.resolve(__dirname, "..");
const scripts = (
    JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
    }
).scripts;

/** The files a script's `folder/*.test.ts` arguments name, as the shell expands them. */
function namedBy(script: string): string[] {
    return script
        .split(/[\s()]+/)
        .filter((argument) => argument.endsWith("/*.test.ts"))
        .flatMap((pattern) => {
            const folder = path.dirname(pattern);
            return fs
                .readdirSync(path.join(repo, folder))
                .filter((file) => file.endsWith(".test.ts"))
                .map((file) => `${folder}/${file}`);
        })
        .sort();
}

/** Every test file under test/, as repository paths. */
function testFiles(dir = "test"): string[] {
    return fs
        .readdirSync(path.join(repo, dir), { withFileTypes: true })
        .flatMap((entry) => {
            const file = `${dir}/${entry.name}`;
            if (entry.isDirectory()) return ["test/fixtures", "test/support"].includes(file) ? [] : testFiles(file);
            return entry.name.endsWith(".test.ts") ? [file] : [];
        })
        .sort();
}

describe("npm test", () => {
    it("runs every test file under test/ except the engine suite's, which npm run test:engine runs", () => {
        const all = testFiles();
        const engine = all.filter((file) => file.startsWith("test/engine/"));
        assert.ok(engine.length > 0 && all.length > engine.length + 40, `${all.length} files`);
        assert.deepEqual(
            namedBy(scripts.test),
            all.filter((file) => !engine.includes(file)),
        );
        assert.equal(scripts["test:engine"], "bash test/engine/run.sh");
        assert.deepEqual(namedBy(fs.readFileSync(path.join(repo, "test/engine/run.sh"), "utf8")), engine);
    });
});
