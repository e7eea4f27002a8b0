/**
 * Child names are injective per type (components/names.ts): Pulumi knows a child by its name, its type
 * and its parent's type, not its parent's name, so two children of one type that share a name, in one
 * component or in two, are one URN and the engine refuses the second ("Duplicate resource URN"). And a
 * child renamed to get there carries an alias of its former name, so a stack deployed before keeps it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { claimWarning, startMocks } from "./support/mocks";
const registrations = startMocks();
import { RegistryPullSecret, type RegistryPullSecretArgs } from "../components";
import { childNames, formerChildNames } from "../components/names";
import {
    namespaceNameProblem,
    objectNameProblem,
    repositoryIdProblem,
    repositoryLocationProblem,
} from "../components/rules/rules";
import { registeredBy, sampleArgs } from "./support/component";

const pinned = "registry.example.com/node@sha256:" + "a".repeat(64);
const accessToken = (namespaces: string[]): RegistryPullSecretArgs => ({
    namespaces,
    registries: ["asia-northeast1-docker.pkg.dev"],
    gcp: {
        project: "example-project",
        credential: "accessToken",
        projectNumber: "123456789012",
        repositories: [{ location: "asia-northeast1", repository: "images" }],
        refresher: { image: pinned },
    },
});

/** The URNs the components' children register, each with the count of children that registered it when more than one. */
async function sharedUrns(components: RegistryPullSecret[]): Promise<Record<string, number>> {
    const urns: string[] = [];
    for (const component of components) {
        for (const child of (await registeredBy(component, registrations)).children) urns.push(child.urn);
    }
    const counts: Record<string, number> = {};
    for (const urn of urns) counts[urn] = (counts[urn] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 1));
}

describe("children whose name parts once joined to the same string", () => {
    it('component "a" with namespace "b-c" and component "a-b" with namespace "c" register distinct URNs', async () => {
        const shared = await sharedUrns([
            new RegistryPullSecret("a", sampleArgs({ namespaces: ["b-c"] })),
            new RegistryPullSecret("a-b", sampleArgs({ namespaces: ["c"] })),
        ]);
        assert.deepEqual(shared, {});
    });

    it('location "asia" with repository "northeast1-x" and location "asia-northeast1" with repository "x" are two grants in one component', async () => {
        const component = new RegistryPullSecret(
            "grants",
            sampleArgs({
                gcp: {
                    project: "example-project",
                    serviceAccountId: "image-puller",
                    repositories: [
                        { location: "asia", repository: "northeast1-x" },
                        { location: "asia-northeast1", repository: "x" },
                    ],
                },
            }),
        );
        const grants = (await registeredBy(component, registrations)).children.filter(
            (c) => c.type === "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
        );
        assert.deepEqual(
            grants.map((g) => [g.name, g.inputs.location, g.inputs.repository]),
            [
                ["grants/reader/asia/northeast1-x", "asia", "northeast1-x"],
                ["grants/reader/asia-northeast1/x", "asia-northeast1", "x"],
            ],
        );
        assert.equal(new Set(grants.map((g) => g.urn)).size, 2);
    });

    it('with "accessToken", the Secrets and per-namespace Roles of "t"/"b-c" and "t-b"/"c", and the own Role of "t-token-refresher/b" beside the Role of "t" in namespace "b-token-refresher", are distinct URNs', async () => {
        const shared = await sharedUrns([
            new RegistryPullSecret("t", accessToken(["b-c", "b-token-refresher"])),
            new RegistryPullSecret("t-b", accessToken(["c"])),
            new RegistryPullSecret("t-token-refresher/b", accessToken(["d"])),
        ]);
        for (let i = 0; i < 3; i++) claimWarning(/^gcp\.credential "accessToken" on GKE: .*names no cluster/);
        assert.deepEqual(shared, {});
    });
});

