/**
 * Each folder of components/ imports only what its README says it may (components/<folder>/README.md,
 * "May import"): the project files of the folders and top-level modules listed here, and packages by
 * prefix. Read with the TypeScript compiler (tools/import-circles.ts), `import type` included, so a
 * module that reaches into a folder it should not know fails here instead of quietly tying them together.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { moduleImports } from "../tools/import-circles";

const root = path.join(__dirname, "..");
const components = path.join(root, "components");

/** Per folder: the components/ paths (a folder with '/', or a file) and the package prefixes it may import. */
const mayImport: Record<string, { project: string[]; packages: string[] }> = {
    rules: { project: ["rules/"], packages: ["node:"] },
    credential: {
        project: [
            "credential/",
            "rules/",
            "names.ts",
            "parse.ts",
            "cluster/provider-by-name.ts",
            "cluster/cluster-connection.ts",
        ],
        packages: ["node:module", "node:crypto", "@pulumi/pulumi", "@pulumi/gcp/"],
    },
    keyless: {
        project: [
            "keyless/",
            "credential/grants.ts",
            "names.ts",
            "parse.ts",
            "refresher/token-refresher-deployment.ts",
        ],
        packages: ["@pulumi/pulumi", "@pulumi/gcp/"],
    },
    attachment: {
        project: ["attachment/", "cluster/", "rules/", "args.ts"],
        packages: ["@pulumi/pulumi", "@pulumi/kubernetes/", "@kubernetes/client-node"],
    },
    claim: {
        // inTurns: the refresher's bounded parallelism, which the claim's reads share.
        project: ["claim/", "cluster/", "rules/", "refresher/token-refresher.ts"],
        packages: ["@pulumi/pulumi", "@kubernetes/client-node"],
    },
    cluster: { project: ["cluster/", "rules/"], packages: ["node:", "@pulumi/pulumi", "@kubernetes/client-node"] },
    doctor: {
        project: ["doctor/", "cluster/cluster-connection.ts", "rules/"],
        packages: ["node:", "@kubernetes/client-node"],
    },
    refresher: {
        project: ["refresher/", "cluster/", "rules/", "names.ts"],
        packages: ["node:", "@pulumi/pulumi", "@pulumi/kubernetes/", "@kubernetes/client-node"],
    },
};

/** Each import of a module in `folder` that its rule does not allow, as `module -> import`. */
function breaches(imports: ReturnType<typeof moduleImports>, folder: string): string[] {
    const rule = mayImport[folder];
    const found: string[] = [];
    for (const [file, { project, external }] of imports) {
        const from = path.relative(components, file);
        if (!from.startsWith(`${folder}/`)) continue;
        for (const target of project.map((imported) => path.relative(components, imported))) {
            if (
                !rule.project.some((allowed) =>
                    allowed.endsWith("/") ? target.startsWith(allowed) : target === allowed,
                )
            )
                found.push(`${from} -> ${target}`);
        }
        for (const specifier of external) {
            if (!rule.packages.some((allowed) => specifier.startsWith(allowed))) found.push(`${from} -> ${specifier}`);
        }
    }
    return found;
}

describe("what each folder of components/ imports", () => {
    const imports = moduleImports(path.join(root, "tsconfig.json"));

    for (const folder of Object.keys(mayImport)) {
        it(`${folder}/ imports only what its README names`, () => {
            const modules = [...imports.keys()].filter((file) =>
                file.startsWith(path.join(components, folder) + path.sep),
            );
            assert.ok(modules.length > 0, `components/${folder}/ has modules`);
            assert.deepEqual(breaches(imports, folder), []);
        });
    }

    it("every folder of components/ has a rule here", async () => {
        const fs = await import("node:fs");
        const folders = fs
            .readdirSync(components, { withFileTypes: true })
            .filter((entry) => entry.isDirectory())
            .map((entry) => entry.name)
            .sort();
        assert.deepEqual(folders, Object.keys(mayImport).sort());
    });

    it("the check names a module that reaches into a folder it may not import", () => {
        const file = path.join(components, "rules", "ownership.ts");
        const changed = new Map(imports);
        changed.set(file, {
            project: [...imports.get(file)!.project, path.join(components, "registry-pull-secret.ts")],
            external: [...imports.get(file)!.external, "@pulumi/pulumi"],
        });
        assert.deepEqual(breaches(changed, "rules"), [
            "rules/ownership.ts -> registry-pull-secret.ts",
            "rules/ownership.ts -> @pulumi/pulumi",
        ]);
    });
});
