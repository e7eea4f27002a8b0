/**
 * The Versioning page (docs/versioning.md) promises the children's names and types: Pulumi keeps a resource
 * by its URN (name and types), so a child renamed or retyped is replaced in every user's stack. Here
 * the component runs under Pulumi's mocks with every credential and attach mode, in a TypeScript
 * program and as the plugin serves it to other languages, and what it registers must be exactly the
 * rows of that table.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { claimWarning, startMocks } from "./support/mocks";
const registrations = startMocks();
import { RegistryPullSecret, type RegistryPullSecretArgs } from "../components";
import { serveFromPlugin } from "../components/cluster/provider-by-name";
import { registeredBy } from "./support/component";
import { serviceAccountKeyFile } from "./support/key-file";

/** The page that promises them, docs/versioning.md. */
function versioningSection(): string {
    const page = fs.readFileSync(path.join(__dirname, "..", "docs", "versioning.md"), "utf8");
    assert.match(page, /^# Versioning\n/, "docs/versioning.md is the Versioning page");
    return page;
}

/** `name pattern <tab> type` for each type of each row of the section's table of children. */
function promisedChildren(): string[] {
    const rows = versioningSection()
        .split("\n")
        .filter((line) => line.startsWith("| ") && !line.startsWith("| child ") && !line.startsWith("| ---"));
    return rows.flatMap((row) => {
        const [, name, types] = row.split(" | ").map((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
        assert.equal(name.length, 1, row);
        return types.map((type) => `${name[0]}\t${type}`);
    });
}

// Values that appear in no other part of a child's name, so each maps back to its placeholder.
const placeholders: [string, string][] = [
    ["team-a", "<namespace>"],
    ["deployer", "<serviceAccount>"],
    ["asia", "<location>"],
    ["images", "<repository>"],
];
const repositories = [{ location: "asia", repository: "images" }];
const project = "example-project";
const email = "puller@example-project.iam.gserviceaccount.com";
const pinned = "registry.example.com/node@sha256:" + "a".repeat(64);
const inCluster = { namespaces: ["team-a"], registries: ["asia-docker.pkg.dev"], serviceAccounts: ["deployer"] };
const accessToken = { project, credential: "accessToken" as const, projectNumber: "123456789012", repositories };

/** Every credential and attach mode, each declaring some of the children. */
const programs: Record<string, RegistryPullSecretArgs> = {
    key: { ...inCluster, gcp: { project, serviceAccountId: "image-puller", repositories } },
    existingKey: { ...inCluster, gcp: { project, existingKey: serviceAccountKeyFile(email), repositories } },
    patch: {
        ...inCluster,
        attachMode: "patch",
        kubeconfig: "apiVersion: v1\nkind: Config\n",
        credentials: { username: "robot", password: "password" },
    },
    takeOver: { ...inCluster, takeOver: true, credentials: { username: "robot", password: "password" } },
    gkeNode: { gcp: { project, credential: "gkeNode", serviceAccountEmail: email, repositories } },
    impersonation: { ...inCluster, gcp: { ...accessToken, serviceAccountEmail: email, refresher: { image: pinned } } },
    federation: {
        ...inCluster,
        gcp: {
            ...accessToken,
            federation: { poolId: "pool", providerId: "cluster", issuerUri: "https://issuer.example.com" },
            refresher: { image: pinned },
        },
    },
};

/** The children `name` registers, as `name pattern <tab> type`. */
async function declaredChildren(name: string, args: RegistryPullSecretArgs): Promise<string[]> {
    const { component, children } = await registeredBy(new RegistryPullSecret(name, args), registrations);
    assert.equal(component.type, "registry-pull-secret:index:RegistryPullSecret");
    return children.map((child) => {
        const rest = child.name.slice(name.length);
        assert.ok(
            child.name.startsWith(name) && /^[-/]/.test(rest),
            `${child.name}: the component's name, then '-' or '/'`,
        );
        let pattern = `<name>${rest}`;
        for (const [value, placeholder] of placeholders) pattern = pattern.replaceAll(value, placeholder);
        return `${pattern}\t${child.type}`;
    });
}

describe("the names and types the Versioning page promises", () => {
    it("names the component's type token", () => {
        assert.ok(versioningSection().includes("`registry-pull-secret:index:RegistryPullSecret`"));
    });

    it("are exactly the children every credential and attach mode registers, in TypeScript and from other languages", async () => {
        const declared = new Set<string>();
        for (const [name, args] of Object.entries(programs)) {
            for (const child of await declaredChildren(name, args)) declared.add(child);
        }
        claimWarning(/^gcp\.credential "gkeNode": EVERY pod/);
        claimWarning(/^gcp\.credential "accessToken" on GKE: .*names no cluster/);
        // The plugin that hosts the component for Python, Go, .NET and YAML serves the dynamic resources itself.
        serveFromPlugin("0.1.0");
        for (const name of ["key", "federation"]) {
            for (const child of await declaredChildren(`served-${name}`, programs[name])) declared.add(child);
        }
        assert.deepEqual([...declared].sort(), promisedChildren().sort());
    });
});
