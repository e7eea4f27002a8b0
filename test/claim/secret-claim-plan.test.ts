/**
 * The pure rules that decide, before the component creates its Secret in a namespace, whether a Secret
 * of that name already there is free to write, the kubectl recipe's (taken over with `takeOver`), or
 * somebody else's. The managedFields below are what kube-apiserver records for those writers
 * (test/engine/takeover.test.ts reads the real ones after the recipe's own kubectl commands).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ownerIdOf, ownershipKeys } from "../../components/rules/ownership";
import {
    claimSecret,
    dataManagers,
    takeOverArgument,
    takeOverStackConfig,
    entriesToTakeOver,
    type LiveSecretMetadata,
    type SecretClaimTarget,
} from "../../components/claim/secret-claim-plan";

const owner = ownerIdOf("urn:pulumi:dev::app::registry-pull-secret:index:RegistryPullSecret::ours");
const other = ownerIdOf("urn:pulumi:prod::app::registry-pull-secret:index:RegistryPullSecret::theirs");
const target = (takeOver: boolean, takeOverFix = takeOverArgument): SecretClaimTarget => ({
    namespace: "team-a",
    secretName: "regcred",
    owner,
    takeOver,
    registries: ["asia.gcr.io", "asia-northeast1-docker.pkg.dev"],
    takeOverFix,
});

const dataFields = { "f:data": { ".": {}, "f:.dockerconfigjson": {} }, "f:type": {} };
/** A pull Secret written by these field managers, each setting its data. */
function written(...managers: string[]): LiveSecretMetadata {
    return {
        type: "kubernetes.io/dockerconfigjson",
        metadata: { managedFields: managers.map((manager) => ({ manager, fieldsV1: dataFields })) },
        registryHosts: ["asia.gcr.io"],
    };
}
const recipe = written("kubectl-create");

