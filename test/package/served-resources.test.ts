/**
 * A component hosted by the plugin (a Python, Go, .NET or YAML program) declares its own resources as
 * resources of the plugin, which serves them with the same provider objects Pulumi's dynamic-provider
 * host runs in a TypeScript program. Pulumi's dynamic-provider host starts node in the program's
 * folder, where neither @pulumi/pulumi nor this package is installed (test/engine/yaml-program.test.ts
 * runs the whole path with the real engine).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { startMocks, isSecretValue, reveal } from "../support/mocks";
const kubeconfig = "apiVersion: v1\nkind: Config\n";
const registrations = startMocks({
    config: { "kubernetes:kubeconfig": kubeconfig, "kubernetes:context": "stack-context" },
});
import { serveFromPlugin } from "../../components/cluster/provider-by-name";
serveFromPlugin("1.2.3");
import { RegistryPullSecret } from "../../components";
import { pluginProvider } from "../../components/plugin";
import { registeredBy } from "../support/component";
import { startApiServerDouble, type ApiServerDouble } from "../support/api-server-double";
import { secretValue } from "../../tools/recording-monitor";

const entryType = "registry-pull-secret:index:PullSecretEntry";
const credentials = { username: "user", password: "password-1" };

describe("a component constructed in the plugin", () => {
    it("declares each entry as the plugin's own PullSecretEntry at the plugin's version, carrying the stack's kubernetes:kubeconfig (a secret) and kubernetes:context, and no provider text", async () => {
        const component = new RegistryPullSecret("served", {
            namespaces: ["a", "b"],
            registries: ["registry.example:5000"],
            credentials,
        });
        const { children } = await registeredBy(component, registrations);
        const entries = children.filter((r) => r.type === entryType);
        assert.deepEqual(
            entries.map((r) => r.name),
            ["served/a/default", "served/b/default"],
        );
        for (const entry of entries) {
            assert.equal(isSecretValue(entry.inputs.kubeconfig), true);
            assert.equal(reveal(entry.inputs.kubeconfig), kubeconfig);
            assert.equal(entry.inputs.context, "stack-context");
            assert.equal("__provider" in entry.inputs, false);
            assert.deepEqual(entry.additionalSecretOutputs, ["kubeconfig"]);
            assert.equal(entry.version, "1.2.3", "served by the plugin version that constructs the component");
        }
        assert.equal(
            registrations.some((r) => r.type.startsWith("pulumi-nodejs:dynamic/")),
            false,
        );
    });

    it("gives each entry the component's own kubeconfig argument over the stack's", async () => {
        const own = "apiVersion: v1\nkind: Config\n# the component's own\n";
        const component = new RegistryPullSecret("own-cluster", {
            namespaces: ["a"],
            registries: ["registry.example:5000"],
            credentials,
            kubeconfig: own,
        });
        const { children } = await registeredBy(component, registrations);
        const [entry] = children.filter((r) => r.type === entryType);
        assert.equal(reveal(entry.inputs.kubeconfig), own);
    });
});

describe("the plugin constructing the component (what a Python, Go, .NET or YAML program asks for)", () => {
    it("constructs RegistryPullSecret by its type token and returns every output the prebuilt schema lists, without analyzing the sources", async () => {
        const token = "registry-pull-secret:index:RegistryPullSecret";
        const schema = JSON.parse(await pluginProvider().getSchema!());
        // A schema that lists one output only: construct reads the outputs from the schema it serves.
        const one = {
            ...schema,
            resources: { [token]: { ...schema.resources[token], properties: { secretName: {} } } },
        };
        for (const served of [schema, one]) {
            const plugin = pluginProvider(undefined, undefined, JSON.stringify(served));
            const built = await plugin.construct!(
                `built-${Object.keys(served.resources[token].properties).length}`,
                token,
                { namespaces: ["a"], registries: ["registry.example:5000"], credentials },
                {},
            );
            assert.match(
                await new Promise<string>((resolve) => pulumi.output(built.urn).apply(resolve)),
                /RegistryPullSecret::built-/,
            );
            assert.deepEqual(Object.keys(built.state), Object.keys(served.resources[token].properties));
        }
    });

    it("refuses a type it does not construct, naming it", async () => {
        await assert.rejects(
            pluginProvider().construct!("x", "registry-pull-secret:index:Other", {}, {}),
            /does not construct the type registry-pull-secret:index:Other/,
        );
    });
});

describe("the plugin's provider serving PullSecretEntry against the API-server double", () => {
    let double: ApiServerDouble;
    const plugin = pluginProvider();
    const urn = `urn:pulumi:dev::yaml::registry-pull-secret:index:RegistryPullSecret$${entryType}::regcred/a/default`;
    const inputs = () => ({
        namespace: "a",
        serviceAccount: "default",
        secretName: "regcred",
        entry: "a/default: regcred",
        owner: "0123456789abcdef",
        kubeconfig: secretValue(double.kubeconfig),
    });
    before(async () => {
        double = await startApiServerDouble();
        double.put("a", "default", ["theirs"]);
    });
    after(() => double.close());

    it("creates, reads, restores and deletes only our entry, taking the kubeconfig secret-wrapped and returning it as a secret", async () => {
        const created = await plugin.create!(urn, inputs());
        assert.equal(created.id, "a/default/regcred");
        assert.deepEqual(double.pullSecrets("a", "default"), ["theirs", "regcred"]);
        assert.equal(isSecretValue(created.outs.kubeconfig), true);
        assert.equal(reveal(created.outs.kubeconfig), double.kubeconfig);
        assert.equal(created.outs.present, true);

        const same = await plugin.diff!(created.id, urn, created.outs, inputs());
        assert.equal(same.changes, false);

        double.put("a", "default", ["theirs"]);
        const read = await plugin.read!(created.id, urn, created.outs);
        assert.equal(read.props.present, false);
        assert.equal(isSecretValue(read.props.kubeconfig), true);

        const restore = await plugin.diff!(created.id, urn, read.props, inputs());
        assert.equal(restore.changes, true);
        const updated = await plugin.update!(created.id, urn, read.props, inputs());
        assert.deepEqual(double.pullSecrets("a", "default"), ["theirs", "regcred"]);
        assert.equal(isSecretValue(updated.outs.kubeconfig), true);

        await plugin.delete!(created.id, urn, updated.outs);
        assert.deepEqual(double.pullSecrets("a", "default"), ["theirs"]);
    });

    it("serves RefreshedSecret too: creates the Secret with no credential and deletes only its own", async () => {
        const secretUrn = urn.replace("PullSecretEntry", "RefreshedSecret").replace("regcred/a/default", "regcred/a");
        const inputs = {
            namespace: "a",
            secretName: "refreshed",
            writer: "pull-token-refresher/token-refresher",
            owner: "0123456789abcdef",
            kubeconfig: secretValue(double.kubeconfig),
        };
        const created = await plugin.create!(secretUrn, inputs);
        assert.equal(created.id, "a/refreshed");
        assert.equal(double.secret("a", "refreshed")?.type, "kubernetes.io/dockerconfigjson");
        assert.equal(isSecretValue(created.outs.kubeconfig), true);
        await plugin.delete!(created.id, secretUrn, created.outs);
        assert.equal(double.secret("a", "refreshed"), undefined);
    });

    it("refuses a resource type it does not serve, naming it", async () => {
        await assert.rejects(
            plugin.create!(urn.replace("PullSecretEntry", "Elsewhere"), inputs()),
            /registry-pull-secret does not serve the resource type registry-pull-secret:index:Elsewhere/,
        );
    });
});
