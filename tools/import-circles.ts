/**
 * The project's own import graph, read with the TypeScript compiler (the files a tsconfig includes, each
 * import resolved as `tsc` resolves it, `import type` and `export ... from` included: a type-only
 * import still ties two modules' designs together), and the import circles in it. A module that
 * imports, directly or through others, a module that imports it cannot be read, tested or moved on
 * its own; test/import-circles.test.ts keeps the graph free of them.
 */
import * as path from "node:path";
import ts from "typescript";

/** Each project file (absolute path) to the project files it imports; modules in node_modules are left out. */
export function importGraph(tsconfigPath: string): Map<string, string[]> {
    const config = ts.getParsedCommandLineOfConfigFile(
        tsconfigPath,
        {},
        {
            ...ts.sys,
            onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
                throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
            },
        },
    );
    if (config === undefined) throw new Error(`${tsconfigPath} cannot be read`);
    const graph = new Map<string, string[]>();
    for (const file of config.fileNames) {
        const { importedFiles } = ts.preProcessFile(ts.sys.readFile(file) ?? "", true, true);
        const imports = importedFiles
            .map(({ fileName }) => ts.resolveModuleName(fileName, file, config.options, ts.sys).resolvedModule)
            .filter((module) => module !== undefined && !module.isExternalLibraryImport)
            .map((module) => path.resolve(module!.resolvedFileName));
        graph.set(path.resolve(file), [...new Set(imports)]);
    }
    return graph;
}

/**
 * The import circles of `graph`: its strongly connected components of more than one module, or of
 * one module that imports itself (Tarjan's algorithm), each sorted by name, so that the answer does
 * not depend on the order files were listed in.
 */
export function importCircles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
    const index = new Map<string, number>();
    const lowLink = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const components: string[][] = [];
    const visit = (module: string): void => {
        index.set(module, index.size);
        lowLink.set(module, index.get(module)!);
        stack.push(module);
        onStack.add(module);
        for (const imported of graph.get(module) ?? []) {
            if (!index.has(imported)) {
                visit(imported);
                lowLink.set(module, Math.min(lowLink.get(module)!, lowLink.get(imported)!));
            } else if (onStack.has(imported)) {
                lowLink.set(module, Math.min(lowLink.get(module)!, index.get(imported)!));
            }
        }
        if (lowLink.get(module) !== index.get(module)) return;
        const component: string[] = [];
        let member: string;
        do {
            member = stack.pop()!;
            onStack.delete(member);
            component.push(member);
        } while (member !== module);
        if (component.length > 1 || (graph.get(module) ?? []).includes(module)) components.push(component);
    };
    for (const module of [...graph.keys()].sort()) if (!index.has(module)) visit(module);
    return components.map((component) => component.sort()).sort((a, b) => a[0].localeCompare(b[0]));
}
