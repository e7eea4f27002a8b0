/**
 * The provider's operations on plain values, as the Pulumi engine sees them from a bridged provider
 * such as pulumi-gcp: Check applies defaults and validates; Diff names each changed property and
 * which changes replace; Create (also in preview, with unknown outputs), Read, Update and Delete
 * act on the state file. ./plugin.ts puts this behind the gRPC protocol. Values arrive here with
 * Pulumi's secret wrappers removed and come back wrapped where Pulumi must keep them secret.
 */
import { resourceTypes, type PropertySpec, type Props, type ProviderConfig, type ResourceType } from "./resource-types";
import { GoogleApiError } from "./google-apis";
import { changeGoogleCloud, readGoogleCloud, type GoogleCloud } from "./state";

/** What the engine sends for a value it does not know yet (sdk/go/common/resource/plugin/rpc.go UnknownStringValue). */
export const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** The signature of a secret value in the protocol's Struct (sdk/go/common/resource/sig). */
const secretSig = { key: "4dabf18193072939515e22adb298388d", value: "1b47061264138c4ac30d75fd1eb44270" };

function isSecret(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Props)[secretSig.key] === secretSig.value;
}

/** The plain values, and the top-level properties that held a secret anywhere inside. */
export function unwrapSecrets(props: Props): { values: Props; secrets: Set<string> } {
    const secrets = new Set<string>();
    const strip = (value: unknown, property: string): unknown => {
        if (isSecret(value)) {
            secrets.add(property);
            return strip(value.value, property);
        }
        if (Array.isArray(value)) return value.map((v) => strip(v, property));
        if (value !== null && typeof value === "object") {
            return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strip(v, property)]));
        }
        return value;
    };
    return {
        values: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, strip(v, k)])),
        secrets,
    };
}

export function wrapSecrets(values: Props, secrets: Set<string>): Props {
    return Object.fromEntries(
        Object.entries(values).map(([k, v]) => [
            k,
            secrets.has(k) && v !== undefined ? { [secretSig.key]: secretSig.value, value: v } : v,
        ]),
    );
}

function containsUnknown(value: unknown): boolean {
    if (value === unknownValue) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
    return false;
}

/** The type named by a URN's last type segment (`urn:pulumi:STACK::PROJECT::PARENT$TYPE::NAME`). */
export function typeOfUrn(urn: string): ResourceType {
    const token = urn.split("::")[2]?.split("$").pop() ?? "";
    const type = resourceTypes[token];
    if (!type) throw new Error(`the Google Cloud double does not implement ${token}`);
    return type;
}

const inputsOf = (type: ResourceType) => Object.entries(type.properties).filter(([, spec]) => spec.input);

function typeProblem(spec: PropertySpec, value: unknown): string | undefined {
    const ok = {
        string: () => typeof value === "string",
        boolean: () => typeof value === "boolean",
        stringMap: () =>
            value !== null &&
            typeof value === "object" &&
            !Array.isArray(value) &&
            Object.values(value).every((v) => typeof v === "string"),
        stringList: () => Array.isArray(value) && value.every((v) => typeof v === "string"),
        object: () => value !== null && typeof value === "object" && !Array.isArray(value),
    }[spec.type]();
    return ok ? undefined : `must be a ${spec.type}`;
}

export interface CheckFailure {
    property: string;
    reason: string;
}

/** The checked properties of one object (a resource's inputs, or a nested block). */
function checkProperties(properties: Record<string, PropertySpec>, news: Props, prefix: string) {
    const inputs: Props = {};
    const failures: CheckFailure[] = [];
    for (const name of Object.keys(news)) {
        if (!properties[name]?.input)
            failures.push({ property: prefix + name, reason: "is not an input of this type" });
    }
    for (const [name, spec] of Object.entries(properties).filter(([, s]) => s.input)) {
        const value = news[name];
        const property = prefix + name;
        if (value === undefined || value === null) {
            if (spec.input === "required") failures.push({ property, reason: "is required" });
            else if (spec.default !== undefined) inputs[name] = spec.default;
            continue;
        }
        inputs[name] = value;
        if (containsUnknown(value)) continue;
        const reason = spec.notImplemented
            ? "is not implemented by the Google Cloud double (test/support/google-cloud-double)"
            : (typeProblem(spec, value) ?? spec.problem?.(value));
        if (reason) failures.push({ property, reason });
        else if (spec.properties) {
            const nested = checkProperties(spec.properties, value, `${property}.`);
            inputs[name] = nested.inputs;
            failures.push(...nested.failures);
        }
    }
    return { inputs, failures };
}

