import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, it } from "node:test";

// Another stack consumes the package by name: built with `npm run build` (which `npm ci` runs as
// `prepare`), resolved through package.json "exports", typed by the emitted declarations.
const repo = resolve(".");
const work = mkdtempSync(join(tmpdir(), "registry-pull-secret-import-"));
const consumer = join(work, "consumer");

before(() => {
    const pkg = join(work, "registry-pull-secret");
    mkdirSync(pkg);
    cpSync(join(repo, "package.json"), join(pkg, "package.json"));
    execFileSync(process.execPath, [
        require.resolve("typescript/bin/tsc"),
        "-p",
        join(repo, "tsconfig.build.json"),
        "--outDir",
        join(pkg, "bin"),
    ]);
    symlinkSync(join(repo, "node_modules"), join(pkg, "node_modules"));
    mkdirSync(join(consumer, "node_modules"), { recursive: true });
    symlinkSync(pkg, join(consumer, "node_modules", "registry-pull-secret"));
    for (const dep of ["@pulumi", "@types"])
        symlinkSync(join(repo, "node_modules", dep), join(consumer, "node_modules", dep));
});
after(() => rmSync(work, { recursive: true, force: true }));

it("is importable by package name with type declarations", () => {
    writeFileSync(
        join(consumer, "stack.ts"),
        [
            'import { RegistryPullSecret, dockerConfigJson, type RegistryPullSecretArgs } from "registry-pull-secret";',
            'const args: RegistryPullSecretArgs = { namespaces: ["a"], registries: ["gcr.io"], gcp: { project: "example-project", serviceAccountEmail: "a@b.iam.gserviceaccount.com" } };',
            "export const names = [typeof RegistryPullSecret, dockerConfigJson([{ server: 'r', username: 'u', password: 'p' }]), args.namespaces.length];",
        ].join("\n"),
    );
    writeFileSync(
        join(consumer, "tsconfig.json"),
        JSON.stringify({
            compilerOptions: {
                strict: true,
                module: "node16",
                moduleResolution: "node16",
                target: "ES2022",
                types: ["node"],
            },
            files: ["stack.ts"],
        }),
    );
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", consumer], { encoding: "utf8" });
    const loaded = JSON.parse(
        execFileSync(process.execPath, ["-p", "JSON.stringify(require('./stack.js').names)"], {
            cwd: consumer,
            encoding: "utf8",
        }),
    );
    assert.deepEqual(loaded, ["function", '{"auths":{"r":{"username":"u","password":"p","auth":"dTpw"}}}', 1]);
});