// Small alphabets, so that names built from them often meet: component names of any characters (Pulumi
// allows any), mostly made of the separators and fixed words of child names; namespaces, ServiceAccounts,
// locations and repositories as the component's rules accept them (components/rules/rules.ts), each
// checked against its rule.
const words = ["a", "b", "c1", "token", "refresher", "reader", "claim"];
const componentName = fc.oneof(
    {
        arbitrary: fc
            .array(fc.constantFrom("a", "b", "-", "/", "token-refresher", "reader"), { minLength: 1, maxLength: 3 })
            .map((parts) => parts.join("")),
        weight: 4,
    },
    { arbitrary: fc.string({ minLength: 1, maxLength: 8 }), weight: 1 },
);
const hyphenated = fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 3 }).map((parts) => parts.join("-"));
const namespace = hyphenated.filter((value) => namespaceNameProblem(value) === undefined);
const subdomain = fc
    .array(hyphenated, { minLength: 1, maxLength: 2 })
    .map((labels) => labels.join("."))
    .filter((value) => objectNameProblem(value) === undefined);
const serviceAccount = fc.oneof({ arbitrary: fc.constant("default"), weight: 3 }, { arbitrary: subdomain, weight: 1 });
const location = fc
    .tuple(fc.constantFrom("asia", "a"), fc.option(fc.constantFrom("c1", "northeast1"), { freq: 2 }))
    .map(([region, zone]) => (zone === null ? region : `${region}-${zone}`))
    .filter((value) => repositoryLocationProblem(value) === undefined);
const repository = subdomain.filter((value) => repositoryIdProblem(value) === undefined);

/** Any set of naming functions with the entries of {@link childNames}: today's, or with the former ones. */
type Names = Record<keyof typeof childNames, (...parts: string[]) => string>;
/** One child: the entry of {@link childNames} that names it, its arguments, and the name they give. */
interface Child {
    entry: keyof Names;
    args: string[];
    name: string;
}
const child = (names: Names, entry: keyof Names, ...parts: fc.Arbitrary<string>[]): fc.Arbitrary<Child> =>
    fc.tuple(componentName, ...parts).map((args) => ({
        entry,
        args,
        name: names[entry](...args),
    }));

/**
 * Per type, the entries that name its children (docs/versioning.md's table says which entries share a
 * type): a name must be made by one entry and one set of arguments only.
 */
function childrenByType(names: Names): Record<string, fc.Arbitrary<Child>> {
    return {
        Account: child(names, "serviceAccount"),
        RepositoryIamMember: child(names, "grant", location, repository),
        Key: child(names, "key"),
        KeyHandover: child(names, "keyHandover"),
        PullReadiness: child(names, "pullReadiness"),
        "pulumi:providers:kubernetes": fc.oneof(child(names, "cluster"), child(names, "secrets")),
        "Secret, RefreshedSecret": child(names, "secret", namespace),
        SecretClaim: child(names, "claim"),
        "PullSecretEntry, ServiceAccountPatch": child(names, "attachment", namespace, serviceAccount),
        "Namespace, ServiceAccount, ConfigMap, Deployment": child(names, "refresher"),
        "Role, RoleBinding": fc.oneof(child(names, "refresher"), child(names, "refresherAccess", namespace)),
        WorkloadIdentityPool: child(names, "workloadIdentityPool"),
        WorkloadIdentityPoolProvider: child(names, "workloadIdentityProvider"),
        IAMMember: child(names, "impersonation"),
    };
}

/** Holds when no two children in any batch of one type share a name unless they are the same child. */
function injective(children: fc.Arbitrary<Child>) {
    return fc.property(fc.array(children, { minLength: 500, maxLength: 500 }), (batch) => {
        const made = new Map<string, string>();
        for (const c of batch) {
            const identity = JSON.stringify([c.entry, c.args]);
            const earlier = made.get(c.name);
            assert.ok(earlier === undefined || earlier === identity, `${c.name}: ${earlier} and ${identity}`);
            made.set(c.name, identity);
        }
    });
}

