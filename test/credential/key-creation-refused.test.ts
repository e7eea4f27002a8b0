/**
 * A key the organization policy forbids (iam.disableServiceAccountKeyCreation): Google's refusal, as the
 * Google Cloud double words it for the engine, is recognised, and the key's error hook logs on the
 * component what to set instead, beside the provider's error, without retrying. Under the SDK's mocks
 * with a monitor that takes error hooks, the key carries the hook and the hook answers through the SDK's
 * own callback server, as it answers the engine.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";
import { startMocks } from "../support/mocks";
import { sampleArgs, registeredBy } from "../support/component";
import { GoogleCloudProvider } from "../support/google-cloud-double/provider";
import { instantPropagation } from "../support/google-cloud-double/propagation";
import { newProject, newServiceAccount, writeGoogleCloud } from "../support/google-cloud-double/state";

const registrations = startMocks();
// The mock monitor takes error hooks as the engine's does: it records each registration (the callback
// server's address and token) and answers OK.
const hookRegistrations: { name: string; target: string; token: string }[] = [];
(pulumi.runtime.getMonitor() as any).registerErrorHook = (req: any, callback: (e: null, r: unknown) => void) => {
    hookRegistrations.push({
        name: req.getName(),
        target: req.getCallback().getTarget(),
        token: req.getCallback().getToken(),
    });
    callback(null, {});
};
import { RegistryPullSecret } from "../../components";
import { engineRunsErrorHooks, onKeyCreationError } from "../../components/credential/credential";
import { isKeyCreationRefusal, keyCreationRefusedFix } from "../../components/credential/key-creation-refused";

const sdk = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = sdk("@grpc/grpc-js");
const callbackRpc = sdk("@pulumi/pulumi/proto/callback_grpc_pb");
const callbackMessages = sdk("@pulumi/pulumi/proto/callback_pb");
const resourceMessages = sdk("@pulumi/pulumi/proto/resource_pb");

/** What the SDK prints for `pulumi.log.error` when no engine takes it (the mocks have none). */
function recordErrors(): { errors: string[]; stop(): void } {
    const errors: string[] = [];
    const original = console.error;
    console.error = (...parts: unknown[]) => {
        const text = parts.map(String).join(" ");
        if (text.startsWith("error: [runtime] ")) errors.push(text.slice("error: [runtime] ".length));
        else original(...parts);
    };
    return { errors, stop: () => (console.error = original) };
}