export function check(type: ResourceType, news: Props): { inputs: Props; failures: CheckFailure[] } {
    const { inputs, failures } = checkProperties(type.properties, news, "");
    if (failures.length === 0 && !containsUnknown(inputs) && type.checkAll) failures.push(...type.checkAll(inputs));
    return { inputs, failures };
}

/** The engine's PropertyDiff kinds (pulumi/proto/pulumi/provider.proto). */
export enum DiffKind {
    Add = 0,
    AddReplace = 1,
    Delete = 2,
    DeleteReplace = 3,
    Update = 4,
    UpdateReplace = 5,
}

export interface DiffResult {
    changes: boolean;
    replaces: string[];
    /** Changed property paths (`keepers.keyVersion`), as bridged providers report them. */
    detailedDiff: Record<string, DiffKind>;
}

/** Terraform SDKv2 reads an unset primitive as its zero value: "", false, an empty map or list are unset. */
const isEmpty = (value: unknown) =>
    value === undefined ||
    value === null ||
    value === "" ||
    value === false ||
    (typeof value === "object" && Object.keys(value).length === 0);

/** How `old` became `next` for one property, or undefined when they are the same setting. */
function change(spec: PropertySpec, old: unknown, next: unknown): DiffKind | undefined {
    if (isEmpty(next)) return spec.computed || isEmpty(old) ? undefined : DiffKind.Delete;
    if (isEmpty(old)) return DiffKind.Add;
    if (containsUnknown(next)) return DiffKind.Update;
    const same = spec.same ?? ((a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b));
    return same(old, next) ? undefined : DiffKind.Update;
}

const replacing: Partial<Record<DiffKind, DiffKind>> = {
    [DiffKind.Add]: DiffKind.AddReplace,
    [DiffKind.Delete]: DiffKind.DeleteReplace,
    [DiffKind.Update]: DiffKind.UpdateReplace,
};

/** Compares the state (`olds`, outputs) with the checked inputs (`news`). */
export function diff(type: ResourceType, olds: Props, news: Props): DiffResult {
    const detailedDiff: Record<string, DiffKind> = {};
    const replaces: string[] = [];
    for (const [name, spec] of inputsOf(type)) {
        const paths: [string, DiffKind][] = [];
        const old = olds[name];
        const next = news[name];
        if (
            (spec.type === "stringMap" || spec.properties) &&
            !isEmpty(old) &&
            !isEmpty(next) &&
            !containsUnknown(next)
        ) {
            // Element by element, as bridged providers' detailed diffs are (keepers.keyVersion, oidc.jwksJson).
            const elements = spec.properties ?? {};
            for (const key of new Set([...Object.keys(old as Props), ...Object.keys(next as Props)])) {
                const kind = change(elements[key] ?? { type: "string" }, (old as Props)[key], (next as Props)[key]);
                if (kind !== undefined) paths.push([`${name}.${key}`, kind]);
            }
        } else {
            const kind = change(spec, old, next);
            if (kind !== undefined) paths.push([name, kind]);
        }
        for (const [path, kind] of paths) detailedDiff[path] = spec.forceNew ? replacing[kind]! : kind;
        if (paths.length > 0 && spec.forceNew) replaces.push(name);
    }
    return { changes: Object.keys(detailedDiff).length > 0, replaces, detailedDiff };
}

/** Which outputs are secret: the type's Sensitive ones, and any property whose input was secret. */
function secretOutputs(type: ResourceType, inputSecrets: Set<string>): Set<string> {
    const secrets = new Set(inputSecrets);
    for (const [name, spec] of Object.entries(type.properties)) if (spec.secret) secrets.add(name);
    return secrets;
}

/**
 * Wraps what Google answers as the Terraform provider does: with the type's own words where the double
 * has them (`failures`, e.g. "Error creating service account key: googleapi: Error 400: ..."), else
 * "creating X: googleapi: Error 404: ...".
 */
