/**
 * The project's own import graph, read with the TypeScript compiler (the files a tsconfig includes, each
 * import resolved as `tsc` resolves it, `import type` and `export ... from` included: a type-only
 * import still ties two modules' designs together), and the import circles in it. A module that
 * imports, directly or through others, a module that imports it cannot be read, tested or moved on
 * its own; test/import-circles.test.ts keeps the graph free of them. Also what one module loads
 * through all its imports: test/refresher/refresher-imports.test.ts keeps the in-cluster token
 * refresher on Node built-ins.
 */
import * as path from "node:path";
import ts from "typescript";

/** What one module imports: project files (absolute paths) and, as written, every other specifier. */
export interface ModuleImports {
    project: string[];
    /** Packages and Node built-ins (`@pulumi/pulumi`, `node:fs`), and specifiers that resolve to nothing. */
    external: string[];
}

/** Each project file (absolute path) to the project files it imports; modules in node_modules are left out. */
export function importGraph(tsconfigPath: string): Map<string, string[]> {
    return new Map([...moduleImports(tsconfigPath)].map(([file, { project }]) => [file, project]));
}

/**
 * Each project file (absolute path) to what it imports: static imports, `export ... from`,
 * `import type`, `import()` and `require()`.
 */
export function moduleImports(tsconfigPath: string): Map<string, ModuleImports> {
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
    const imports = new Map<string, ModuleImports>();
    for (const file of config.fileNames) {
        const { importedFiles } = ts.preProcessFile(ts.sys.readFile(file) ?? "", true, true);
        const project = new Set<string>();
        const external = new Set<string>();
        for (const { fileName } of importedFiles) {
            const module = ts.resolveModuleName(fileName, file, config.options, ts.sys).resolvedModule;
            if (module === undefined || module.isExternalLibraryImport) external.add(fileName);
            else project.add(path.resolve(module.resolvedFileName));
        }
        imports.set(path.resolve(file), { project: [...project], external: [...external] });
    }
    return imports;
}

/**
 * Everything `entry` loads, directly or through other project files: those files (`entry` included)
 * and the specifiers they import from outside the project, each sorted.
 */
export function reachableImports(
    imports: ReadonlyMap<string, ModuleImports>,
    entry: string,
): { files: string[]; external: string[] } {
    const files = new Set<string>();
    const external = new Set<string>();
    const visit = (file: string): void => {
        if (files.has(file)) return;
        files.add(file);
        const module = imports.get(file);
        if (module === undefined) throw new Error(`${file} is not a file of the project`);
        module.external.forEach((specifier) => external.add(specifier));
        module.project.forEach(visit);
    };
    visit(entry);
    return { files: [...files].sort(), external: [...external].sort() };
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
