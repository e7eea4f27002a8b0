/**
 * A dynamic provider that Pulumi serializes as a few lines naming a module of this package, instead
 * of a copy of the implementation and everything it reaches.
 *
 * Why: Pulumi stores the serialized provider with every dynamic resource (`__provider`) and runs it
 * in its dynamic-provider process. Its closure serializer copies modules outside `node_modules` by
 * value (this repository, a workspace link) and turns a module inside `node_modules` into
 * `require("<package>/<path>")`, which must be a subpath in the package's `exports`
 * (@pulumi/pulumi runtime/closure/createClosure.js `captureModuleAsync`, package.js `getModuleFromPath`).
 * So the functions below capture only two strings and load the implementation by package name when
 * they are called.
 *
 * How the name resolves: the dynamic-provider host evaluates `__provider` with require-from-string
 * and no file name (@pulumi/pulumi cmd/dynamic-provider/index.js `getProvider`), so a plain `require`
 * in it searches the `node_modules` folders from the process's working directory, the program's
 * folder. `createRequire` on that folder does the same and adds Node's self-reference (a package
 * resolving its own name through its `exports`), so this repository's own stack loads its own build.
 *
 * The implementation module is a subpath in package.json `exports` and exports `provider`: one
 * object, so `configure` and the CRUD calls share its state (Node caches the module).
 */
import type * as pulumi from "@pulumi/pulumi";

/** What an implementation module exports. */
type Implementation = { provider: Record<string, (...args: unknown[]) => unknown> };

/** The package name the dynamic-provider process resolves; package.json `name`. */
export const packageName = "registry-pull-secret";

/**
 * A provider whose methods are those of `implementation` (the object the module `subpath` exports as
 * `provider`), each loading `registry-pull-secret/<subpath>` when called and calling it there.
 */
export function providerByName(
    subpath: string,
    implementation: pulumi.dynamic.ResourceProvider,
): pulumi.dynamic.ResourceProvider {
    const moduleName = `${packageName}/${subpath}`;
    // Serialized as text: it may use only globals (`process`) and the string it captures.
    // `process.getBuiltinModule` (Node 20.16, 22.3) needs no `require` in scope.
    const call = (method: string, args: unknown[]) =>
        (
            process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`)(moduleName) as Implementation
        ).provider[method](...args);
    // One arrow per method, written out: a method name held in a variable would be serialized with
    // each of them, and the serialized text is stored with every resource.
    const delegates: Record<keyof pulumi.dynamic.ResourceProvider, unknown> = {
        check: (...args: unknown[]) => call("check", args),
        diff: (...args: unknown[]) => call("diff", args),
        create: (...args: unknown[]) => call("create", args),
        read: (...args: unknown[]) => call("read", args),
        update: (...args: unknown[]) => call("update", args),
        delete: (...args: unknown[]) => call("delete", args),
        configure: (...args: unknown[]) => call("configure", args),
    };
    // Only what the implementation has: the host treats a missing method differently (no `check`: the
    // inputs are taken as they are; no `diff`: the engine compares the properties itself).
    const methods = (Object.keys(delegates) as (keyof typeof delegates)[]).filter(
        (method) => typeof implementation[method] === "function",
    );
    return Object.fromEntries(
        methods.map((method) => [method, delegates[method]]),
    ) as unknown as pulumi.dynamic.ResourceProvider;
}
