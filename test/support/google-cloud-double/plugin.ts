/**
 * `pulumi-resource-gcp`, the Google Cloud provider DOUBLE, as the Pulumi engine runs a resource
 * provider plugin: a gRPC server (pulumirpc.ResourceProvider, from the service definition and
 * messages @pulumi/pulumi ships in `proto/`, served by the same @grpc/grpc-js) on 127.0.0.1, whose
 * port it prints on stdout. It serves ./provider.ts against the state file named by
 * GOOGLE_CLOUD_DOUBLE_STATE.
 *
 * Why not @pulumi/pulumi/provider's `main()`: that server drops a Diff's detailed diff and stables,
 * never says it supports previews (so the engine, not the provider, would invent preview outputs),
 * returns no inputs from Read and leaves CheckConfig and DiffConfig unimplemented. A bridged provider
 * such as pulumi-gcp does all of those, and `pulumi preview --diff` shows them.
 */
import { createRequire } from "node:module";
import { packageSchema } from "./schema";
import { GoogleCloudProvider, type CheckFailure } from "./provider";

// Resolved from @pulumi/pulumi's own folder: the copies its generated proto modules were made with.
const sdk = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = sdk("@grpc/grpc-js");
const messages = sdk("@pulumi/pulumi/proto/provider_pb");
const services = sdk("@pulumi/pulumi/proto/provider_grpc_pb");
const pluginMessages = sdk("@pulumi/pulumi/proto/plugin_pb");
const { Struct } = sdk("google-protobuf/google/protobuf/struct_pb");
const { Empty } = sdk("google-protobuf/google/protobuf/empty_pb");

type Call = { request: any };
type Callback = (error: unknown, response?: unknown) => void;

/** A unary handler: errors become gRPC errors whose details the engine prints. */
function unary(handle: (request: any) => unknown) {
    return (call: Call, callback: Callback) => {
        try {
            callback(null, handle(call.request));
        } catch (error) {
            callback({ code: grpc.status.UNKNOWN, details: (error as Error).message });
        }
    };
}

const toStruct = (value: unknown) => Struct.fromJavaScript(JSON.parse(JSON.stringify(value ?? {})));
const fromStruct = (struct: any) => (struct ? struct.toJavaScript() : {});

function checkResponse(inputs: unknown, failures: CheckFailure[]) {
    const response = new messages.CheckResponse();
    response.setInputs(toStruct(inputs));
    response.setFailuresList(
        failures.map((f) => new messages.CheckFailure().setProperty(f.property).setReason(f.reason)),
    );
    return response;
}

export function providerService(provider: GoogleCloudProvider, version: string) {
    return {
        getPluginInfo: unary(() => new pluginMessages.PluginInfo().setVersion(version)),
        handshake: unary(() =>
            new messages.ProviderHandshakeResponse()
                .setAcceptSecrets(true)
                .setAcceptResources(false)
                .setAcceptOutputs(false),
        ),
        getSchema: unary(() => new messages.GetSchemaResponse().setSchema(packageSchema(version))),
        // The provider's config (gcp:project, gcp:region, ...) needs no checking here: no credentials are used.
        checkConfig: unary((r) => checkResponse(fromStruct(r.getNews()), [])),
        diffConfig: unary((r) => {
            const same = JSON.stringify(fromStruct(r.getOlds())) === JSON.stringify(fromStruct(r.getNews()));
            return new messages.DiffResponse().setChanges(
                same ? messages.DiffResponse.DiffChanges.DIFF_NONE : messages.DiffResponse.DiffChanges.DIFF_SOME,
            );
        }),
        configure: unary((r) => {
            provider.configure(fromStruct(r.getArgs()));
            return new messages.ConfigureResponse()
                .setAcceptsecrets(true)
                .setSupportspreview(true)
                .setAcceptresources(false)
                .setAcceptoutputs(false);
        }),
        check: unary((r) => {
            const { inputs, failures } = provider.check(r.getUrn(), fromStruct(r.getNews()));
            return checkResponse(inputs, failures);
        }),
        diff: unary((r) => {
            const result = provider.diff(r.getUrn(), fromStruct(r.getOlds()), fromStruct(r.getNews()));
            const response = new messages.DiffResponse()
                .setChanges(
                    result.changes
                        ? messages.DiffResponse.DiffChanges.DIFF_SOME
                        : messages.DiffResponse.DiffChanges.DIFF_NONE,
                )
                .setReplacesList(result.replaces)
                .setDeletebeforereplace(false)
                .setDiffsList([...new Set(Object.keys(result.detailedDiff).map((path) => path.split(".")[0]))])
                .setHasdetaileddiff(true);
            for (const [path, kind] of Object.entries(result.detailedDiff)) {
                response.getDetaileddiffMap().set(path, new messages.PropertyDiff().setKind(kind).setInputdiff(true));
            }
            return response;
        }),
        create: unary((r) => {
            const { id, outputs } = provider.create(r.getUrn(), fromStruct(r.getProperties()), r.getPreview());
            return new messages.CreateResponse().setId(id).setProperties(toStruct(outputs));
        }),
        read: unary((r) => {
            const { id, outputs, inputs } = provider.read(r.getUrn(), r.getId(), fromStruct(r.getProperties()));
            return new messages.ReadResponse().setId(id).setProperties(toStruct(outputs)).setInputs(toStruct(inputs));
        }),
        update: unary((r) => {
            const outputs = provider.update(
                r.getUrn(),
                r.getId(),
                fromStruct(r.getOlds()),
                fromStruct(r.getNews()),
                r.getPreview(),
            );
            return new messages.UpdateResponse().setProperties(toStruct(outputs));
        }),
        delete: unary((r) => {
            provider.delete(r.getUrn(), r.getId(), fromStruct(r.getProperties()));
            return new Empty();
        }),
        cancel: unary(() => new Empty()),
    };
}

/** Serves the double on 127.0.0.1 and resolves to its port. */
export async function serve(stateFile: string, version: string): Promise<{ port: number; stop(): void }> {
    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    server.addService(services.ResourceProviderService, providerService(new GoogleCloudProvider(stateFile), version));
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(
            "127.0.0.1:0",
            grpc.ServerCredentials.createInsecure(),
            (error: Error | null, bound: number) => (error ? reject(error) : resolve(bound)),
        ),
    );
    return { port, stop: () => server.forceShutdown() };
}

/** The client the engine would be, for unit tests of the plugin process. */
export function providerClient(address: string) {
    return new services.ResourceProviderClient(address, grpc.credentials.createInsecure());
}

export { Empty, messages, Struct };