describe("claiming the Secret name in a namespace", () => {
    it("a name nobody uses is free, with or without takeOver, and nothing is taken over", () => {
        for (const takeOver of [false, true]) {
            assert.deepEqual(claimSecret(undefined, target(takeOver)), { ok: true, takesOverFrom: [] });
        }
    });

    it("without takeOver, the recipe's Secret is an error naming the namespace, the Secret, its manager and the option to set", () => {
        const claim = claimSecret(recipe, target(false));
        assert.equal(claim.ok, false);
        assert.equal(!claim.ok && claim.property, "takeOver");
        const reason = !claim.ok ? claim.reason : "";
        for (const part of [
            'Secret "regcred"',
            'namespace "team-a"',
            '"kubectl-create"',
            "set the component's argument takeOver to true",
        ]) {
            assert.ok(reason.includes(part), `${part} in: ${reason}`);
        }
        assert.doesNotMatch(reason, /pulumi config set/, "a program like the README's has no takeOver config key");
    });

    it("in this repository's sample program, whose arguments are stack config, the error names the config key instead", () => {
        const claim = claimSecret(recipe, target(false, takeOverStackConfig));
        assert.match(!claim.ok ? claim.reason : "", /set takeOver to true \(pulumi config set takeOver true\)/);
    });

    it("with takeOver, a kubectl-made Secret for another registry (a tenant's Docker Hub credential) is refused, naming its host", () => {
        for (const registryHosts of [["docker.io"], ["asia.gcr.io", "ghcr.io"], [], undefined]) {
            const claim = claimSecret({ ...recipe, registryHosts }, target(true));
            assert.equal(claim.ok, false, JSON.stringify(registryHosts));
            assert.match(!claim.ok ? claim.reason : "", /not only for the component's registries/);
        }
        const dockerHub = claimSecret({ ...recipe, registryHosts: ["docker.io"] }, target(true));
        assert.match(!dockerHub.ok ? dockerHub.reason : "", /holds credentials for "docker\.io"/);
        const both = { ...recipe, registryHosts: ["asia-northeast1-docker.pkg.dev", "asia.gcr.io"] };
        assert.deepEqual(claimSecret(both, target(true)), { ok: true, takesOverFrom: ["kubectl-create"] });
    });

    it("with takeOver, a recipe Secret another tool or stack set any field of (a label, an annotation) is refused", () => {
        const labelled: LiveSecretMetadata = {
            ...recipe,
            metadata: {
                managedFields: [
                    ...recipe.metadata!.managedFields!,
                    { manager: "pulumi-kubernetes-4a5b", fieldsV1: { "f:metadata": { "f:labels": { "f:team": {} } } } },
                ],
            },
        };
        const claim = claimSecret(labelled, target(true));
        assert.equal(claim.ok, false);
        assert.match(
            !claim.ok ? claim.reason : "",
            /has fields written by "pulumi-kubernetes-4a5b", not only by kubectl/,
        );
    });

    it("with takeOver, a Secret only kubectl wrote (create, edit, apply) is taken over from those managers", () => {
        assert.deepEqual(claimSecret(recipe, target(true)), { ok: true, takesOverFrom: ["kubectl-create"] });
        const edited = written("kubectl-create", "kubectl-edit", "kubectl-client-side-apply");
        assert.deepEqual(claimSecret(edited, target(true)), {
            ok: true,
            takesOverFrom: ["kubectl-client-side-apply", "kubectl-create", "kubectl-edit"],
        });
    });

    it("a Secret of another type is refused with or without takeOver, naming its type", () => {
        for (const takeOver of [false, true]) {
            const claim = claimSecret({ ...written("kubectl-create"), type: "Opaque" }, target(takeOver));
            assert.equal(claim.ok, false);
            assert.match(!claim.ok ? claim.reason : "", /with type "Opaque", not kubernetes.io\/dockerconfigjson/);
        }
    });

    it("another component's Secret (its owner label) is refused with or without takeOver; our own owner's is ours", () => {
        const labelled = (id: string): LiveSecretMetadata => ({
            ...recipe,
            metadata: {
                ...recipe.metadata,
                labels: {
                    [ownershipKeys.managedBy.key]: ownershipKeys.managedBy.value,
                    [ownershipKeys.secretOwner]: id,
                },
            },
        });
        for (const takeOver of [false, true]) {
            const claim = claimSecret(labelled(other), target(takeOver));
            assert.equal(claim.ok, false);
            assert.match(
                !claim.ok ? claim.reason : "",
                new RegExp(`another RegistryPullSecret component \\(owner ${other}`),
            );
            assert.deepEqual(claimSecret(labelled(owner), target(takeOver)), { ok: true, takesOverFrom: [] });
        }
    });

    it("a Secret another object owns (ownerReferences, e.g. an ExternalSecret) is refused with or without takeOver", () => {
        const owned: LiveSecretMetadata = {
            ...recipe,
            metadata: { ...recipe.metadata, ownerReferences: [{ kind: "ExternalSecret", name: "pull" }] },
        };
        for (const takeOver of [false, true]) {
            const claim = claimSecret(owned, target(takeOver));
            assert.match(!claim.ok ? claim.reason : "", /owned by ExternalSecret "pull"/);
        }
    });

    it("with takeOver, a Secret a Pulumi program wrote (another stack) is refused and never forced; without it, it passes as before (it may be this stack's own)", () => {
        for (const pulumi of [written("pulumi-kubernetes-8a1f2c3d"), written("kubectl-create", "pulumi-kubernetes")]) {
            const claim = claimSecret(pulumi, target(true));
            assert.equal(claim.ok, false);
            assert.match(
                !claim.ok ? claim.reason : "",
                /managed by a Pulumi program \(field manager "pulumi-kubernetes/,
            );
            assert.deepEqual(claimSecret(pulumi, target(false)), { ok: true, takesOverFrom: [] });
        }
    });

    it("a Secret another tool wrote (Helm, a controller) is refused with or without takeOver, naming the tool", () => {
        for (const tool of [written("helm"), written("kubectl-create", "external-secrets")]) {
            for (const takeOver of [false, true]) {
                const claim = claimSecret(tool, target(takeOver));
                assert.equal(claim.ok, false);
                assert.match(!claim.ok ? claim.reason : "", /"(helm|external-secrets)"/);
            }
        }
    });

    it("only the managers of the data count: one that set only labels or annotations is not a writer of the Secret", () => {
        const labelledByHand: LiveSecretMetadata = {
            ...recipe,
            metadata: {
                managedFields: [
                    ...recipe.metadata!.managedFields!,
                    { manager: "kubectl-label", fieldsV1: { "f:metadata": { "f:labels": { "f:team": {} } } } },
                ],
            },
        };
        assert.deepEqual(dataManagers(labelledByHand), ["kubectl-create"]);
        assert.deepEqual(claimSecret(labelledByHand, target(true)), { ok: true, takesOverFrom: ["kubectl-create"] });
    });

    it("no reason quotes anything but names and managers (never data, which the rules do not receive)", () => {
        const reasons = [recipe, written("helm"), written("pulumi-kubernetes-1")].flatMap((live) =>
            [false, true].map((takeOver) => claimSecret(live, target(takeOver))),
        );
        for (const claim of reasons) if (!claim.ok) assert.doesNotMatch(claim.reason, /dockerconfigjson"?:|auths/);
    });
});

describe("entries takeOver makes ours", () => {
    const account = (name: string, list: string[], annotations?: Record<string, string>) => ({
        metadata: { name, ...(annotations ? { annotations } : {}) },
        imagePullSecrets: list.map((entry) => ({ name: entry })),
    });

    it("the ServiceAccounts that list our name and whose entry no owner's marker claims, sorted", () => {
        const accounts = [
            account("default", ["theirs", "regcred"]),
            account("builder", ["other"]),
            account("deployer", ["regcred"], { [ownershipKeys.entries(other)]: '["regcred"]' }),
            account("ci", ["regcred"]),
        ];
        assert.deepEqual(entriesToTakeOver(accounts, "regcred"), ["ci", "default"]);
    });
});