describe("childNames", () => {
    it("names the children of each type injectively, whatever the component's name", () => {
        for (const [type, children] of Object.entries(childrenByType(childNames))) {
            const result = fc.check(injective(children), { numRuns: 100 });
            assert.equal(result.failed, false, `${type}: ${fc.defaultReportMessage(result)}`);
        }
    });

    it("places every entry in a type (a new entry must be added here)", () => {
        const sampled = new Set<string>();
        for (const children of Object.values(childrenByType(childNames))) {
            for (const c of fc.sample(children, 200)) sampled.add(c.entry);
        }
        assert.deepEqual([...sampled].sort(), Object.keys(childNames).sort());
    });

    // The former Role names met only with a '/' in a component's name: the test with "accessToken" above.
    it("the same property finds the collisions of the former names", () => {
        const former = childrenByType({ ...childNames, ...formerChildNames });
        const collided = ["RepositoryIamMember", "Secret, RefreshedSecret", "PullSecretEntry, ServiceAccountPatch"];
        for (const type of collided) {
            assert.equal(fc.check(injective(former[type]), { numRuns: 100, seed: 27 }).failed, true, type);
        }
    });
});

describe("renamed children keep their state", () => {
    /**
     * `[type, name, former name]` of the component's children, `""` for a child without an alias of
     * another name (some resource classes alias their own former types).
     */
    async function aliasesOf(component: RegistryPullSecret): Promise<string[][]> {
        const { component: own, children } = await registeredBy(component, registrations);
        return children.map((c) => {
            const renames = c.aliases.filter((alias) => "name" in alias && alias.name !== "");
            assert.ok(renames.length <= 1, c.name);
            const [rename] = renames as { name: string }[];
            // The alias names only the name: it keeps the child's parent and type.
            if (rename) assert.deepEqual(rename, { name: rename.name, type: "", parent: own.urn }, c.name);
            return [c.type.split(":").pop()!, c.name, rename?.name ?? ""];
        });
    }

    it("a key's grants, Secrets, merge entries and the Secrets' provider carry the alias of their former name", async () => {
        const component = new RegistryPullSecret(
            "regcred",
            sampleArgs({
                namespaces: ["team-a"],
                serviceAccounts: ["default", "ci"],
                gcp: {
                    project: "example-project",
                    serviceAccountId: "image-puller",
                    repositories: [{ location: "asia-northeast1", repository: "images" }],
                },
            }),
        );
        assert.deepEqual((await aliasesOf(component)).sort(), [
            ["Account", "regcred-account", ""],
            ["Key", "regcred-key", ""],
            ["KeyHandover", "regcred-key-handover", ""],
            ["PullReadiness", "regcred-pull-readiness", ""],
            ["PullSecretEntry", "regcred/team-a/ci", "regcred-team-a/ci"],
            ["PullSecretEntry", "regcred/team-a/default", "regcred-team-a/default"],
            ["RepositoryIamMember", "regcred/reader/asia-northeast1/images", "regcred-reader-asia-northeast1-images"],
            ["Secret", "regcred/team-a", "regcred-team-a"],
            ["SecretClaim", "regcred-claim", ""],
            ["kubernetes", "regcred-secrets", "regcred-takeover"],
        ]);
    });

    it('"patch" entries carry the alias of their former name', async () => {
        const component = new RegistryPullSecret("patched", {
            namespaces: ["team-a"],
            registries: ["registry.example.com"],
            attachMode: "patch",
            credentials: { username: "robot", password: "password" },
        });
        const patches = (await aliasesOf(component)).filter(([type]) => type === "ServiceAccountPatch");
        assert.deepEqual(patches, [["ServiceAccountPatch", "patched/team-a/default", "patched-team-a/default"]]);
    });

    it('"accessToken" Secrets, per-namespace Roles and bindings and entries carry the alias of their former name', async () => {
        const component = new RegistryPullSecret("tokens", accessToken(["team-a"]));
        claimWarning(/^gcp\.credential "accessToken" on GKE: .*names no cluster/);
        const renamed = (await aliasesOf(component)).filter(([, , alias]) => alias !== "");
        assert.deepEqual(renamed.sort(), [
            ["PullSecretEntry", "tokens/team-a/default", "tokens-team-a/default"],
            ["RefreshedSecret", "tokens/team-a", "tokens-team-a"],
            ["RepositoryIamMember", "tokens/reader/asia-northeast1/images", "tokens-reader-asia-northeast1-images"],
            ["Role", "tokens/team-a/token-refresher", "tokens-token-refresher/team-a"],
            ["RoleBinding", "tokens/team-a/token-refresher", "tokens-token-refresher/team-a"],
        ]);
    });
});
