/**
 * The engine's side of the plugin protocol, for unit tests of the double: starts the executable
 * `pulumi-resource-gcp` as the engine does (its address as the argument, the port read from stdout)
 * and makes the engine's calls with the SDK's messages, returning plain values.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { writeGoogleCloudDouble } from "./install";
import { Empty, messages, providerClient, Struct } from "./plugin";
import { stateFileVariable } from "./state";

export type Props = Record<string, any>;

export interface DoubleClient {
    urn(token: string, name: string): string;
    pluginVersion(): Promise<string>;
    schema(): Promise<any>;
    configure(args: Props): Promise<{ acceptSecrets: boolean; supportsPreview: boolean }>;
    check(urn: string, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }>;
    diff(
        urn: string,
        olds: Props,
        news: Props,
    ): Promise<{ changes: "none" | "some"; replaces: string[]; detailedDiff: Record<string, number> }>;
    create(urn: string, inputs: Props, preview?: boolean): Promise<{ id: string; outputs: Props }>;
    read(urn: string, id: string, state: Props): Promise<{ id: string; outputs: Props; inputs: Props }>;
    update(urn: string, id: string, olds: Props, news: Props): Promise<Props>;
    delete(urn: string, id: string, state: Props): Promise<void>;
    stop(): Promise<void>;
}

const struct = (value: Props) => Struct.fromJavaScript(value);

export async function startDoubleProcess(stateFile: string, version = "9.37.0"): Promise<DoubleClient> {
    const work = mkdtempSync(path.join(tmpdir(), "gcp-double-"));
    const child: ChildProcess = spawn(writeGoogleCloudDouble(work, version), ["127.0.0.1:1"], {
        env: { ...process.env, [stateFileVariable]: stateFile },
        stdio: ["ignore", "pipe", "inherit"],
    });
    process.once("exit", () => child.kill("SIGKILL"));
    const port = await new Promise<string>((resolve, reject) => {
        child.stdout!.once("data", (line: Buffer) => resolve(line.toString().trim()));
        child.once("exit", (code) =>
            reject(new Error(`pulumi-resource-gcp exited (${code}) before printing its port`)),
        );
    });
    const client = providerClient(`127.0.0.1:${port}`);
    const call = (method: string, request: unknown) =>
        new Promise<any>((resolve, reject) =>
            client[method](request, (error: Error | null, response: unknown) =>
                error ? reject(error) : resolve(response),
            ),
        );
    return {
        urn: (token, name) => `urn:pulumi:test::double::${token}::${name}`,
        pluginVersion: async () => (await call("getPluginInfo", new Empty())).getVersion(),
        schema: async () => JSON.parse((await call("getSchema", new messages.GetSchemaRequest())).getSchema()),
        async configure(args) {
            const response = await call("configure", new messages.ConfigureRequest().setArgs(struct(args)));
            return { acceptSecrets: response.getAcceptsecrets(), supportsPreview: response.getSupportspreview() };
        },
        async check(urn, news) {
            const response = await call("check", new messages.CheckRequest().setUrn(urn).setNews(struct(news)));
            return {
                inputs: response.getInputs().toJavaScript(),
                failures: response
                    .getFailuresList()
                    .map((f: any) => ({ property: f.getProperty(), reason: f.getReason() })),
            };
        },
        async diff(urn, olds, news) {
            const response = await call(
                "diff",
                new messages.DiffRequest().setUrn(urn).setOlds(struct(olds)).setNews(struct(news)),
            );
            const detailedDiff: Record<string, number> = {};
            response.getDetaileddiffMap().forEach((diff: any, key: string) => (detailedDiff[key] = diff.getKind()));
            return {
                changes: response.getChanges() === messages.DiffResponse.DiffChanges.DIFF_SOME ? "some" : "none",
                replaces: response.getReplacesList(),
                detailedDiff,
            };
        },
        async create(urn, inputs, preview = false) {
            const response = await call(
                "create",
                new messages.CreateRequest().setUrn(urn).setProperties(struct(inputs)).setPreview(preview),
            );
            return { id: response.getId(), outputs: response.getProperties().toJavaScript() };
        },
        async read(urn, id, state) {
            const response = await call(
                "read",
                new messages.ReadRequest().setUrn(urn).setId(id).setProperties(struct(state)),
            );
            return {
                id: response.getId(),
                outputs: response.getProperties().toJavaScript(),
                inputs: response.getInputs().toJavaScript(),
            };
        },
        async update(urn, id, olds, news) {
            const response = await call(
                "update",
                new messages.UpdateRequest().setUrn(urn).setId(id).setOlds(struct(olds)).setNews(struct(news)),
            );
            return response.getProperties().toJavaScript();
        },
        async delete(urn, id, state) {
            await call("delete", new messages.DeleteRequest().setUrn(urn).setId(id).setProperties(struct(state)));
        },
        async stop() {
            client.close();
            const exited = new Promise((resolve) => child.once("exit", resolve));
            child.kill("SIGTERM");
            await exited;
            rmSync(work, { recursive: true, force: true });
        },
    };
}