function describeFailure(type: ResourceType, doing: string, error: unknown): Error {
    const resource = type.terraform.split(" ")[0];
    const reason = error instanceof GoogleApiError ? error.describe() : (error as Error).message;
    const wording = error instanceof GoogleApiError ? type.failures?.[doing] : undefined;
    return new Error(wording ? `${wording}: ${reason}` : `${doing} ${resource}: ${reason}`);
}

export class GoogleCloudProvider {
    private config: ProviderConfig = {};

    constructor(private readonly stateFile: string) {}

    configure(args: Props): void {
        this.config = { project: args.project || undefined, region: args.region || undefined };
    }

    check(urn: string, news: Props) {
        const { values, secrets } = unwrapSecrets(news);
        const checked = check(typeOfUrn(urn), values);
        return { inputs: wrapSecrets(checked.inputs, secrets), failures: checked.failures };
    }

    diff(urn: string, olds: Props, news: Props): DiffResult {
        return diff(typeOfUrn(urn), unwrapSecrets(olds).values, unwrapSecrets(news).values);
    }

    create(urn: string, inputs: Props, preview: boolean): { id: string; outputs: Props } {
        const type = typeOfUrn(urn);
        const { values, secrets } = unwrapSecrets(inputs);
        const outputs = preview
            ? { id: "", outputs: withUnknownOutputs(type, values) }
            : this.change(type, "creating", (google) => type.create(google, values, this.config));
        return { id: outputs.id, outputs: wrapSecrets(outputs.outputs, secretOutputs(type, secrets)) };
    }

    /** The resource as it exists now: `id` is "" when it is gone. */
    read(urn: string, id: string, state: Props): { id: string; outputs: Props; inputs: Props } {
        const type = typeOfUrn(urn);
        const { values, secrets } = unwrapSecrets(state);
        let outputs: Props | undefined;
        try {
            outputs = type.read(readGoogleCloud(this.stateFile), id, values);
        } catch (error) {
            throw describeFailure(type, "reading", error);
        }
        if (outputs === undefined) return { id: "", outputs: {}, inputs: {} };
        const inputs = Object.fromEntries(
            inputsOf(type).flatMap(([name]) => (name in outputs ? [[name, outputs[name]]] : [])),
        );
        const secret = secretOutputs(type, secrets);
        return { id, outputs: wrapSecrets(outputs, secret), inputs: wrapSecrets(inputs, secret) };
    }

    update(urn: string, id: string, olds: Props, news: Props, preview: boolean): Props {
        const type = typeOfUrn(urn);
        const old = unwrapSecrets(olds);
        const next = unwrapSecrets(news);
        if (!type.update) throw new Error(`${type.token} has no in-place update: every input replaces it`);
        const outputs = preview
            ? { ...old.values, ...next.values }
            : this.change(type, "updating", (google) => type.update!(google, id, old.values, next.values));
        return wrapSecrets(outputs, secretOutputs(type, new Set([...old.secrets, ...next.secrets])));
    }

    delete(urn: string, id: string, state: Props): void {
        const type = typeOfUrn(urn);
        const { values } = unwrapSecrets(state);
        // DeletionPolicyPreDelete (google-beta/tpgresource/utils.go).
        if (values.deletionPolicy === "PREVENT") {
            throw new Error(`cannot destroy "${id}" without setting deletionPolicy="DELETE" and running pulumi up`);
        }
        if (values.deletionPolicy === "ABANDON") return;
        this.change(type, "deleting", (google) => type.delete(google, id, values));
    }

    private change<T>(type: ResourceType, doing: string, act: (google: GoogleCloud) => T): T {
        try {
            return changeGoogleCloud(this.stateFile, act);
        } catch (error) {
            throw describeFailure(type, doing, error);
        }
    }
}

/** A preview's outputs: the inputs, and every output Google computes (or fills in) unknown. */
function withUnknownOutputs(type: ResourceType, inputs: Props): Props {
    const outputs: Props = { ...inputs };
    for (const [name, spec] of Object.entries(type.properties)) {
        if (outputs[name] === undefined && (!spec.input || spec.computed)) outputs[name] = unknownValue;
    }
    return outputs;
}
