/**
 * Every shell block of README.md and docs/ says whether a test runs it: its info string is
 * `sh run-by=FILE[,FILE]` (files of this repository that run those commands) or `sh not-run=REASON`.
 * A line of a run block that no test runs says so in its comment (`# ...; not run here (REASON)`). For each other command, a
 * named file must send the same command: its text, or its subcommand as an argument (`"preview"`), so a
 * block cannot name a test that never runs anything like it.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

const repo = path.join(__dirname, "..");
const pages = [
    "README.md",
    ...readdirSync(path.join(repo, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
];

interface ShellBlock {
    where: string;
    info: string;
    lines: string[];
}

/** The shell blocks of a page, each with its info string and its logical lines (continuations joined). */
function shellBlocks(page: string): ShellBlock[] {
    const text = readFileSync(path.join(repo, page), "utf8").split("\n");
    const blocks: ShellBlock[] = [];
    for (let i = 0; i < text.length; i++) {
        const open = /^```(sh|bash|shell)\b(.*)$/.exec(text[i]);
        if (!open) continue;
        const start = i + 1;
        const body: string[] = [];
        for (i++; i < text.length && !text[i].startsWith("```"); i++) body.push(text[i]);
        const lines = body
            .join("\n")
            .replace(/\\\n\s*/g, " ")
            .replace(/\n\s*\|/g, " |")
            .split("\n")
            .filter((line) => line.trim() !== "" && !line.trim().startsWith("#"));
        blocks.push({ where: `${page}:${start}`, info: open[2].trim(), lines });
    }
    return blocks;
}

/** Whether `source` sends the command of `line`: its first two words as text, or the subcommand as an argument. */
function sends(source: string, line: string): boolean {
    const words = line
        .replace(/\s+#.*$/, "")
        .trim()
        .split(/\s+/);
    const [tool, sub] = words;
    if (source.includes(`${tool} ${sub}`)) return true;
    return sub !== undefined && [`"${sub}"`, `'${sub}'`, `\`${sub}\``].some((quoted) => source.includes(quoted));
}

const blocks = pages.flatMap(shellBlocks);

describe("shell blocks in README.md and docs/", () => {
    it("there are shell blocks to check", () => assert.ok(blocks.length >= 10, `${blocks.length}`));

    it("each says whether a test runs it: run-by=FILE or not-run=REASON", () => {
        for (const block of blocks) {
            assert.match(block.info, /^(run-by=\S+|not-run=.+)$/, `${block.where}: \`\`\`sh run-by=... or not-run=...`);
        }
    });

    it("each command of a run block is sent by a file it names, or is marked not run on its line", () => {
        for (const block of blocks.filter((b) => b.info.startsWith("run-by="))) {
            const files = block.info.slice("run-by=".length).split(",");
            const sources = files.map((file) => {
                assert.ok(existsSync(path.join(repo, file)), `${block.where}: ${file} exists`);
                return readFileSync(path.join(repo, file), "utf8");
            });
            for (const line of block.lines) {
                if (/#.*\bnot run\b/.test(line)) continue;
                assert.ok(
                    sources.some((source) => sends(source, line)),
                    `${block.where}: "${line}" is sent by none of ${files.join(", ")}; name the test that runs it, or say "not run" in its comment`,
                );
            }
        }
    });

    it("the check can fail: a command no file sends is found", () => {
        assert.equal(sends('run(["pulumi", "preview"])', "pulumi up --yes"), false);
        assert.equal(sends('run(["pulumi", "preview"])', "pulumi preview --diff"), true);
    });
});
