/**
 * A dynamic resource whose provider is a module of this package, loaded by package name in Pulumi's
 * dynamic-provider process: the resource stores a few lines of JavaScript that name the module, not
 * a copy of the implementation. In the plugin (a component hosted for another language) the same
 * module serves it as a resource of the plugin instead ({@link serveFromPlugin}).
 *
 * Why not `pulumi.dynamic.Resource`: it serializes the provider object with Pulumi's closure
 * serializer, which copies modules outside `node_modules` by value (this repository, a workspace
 * link; 21.7 KB per resource for PullSecretEntry) and turns a module inside `node_modules` into
 * `require("<package>/<file path>")`, which the package's `exports` refuses
 * (@pulumi/pulumi runtime/closure/createClosure.js `captureModuleAsync`, package.js
 * `getModuleFromPath`). Serializing at all also loads the TypeScript compiler to parse functions,
 * about 0.2 s per program. `pulumi.dynamic.Resource` itself only stores the serialized text as
 * `__provider` and registers the type `pulumi-nodejs:dynamic/<module>:<type>`
 * (@pulumi/pulumi dynamic/index.js); {@link PackageResource} does the same with text written here.
 *
 * How the host runs the text: @pulumi/pulumi cmd/dynamic-provider/index.js `getProvider` evaluates
 * `__provider` with require-from-string and no file name, calls `handler()` and then `configure`.
 * A plain `require` there searches the `node_modules` folders from the process's working directory,
 * the program's folder; `createRequire` on that folder does the same and adds Node's self-reference
 * (a package resolving its own name through its `exports`), so this repository's own stack loads its
 * own build. The implementation module is a subpath in package.json `exports` and exports `provider`:
 * one object, so `configure` and the CRUD calls share its state (Node caches the module).
 */
import * as pulumi from "@pulumi/pulumi";

/** The package name the dynamic-provider process resolves; package.json `name`. */
export const packageName = "registry-pull-secret";

const methods = ["check", "diff", "create", "read", "update", "delete", "configure"] as const;

/**
 * The text Pulumi's dynamic-provider host evaluates: `handler()` returns a provider with the methods
 * `implementation` has (a missing one means something else to the host: no `check`, the inputs are
 * taken as they are; no `diff`, the engine compares the properties itself), each loading
 * `registry-pull-secret/<subpath>` when called and calling the same method of its `provider`.
 */
export function providerByName(subpath: string, implementation: pulumi.dynamic.ResourceProvider): string {
    const delegates = methods
        .filter((method) => typeof implementation[method] === "function")
        .map((method) => `${method}: (...args) => load().${method}(...args)`);
    return [
        `// ${packageName}: the provider is the module below, loaded by package name from the program's folder.`,
        `const load = () => require("node:module").createRequire(process.cwd() + "/")(${JSON.stringify(`${packageName}/${subpath}`)}).provider;`,
        `exports.handler = () => ({ ${delegates.join(", ")} });`,
        "",
    ].join("\n");
}

/** The plugin's version while this process is the plugin; unset in a TypeScript program. */
let servedByPlugin: string | undefined;

/**
 * Makes every {@link PackageResource} this process declares from now on a resource of this package's
 * plugin at `version` (called once by the plugin's entry point, provider.ts, before it serves): the
 * same plugin version that constructs the component serves them (the engine keys default providers
 * by version).
 * A component hosted by the plugin for a Python, Go, .NET or YAML program cannot use Pulumi's
 * dynamic-provider host: that host starts node in the program's folder, which has no `@pulumi/pulumi`
 * nor this package.
 */
export function serveFromPlugin(version: string): void {
    servedByPlugin = version;
}

/** The type token of a resource the plugin serves (components/plugin.ts). */
export const servedType = (type: string) => `${packageName}:index:${type}`;

/** The props of a served resource: a kubeconfig given with it, else the stack's, and the stack's context. */
function withStackCluster(props: pulumi.Inputs): pulumi.Inputs {
    const kubernetes = new pulumi.Config("kubernetes");
    const own = props.kubeconfig as pulumi.Input<string> | undefined;
    const context: string | undefined = kubernetes.get("context");
    return { ...props, kubeconfig: own ?? kubernetes.getSecret("kubeconfig"), context };
}

/**
 * A resource whose provider is a module of this package. In a TypeScript program: what
 * `pulumi.dynamic.Resource` registers, with the provider given as the text {@link providerByName}
 * writes. In the plugin: a resource of the plugin itself, carrying the stack's Kubernetes connection
 * (`kubernetes:kubeconfig`, `kubernetes:context`), which a construct request brings and a plugin's
 * own `configure` does not; a kubeconfig given with the resource wins, as in the dynamic provider.
 * Either way it reaches the cluster through that connection, never through a Kubernetes provider
 * resource, so a `provider` in its options (the component's one cluster) is left out: the SDK would
 * send it as this resource's provider (test/one-cluster.test.ts shows the reference it would carry).
 */
export class PackageResource extends pulumi.CustomResource {
    constructor(
        providerText: string,
        name: string,
        props: pulumi.Inputs,
        opts: pulumi.CustomResourceOptions,
        module: string,
        type: string,
    ) {
        super(
            servedByPlugin ? servedType(type) : `pulumi-nodejs:dynamic/${module}:${type}`,
            name,
            servedByPlugin ? withStackCluster(props) : { ...props, __provider: providerText },
            { ...opts, provider: undefined, ...(servedByPlugin ? { version: servedByPlugin } : {}) },
        );
    }
}