const work = mkdtempSync(path.join(tmpdir(), "key-refused-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** The error the Google Cloud double's provider gives the engine for a key in a project that forbids keys. */
function refusalFromTheDouble(): string {
    const stateFile = path.join(work, "google.json");
    const project = newProject("345678901234");
    project.constraints.push("iam.disableServiceAccountKeyCreation");
    project.serviceAccounts["image-puller@secure.iam.gserviceaccount.com"] = newServiceAccount();
    // Instant: the refusal comes before any key exists, nothing waits for propagation.
    writeGoogleCloud(stateFile, { projects: { secure: project }, auditLog: [], propagation: instantPropagation() });
    const provider = new GoogleCloudProvider(stateFile);
    const urn =
        "urn:pulumi:test::p::registry-pull-secret:index:RegistryPullSecret$gcp:serviceaccount/key:Key::regcred-key";
    const { inputs } = provider.check(urn, { serviceAccountId: "image-puller@secure.iam.gserviceaccount.com" });
    try {
        provider.create(urn, inputs, false);
    } catch (error) {
        return (error as Error).message;
    }
    throw new Error("the double created a key the policy forbids");
}

describe("Google's refusal of a key", () => {
    it("is recognised in the error the provider gives, and told apart from other failed creates", () => {
        const refusal = refusalFromTheDouble();
        assert.match(refusal, /^Error creating service account key: googleapi: Error 400: Key creation is not allowed/);
        assert.equal(isKeyCreationRefusal([refusal]), true);
        assert.equal(isKeyCreationRefusal([`rpc error: code = Unknown desc = ${refusal}`]), true);
        for (const other of [
            "Error creating service account key: googleapi: Error 400: Precondition check failed., failedPrecondition",
            "Error creating service account key: googleapi: Error 404: Service account projects/-/serviceAccounts/a@p.iam.gserviceaccount.com does not exist., notFound",
            "Error creating service account key: googleapi: Error 403: Permission 'iam.serviceAccountKeys.create' denied on resource (or it may not exist)., forbidden",
        ]) {
            assert.equal(isKeyCreationRefusal([other]), false, other);
        }
        // Only the newest error counts: an earlier refusal followed by another failure is that failure.
        assert.equal(isKeyCreationRefusal(["Error 403: denied", refusal]), false);
        assert.equal(isKeyCreationRefusal([]), false);
    });

    it("the fix names the key, the property and each way out, as arguments or as the sample's stack config", () => {
        const asArguments = keyCreationRefusedFix("regcred-key", "arguments");
        for (const part of [
            "regcred-key",
            "Key creation is not allowed on this service account.",
            "constraints/iam.disableServiceAccountKeyCreation",
            'gcp.credential: "accessToken"',
            'gcp.credential: "gkeNode"',
            "gcp.existingKey",
            "exception",
        ]) {
            assert.ok(asArguments.includes(part), `${part} in ${asArguments}`);
        }
        const asStackConfig = keyCreationRefusedFix("regcred-key", "stackConfig");
        for (const part of [
            "pulumi config set credential accessToken",
            "pulumi config set credential gkeNode",
            "pulumi config set --secret existingKey",
        ]) {
            assert.ok(asStackConfig.includes(part), `${part} in ${asStackConfig}`);
        }
        assert.ok(!asStackConfig.includes("gcp.credential"), asStackConfig);
    });
});

describe("the key's error hook", () => {
    const component = new pulumi.ComponentResource("registry-pull-secret:index:RegistryPullSecret", "alone");
    const args = (failedOperation: string, errors: string[]): pulumi.ErrorHookArgs => ({
        urn: "urn:pulumi:test::p::registry-pull-secret:index:RegistryPullSecret$gcp:serviceaccount/key:Key::alone-key",
        id: "",
        name: "alone-key",
        type: "gcp:serviceaccount/key:Key",
        failedOperation,
        errors,
    });

    it("after a refused create, logs the fix as an error on the component and does not retry", async () => {
        const logged = recordErrors();
        try {
            const hook = onKeyCreationError("alone-key", component, "arguments");
            assert.equal(await hook(args("create", [refusalFromTheDouble()])), false);
            assert.deepEqual(logged.errors, [keyCreationRefusedFix("alone-key", "arguments")]);
        } finally {
            logged.stop();
        }
    });

    it("says nothing for any other failure, an update's or a delete's, and never retries", async () => {
        const logged = recordErrors();
        try {
            const hook = onKeyCreationError("alone-key", component, "arguments");
            assert.equal(await hook(args("create", ["googleapi: Error 403: denied, forbidden"])), false);
            assert.equal(await hook(args("delete", [refusalFromTheDouble()])), false);
            assert.equal(await hook(args("update", ["anything"])), false);
            assert.deepEqual(logged.errors, []);
        } finally {
            logged.stop();
        }
    });

    it("a log that fails does not become the step's error: the hook still answers no retry", async () => {
        const error = pulumi.log.error;
        (pulumi.log as any).error = () => Promise.reject(new Error("the engine went away"));
        try {
            const hook = onKeyCreationError("alone-key", component, "arguments");
            assert.equal(await hook(args("create", [refusalFromTheDouble()])), false);
        } finally {
            (pulumi.log as any).error = error;
        }
    });
});

describe("a created key under an engine that runs error hooks", () => {
    it("carries one named error hook and no other child does; a second component of the same name gets its own", async () => {
        assert.equal(engineRunsErrorHooks(), true);
        const withKey = new RegistryPullSecret("hooked", sampleArgs());
        const { children } = await registeredBy(withKey, registrations);
        const key = children.find((c) => c.type === "gcp:serviceaccount/key:Key")!;
        assert.deepEqual(key.errorHooks, ["hooked-key-creation-refused"]);
        assert.ok(children.filter((c) => c !== key).every((c) => c.errorHooks.length === 0));
        assert.deepEqual(
            hookRegistrations.map((h) => h.name),
            ["hooked-key-creation-refused"],
        );
        const sameName = new RegistryPullSecret("hooked", sampleArgs(), { parent: withKey });
        await registeredBy(sameName, registrations);
        assert.deepEqual(
            hookRegistrations.map((h) => h.name),
            ["hooked-key-creation-refused", "hooked-key-creation-refused-2"],
        );
    });

    it("the engine's call of the hook after the refused create logs the fix on the component and answers no retry", async () => {
        const hook = hookRegistrations.find((h) => h.name === "hooked-key-creation-refused")!;
        const request = new resourceMessages.ErrorHookRequest()
            .setUrn(
                "urn:pulumi:test::registry-pull-secret::registry-pull-secret:index:RegistryPullSecret$gcp:serviceaccount/key:Key::hooked-key",
            )
            .setName("hooked-key")
            .setType("gcp:serviceaccount/key:Key")
            .setFailedOperation("create")
            .setErrorsList([refusalFromTheDouble()]);
        const client = new callbackRpc.CallbacksClient(hook.target, grpc.credentials.createInsecure());
        const logged = recordErrors();
        try {
            const response = await new Promise<any>((resolve, reject) =>
                client.invoke(
                    new callbackMessages.CallbackInvokeRequest()
                        .setToken(hook.token)
                        .setRequest(request.serializeBinary()),
                    (error: Error | null, answer: any) => (error ? reject(error) : resolve(answer)),
                ),
            );
            const answer = resourceMessages.ErrorHookResponse.deserializeBinary(response.getResponse_asU8());
            assert.equal(answer.getRetry(), false);
            assert.equal(answer.getError(), "");
            assert.deepEqual(logged.errors, [keyCreationRefusedFix("hooked-key", "arguments")]);
        } finally {
            logged.stop();
            client.close();
        }
    });
});
