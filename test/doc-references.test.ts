/**
 * Comments and documents cite the repository's own docs as `docs/<page>.md#<heading>`, and markdown
 * pages link to their own headings as `(#heading)` and to other files by relative paths
 * (`(keyless.md#accesstoken)`, `(../README.md)`, `(components/README.md)`). These tests resolve every
 * such reference in the files git knows (tracked, or new and not ignored), so a renamed heading or a
 * moved page or file fails here instead of leaving a reader at a dead end. Anchors are computed as
 * GitHub computes them.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

const repo = path.resolve(__dirname, "..");

/** The text files of the repository as a clone has them (plus new files not yet committed). */
function repositoryFiles(): { file: string; text: string }[] {
    const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
        cwd: repo,
        encoding: "utf8",
    });
    return listed
        .split("\0")
        .filter((file) => file !== "" && fs.statSync(path.join(repo, file), { throwIfNoEntry: false })?.isFile())
        .map((file) => ({ file, text: fs.readFileSync(path.join(repo, file), "utf8") }))
        .filter(({ text }) => !text.includes("\0"));
}

/**
 * The anchor GitHub gives a markdown heading: lowercase, every character that is not a letter, mark,
 * digit, `_`, `-` or space dropped, spaces turned into `-`; a repeated anchor gets `-1`, `-2`, ...
 */
function headingAnchors(markdown: string): Set<string> {
    const anchors = new Set<string>();
    const counts = new Map<string, number>();
    let fenced = false;
    for (const line of markdown.split("\n")) {
        if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
        const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
        if (!heading) continue;
        const base = heading[1]
            .toLowerCase()
            .replace(/[^\p{L}\p{M}\p{N}_\- ]/gu, "")
            .replace(/ /g, "-");
        const seen = counts.get(base) ?? 0;
        counts.set(base, seen + 1);
        anchors.add(seen === 0 ? base : `${base}-${seen}`);
    }
    return anchors;
}

interface Reference {
    /** Where the reference is written, `file:line`. */
    at: string;
    /** The file it names, from the repository's root. */
    page: string;
    /** The heading it names in that page, if any. */
    anchor?: string;
}

/** `docs/<page>.md#<anchor>` anywhere, and `](#anchor)` inside markdown pages (the page itself). */
function references(files: { file: string; text: string }[]): Reference[] {
    const found: Reference[] = [];
    for (const { file, text } of files) {
        text.split("\n").forEach((line, i) => {
            const at = `${file}:${i + 1}`;
            for (const match of line.matchAll(/(?<![\w/.-])(docs\/[\w./-]+\.md)#([\w-]+)/g)) {
                found.push({ at, page: match[1], anchor: match[2] });
            }
            if (file.endsWith(".md")) {
                // `[text](target)`: a heading of this page, or a file relative to this page's folder.
                for (const match of line.matchAll(/\]\(([^)\s]*)\)/g)) {
                    const [target, anchor] = match[1].split("#");
                    if (/^[a-z]+:/i.test(target)) continue;
                    const page =
                        target === "" ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
                    found.push({ at, page, anchor });
                }
            }
        });
    }
    return found;
}

describe("references to the repository's own docs", () => {
    const files = repositoryFiles();
    const cited = references(files);

    it("computes anchors as GitHub does (the rule the other checks depend on)", () => {
        const anchors = headingAnchors(
            [
                "# The facts",
                "## `ServiceAccount.imagePullSecrets` is atomic",
                "## Keyless pulls (`gcp.credential`)",
                "```sh",
                "# not a heading",
                "```",
                "### Keyless pulls (`gcp.credential`)",
                "## Node.js versions",
            ].join("\n"),
        );
        assert.deepEqual(
            [...anchors],
            [
                "the-facts",
                "serviceaccountimagepullsecrets-is-atomic",
                "keyless-pulls-gcpcredential",
                "keyless-pulls-gcpcredential-1",
                "nodejs-versions",
            ],
        );
    });

    it("finds the citations it checks (so the check below cannot pass on nothing)", () => {
        const pages = new Set(cited.map((r) => r.page));
        assert.ok(pages.has("docs/facts.md"), "code cites docs/facts.md");
        assert.ok(pages.has("README.md"), "README links to its own headings");
        assert.ok(pages.has("docs/keyless.md"), "pages link to each other by relative paths");
        assert.ok(cited.filter((r) => r.page === "docs/facts.md").length >= 15);
    });

    it("every cited page or file exists and has a heading for every cited anchor", () => {
        const broken = cited.filter(({ page, anchor }) => {
            const file = path.join(repo, page);
            if (!fs.existsSync(file)) return true;
            return anchor !== undefined && !headingAnchors(fs.readFileSync(file, "utf8")).has(anchor);
        });
        assert.deepEqual(
            broken.map(({ at, page, anchor }) => `${at}: ${page}${anchor === undefined ? "" : `#${anchor}`}`),
            [],
        );
    });

    it("nothing cites FACTS.md, a file outside the repository that a reader cannot follow", () => {
        const outside = files
            .filter(({ file, text }) => file !== "test/doc-references.test.ts" && text.includes("FACTS.md"))
            .map(({ file }) => file);
        assert.deepEqual(outside, []);
    });
});
