/**
 * The plugin folder as Pulumi's Node.js language host starts it (pulumi-language-nodejs main.go
 * `RunPlugin`): `node @pulumi/pulumi/cmd/run-plugin <plugin folder>`, which `require`s the folder (its
 * package.json `main`, the built provider.ts) and prints the port it serves gRPC on; and its schema
 * asked for over that port, as the engine asks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import * as os from "node:os";

// The gRPC client of the SDK's own protocol stubs, from the copy of @grpc/grpc-js the SDK loads.
const sdkRequire = createRequire(require.resolve("@pulumi/pulumi"));

export interface PluginProcess {
    child: ChildProcess;
    /** The schema text the plugin answers GetSchema with. */
    schema(): Promise<string>;
}

export async function startPluginProcess(folder: string): Promise<PluginProcess> {
    const child = spawn(process.execPath, [sdkRequire.resolve("./cmd/run-plugin"), folder], {
        cwd: os.tmpdir(),
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const port = await new Promise<string>((resolve, reject) => {
        child.stdout.once("data", (chunk) => resolve(String(chunk).trim()));
        child.once("exit", (code) => reject(new Error(`plugin exited ${code}: ${stderr}`)));
    });
    if (!/^\d+$/.test(port)) throw new Error(`the plugin printed ${port}, not a port`);
    const grpc = sdkRequire("@grpc/grpc-js");
    const { ResourceProviderClient } = sdkRequire("./proto/provider_grpc_pb");
    const { GetSchemaRequest } = sdkRequire("./proto/provider_pb");
    return {
        child,
        async schema() {
            const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
            try {
                return await new Promise<string>((resolve, reject) =>
                    client.getSchema(new GetSchemaRequest(), (err: Error | null, resp: any) =>
                        err ? reject(err) : resolve(resp.getSchema()),
                    ),
                );
            } finally {
                client.close();
            }
        },
    };
}
