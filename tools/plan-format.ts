/**
 * Pure formatting of a recorded evaluation: the resource tree, the order the engine would follow, the
 * cloud resources' inputs and the Kubernetes objects as YAML. Every secret prints as {@link masked},
 * whatever it holds, and every value only the cloud can know prints as {@link unknown}. Two things are
 * summarised for review: a docker config Secret shows its shape (hosts, usernames) with every
 * credential masked, and program code in a ConfigMap shows its size and sha256 (the `--out` files
 * keep the full text).
 */
import { createHash } from "node:crypto";
import * as YAML from "yaml";
import { isSecretValue, reveal, unknownValue, type Registration } from "./recording-monitor";

/** What a secret value prints as (the Pulumi CLI's own word for it). */
export const masked = "[secret]";
/** What a value computed by the cloud during `pulumi up` prints as. */
export const unknown = "(known after apply)";

/** A wire value made printable: secrets masked, unknowns marked, nothing else changed. */
export function display(value: unknown): unknown {
    if (isSecretValue(value)) return masked;
    if (value === unknownValue) return unknown;
    if (Array.isArray(value)) return value.map(display);
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, display(inner)]));
    }
    return value;
}

/** The resources as a tree by parent, each line `type  name`, children in registration order. */
export function resourceTree(registrations: Registration[]): string[] {
    const urns = new Set(registrations.map((r) => r.urn));
    const lines: string[] = [];
    const walk = (parent: string, indent: string) => {
        const children = registrations.filter((r) => r.parent === parent);
        children.forEach((child, i) => {
            const last = i === children.length - 1;
            lines.push(`${indent}${last ? "└─ " : "├─ "}${child.type}  ${child.name}`);
            walk(child.urn, indent + (last ? "   " : "│  "));
        });
    };
    for (const root of registrations.filter((r) => r.parent === "" || !urns.has(r.parent))) {
        lines.push(`${root.type}  ${root.name}`);
        walk(root.urn, "");
    }
    return lines;
}

export interface Step {
    /** 1 for resources that wait for nothing; otherwise one more than the latest step they wait for. */
    step: number;
    registration: Registration;
    /** The resources it waits for, each as `Kind name` (one resource name may be several kinds'), sorted. */
    after: string[];
}

/** The last part of a type token: `kubernetes:core/v1:Namespace` is a `Namespace`. */
export function kindOf(type: string): string {
    return type.slice(type.lastIndexOf(":") + 1);
}

/**
 * The order the engine follows, from the dependencies it receives: a resource can start when
 * everything it depends on is done, so resources of one step go in parallel. Components only group.
 */
export function dependencyOrder(registrations: Registration[]): Step[] {
    const custom = registrations.filter((r) => r.custom);
    const byUrn = new Map(custom.map((r) => [r.urn, r]));
    const steps = new Map<string, number>();
    const stepOf = (r: Registration, seen: Set<string>): number => {
        const known = steps.get(r.urn);
        if (known !== undefined) return known;
        if (seen.has(r.urn)) throw new Error(`dependency cycle through ${r.name}`);
        seen.add(r.urn);
        const deps = r.dependencies.map((urn) => byUrn.get(urn)).filter((d): d is Registration => d !== undefined);
        const step = 1 + Math.max(0, ...deps.map((d) => stepOf(d, seen)));
        steps.set(r.urn, step);
        return step;
    };
    return custom
        .map((registration) => ({
            step: stepOf(registration, new Set()),
            registration,
            after: [...new Set(registration.dependencies)]
                .filter((urn) => byUrn.has(urn))
                .map((urn) => `${kindOf(byUrn.get(urn)!.type)} ${byUrn.get(urn)!.name}`)
                .sort(),
        }))
        .sort((a, b) => a.step - b.step);
}

export interface KubernetesObject {
    /** `<namespace>_<kind>_<name>.yaml`, `.patch.yaml` for a server-side-apply patch. */
    fileName: string;
    /** A YAML document, headed by a comment naming the Pulumi resource. */
    yaml: string;
}

/** The fields of a docker config entry that name, not authenticate: shown; every other field is masked. */
const dockerConfigNames = new Set(["username", "email"]);

/**
 * The shape of a `kubernetes.io/dockerconfigjson` Secret's `data` (a secret): the decoded document with
 * the registry hosts, usernames and emails as they are and every other field (`password`, `auth`,
 * tokens) {@link masked}. `undefined` when the data is not known or not a docker config.
 */
export function dockerConfigShape(data: unknown): unknown {
    const encoded = reveal(reveal<Record<string, unknown> | undefined>(data)?.[".dockerconfigjson"]);
    if (typeof encoded !== "string" || encoded === unknownValue) return undefined;
    let document: { auths?: Record<string, Record<string, unknown>> };
    try {
        document = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as typeof document;
    } catch {
        return undefined;
    }
    if (typeof document?.auths !== "object" || document.auths === null) return undefined;
    const shown = (entry: Record<string, unknown> | null): Record<string, string> =>
        Object.fromEntries(
            Object.entries(entry ?? {}).map(([field, value]) => [
                field,
                dockerConfigNames.has(field) && typeof value === "string" ? value : masked,
            ]),
        );
    const auths = Object.entries(document.auths).map(([host, entry]) => [host, shown(entry)] as const);
    return { ".dockerconfigjson": { auths: Object.fromEntries(auths) } };
}

/** Program code a ConfigMap carries (`*.js`): its size and digest, so the plan stays readable. */
export function codeSummary(text: string): string {
    const sha256 = createHash("sha256").update(text, "utf8").digest("hex");
    return `(code: ${Buffer.byteLength(text, "utf8")} bytes, sha256 ${sha256}; --out DIR writes the full text)`;
}

export interface ObjectOptions {
    /** Write program code in ConfigMaps in full (for `--out` files) rather than as {@link codeSummary}. */
    fullCode?: boolean;
}

/** Every Kubernetes object the stack declares, as the YAML the provider would send (masked). */
export function kubernetesObjects(registrations: Registration[], options: ObjectOptions = {}): KubernetesObject[] {
    const used = new Set<string>();
    return registrations
        .filter((r) => r.custom && r.type.startsWith("kubernetes:"))
        .map((r) => {
            const patch = r.type.endsWith("Patch");
            const { apiVersion, kind, metadata, ...rest } = display(r.inputs) as {
                apiVersion?: unknown;
                kind?: unknown;
                metadata?: { name?: string; namespace?: string };
                data?: unknown;
            };
            const shape = kind === "Secret" ? dockerConfigShape(r.inputs.data) : undefined;
            if (shape !== undefined) rest.data = shape;
            if (kind === "ConfigMap" && !options.fullCode && typeof rest.data === "object" && rest.data !== null) {
                rest.data = Object.fromEntries(
                    Object.entries(rest.data).map(([file, text]) => [
                        file,
                        /\.[cm]?js$/.test(file) && typeof text === "string" ? codeSummary(text) : text,
                    ]),
                );
            }
            const object = { apiVersion, kind, metadata, ...rest };
            const base = [metadata?.namespace, String(kind).toLowerCase(), metadata?.name]
                .filter((p) => p !== undefined)
                .join("_");
            let fileName = `${base}${patch ? ".patch" : ""}.yaml`;
            for (let n = 2; used.has(fileName); n++) fileName = `${base}-${n}${patch ? ".patch" : ""}.yaml`;
            used.add(fileName);
            const header = [
                `# ${r.type} ${r.name}`,
                ...(patch
                    ? ["# A server-side apply patch: only these fields are applied to the existing object."]
                    : []),
                ...(shape !== undefined
                    ? [`# data shown decoded, for review: hosts and usernames as they are, every credential ${masked}.`]
                    : []),
            ];
            return { fileName, yaml: `${header.join("\n")}\n${YAML.stringify(object, { lineWidth: 0 })}` };
        });
}

/** A `PullSecretEntry` (attachMode "merge"): one name in one ServiceAccount's `imagePullSecrets`. */
function isPullSecretEntry(r: Registration): boolean {
    return r.type.endsWith(":PullSecretEntry");
}

/**
 * The `imagePullSecrets` entries the stack owns, one line each (`namespace/account  + name`). Each is
 * added with a guarded JSON patch that leaves other entries as they are; the serialized provider
 * code a dynamic resource carries in its inputs is not shown.
 */
export function pullSecretEntries(registrations: Registration[]): string[] {
    return registrations.filter(isPullSecretEntry).map((r) => {
        const { namespace, serviceAccount, secretName } = display(r.inputs) as Record<string, unknown>;
        return `${String(namespace)}/${String(serviceAccount)}  + ${String(secretName)}`;
    });
}

/** A `RefreshedSecret` (gcp.credential "accessToken"): a Secret whose data only the token refresher writes. */
function isRefreshedSecret(r: Registration): boolean {
    return r.type.endsWith(":RefreshedSecret");
}

/**
 * The Secrets the token refresher fills, one line each (`namespace/name  written by NS/DEPLOYMENT`).
 * Pulumi creates each holding an empty docker config and never writes its data.
 */
export function refreshedSecrets(registrations: Registration[]): string[] {
    return registrations.filter(isRefreshedSecret).map((r) => {
        const { namespace, secretName, writer } = display(r.inputs) as Record<string, unknown>;
        return `${String(namespace)}/${String(secretName)}  written by ${String(writer)}`;
    });
}

/** A `SecretClaim`: what is under the Secret's name in each namespace, read from the cluster by preview and up. */
function isSecretClaim(r: Registration): boolean {
    return r.type.endsWith(":SecretClaim");
}

/**
 * The Secret names the stack claims, one line each (`namespace/name  takeOver`): whether a Secret of
 * that name exists, and whose it is, only the cluster can say (components/claim/secret-claim-plan.ts).
 */
export function secretClaims(registrations: Registration[]): string[] {
    return registrations.filter(isSecretClaim).flatMap((r) => {
        const { namespaces, secretName, takeOver } = display(r.inputs) as Record<string, unknown>;
        return (namespaces as string[]).map(
            (namespace) =>
                `${namespace}/${String(secretName)}  ${takeOver === true ? "takes over the kubectl recipe's Secret and entries, if there" : "must be free or already this stack's"}`,
        );
    });
}

/** A `KeyHandover`: the replaced key's grace after a rotation (components/credential/key-handover.ts). */
function isKeyHandover(r: Registration): boolean {
    return r.type.endsWith(":KeyHandover");
}

/** One line per key handover: how long a replaced key outlives the switch of every Secret. */
export function keyHandovers(registrations: Registration[]): string[] {
    return registrations.filter(isKeyHandover).map((r) => {
        const { graceSeconds } = display(r.inputs) as Record<string, unknown>;
        return `${r.name}  when the key is replaced, the old key is deleted ${String(graceSeconds)} s after every Secret holds the new one`;
    });
}

/** A `PullReadiness`: the gate the Secrets wait for (components/credential/pull-readiness.ts). */
function isPullReadiness(r: Registration): boolean {
    return r.type.endsWith(":PullReadiness");
}

/** What a gate asks, `host: pull on l/r, ...` per host, `; `-joined (or the value as shown, when unknown). */
function describeProbes(probes: { host: string; repositories: { name: string }[] }[] | string): string {
    if (!Array.isArray(probes)) return String(probes);
    return probes
        .map(({ host, repositories }) =>
            repositories.length === 0
                ? `${host}: sign-in`
                : `${host}: pull on ${repositories.map((repository) => repository.name).join(", ")}`,
        )
        .join("; ");
}

/**
 * The refresher's own gate (`gcp.credential: "accessToken"`): the `probes` of the `config.json` its
 * ConfigMap ships (components/refresher/token-refresher-deployment.ts), when known.
 */
function refresherGates(registrations: Registration[]): string[] {
    return registrations.flatMap((r) => {
        const config = (r.inputs.data as Record<string, unknown> | undefined)?.["config.json"];
        if (!r.type.endsWith(":ConfigMap") || typeof config !== "string") return [];
        const { probes } = JSON.parse(config) as { probes?: { host: string; repositories: { name: string }[] }[] };
        if (probes === undefined || probes.length === 0) return [];
        return [
            `${r.name}  the refresher, in the cluster, before it writes its first token: ${describeProbes(probes)}`,
        ];
    });
}

/**
 * One line per readiness gate: what `pulumi up` (or the refresher in the cluster) will ask each host
 * (sign-in, pull on which repositories) before the Secrets take a new credential, and for how long. A
 * plan, like a preview, only shows it: nothing is asked.
 */
export function readinessGates(registrations: Registration[]): string[] {
    const gates = registrations.filter(isPullReadiness).map((r) => {
        const { probes, timeoutSeconds } = display(r.inputs) as {
            probes: { host: string; repositories: { name: string }[] }[] | string;
            timeoutSeconds: number;
        };
        return `${r.name}  up to ${String(timeoutSeconds)} s: ${describeProbes(probes)}`;
    });
    return [...gates, ...refresherGates(registrations)];
}

/**
 * The inputs of every other resource the stack declares (Google Cloud's), as YAML documents: what
 * the provider is asked to create, with what it computes still unknown.
 */
export function cloudResourceInputs(registrations: Registration[]): string[] {
    return registrations
        .filter(
            (r) =>
                r.custom &&
                !r.type.startsWith("kubernetes:") &&
                !r.type.startsWith("pulumi:providers:") &&
                !isPullSecretEntry(r) &&
                !isRefreshedSecret(r) &&
                !isSecretClaim(r) &&
                !isKeyHandover(r) &&
                !isPullReadiness(r),
        )
        .map((r) => `# ${r.type} ${r.name}\n${YAML.stringify(display(r.inputs))}`);
}

export interface PlanInput {
    project: string;
    stack: string;
    registrations: Registration[];
    outputs: Record<string, unknown>;
    /** `pulumi.log.warn` messages of the program. Default: none. */
    warnings?: string[];
}

/** `1 step`, `2 steps`. */
function counted(count: number, noun: string): string {
    return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** The whole plan as text. */
export function formatPlan({ project, stack, registrations, outputs, warnings = [] }: PlanInput): string {
    const steps = dependencyOrder(registrations);
    const objects = kubernetesObjects(registrations);
    const cloud = cloudResourceInputs(registrations);
    const entries = pullSecretEntries(registrations);
    const refreshed = refreshedSecrets(registrations);
    const claims = secretClaims(registrations);
    const handovers = keyHandovers(registrations);
    const gates = readinessGates(registrations);
    const width = String(Math.max(0, ...steps.map((s) => s.step))).length;
    return [
        `Plan for stack '${stack}' of project '${project}': what \`pulumi up\` would declare.`,
        `Nothing was deployed: the program ran offline under Pulumi's mock engine in preview mode.`,
        `${masked} marks a secret; ${unknown} marks a value only the cloud can know.`,
        "",
        ...(warnings.length ? [`Warnings (${warnings.length}):`, ...warnings.map((w) => `  ${w}`), ""] : []),
        `Resources (${registrations.length}):`,
        ...resourceTree(registrations).map((line) => `  ${line}`),
        "",
        `Dependency order (${counted(steps.length, "resource")} in ${counted(new Set(steps.map((s) => s.step)).size, "step")}; one step's resources go in parallel):`,
        ...steps.map(
            ({ step, registration, after }) =>
                `  ${String(step).padStart(width)}. ${registration.type}  ${registration.name}${after.length ? `  (after ${after.join(", ")})` : ""}`,
        ),
        "",
        `Cloud resources' inputs (${cloud.length}):`,
        ...cloud.map((document) => `---\n${document}`.trimEnd()),
        "",
        `Kubernetes objects (${objects.length}):`,
        ...objects.map((o) => `---\n${o.yaml}`.trimEnd()),
        "",
        `imagePullSecrets entries (${entries.length}; each added alone by a guarded JSON patch, other entries kept):`,
        ...entries.map((line) => `  ${line}`),
        "",
        ...(claims.length
            ? [
                  `Secret names claimed (${claims.length}; preview and up read each namespace: a Secret of that name must be free, this stack's, or with takeOver the kubectl recipe's):`,
                  ...claims.map((line) => `  ${line}`),
                  "",
              ]
            : []),
        ...(gates.length
            ? [
                  `Readiness gate (${gates.length}; before the Secrets take a new key, password or token, it is proved to sign in and pull as a kubelet will, and pulumi up waits; a preview or a plan asks nothing):`,
                  ...gates.map((line) => `  ${line}`),
                  "",
              ]
            : []),
        ...(handovers.length
            ? [
                  `Key handover (${handovers.length}; a rotation waits this long before the engine deletes the old key, so no kubelet pulls with a deleted key):`,
                  ...handovers.map((line) => `  ${line}`),
                  "",
              ]
            : []),
        ...(refreshed.length
            ? [
                  `Secrets the token refresher writes (${refreshed.length}; Pulumi creates each with an empty docker config and never writes its data):`,
                  ...refreshed.map((line) => `  ${line}`),
                  "",
              ]
            : []),
        "Outputs:",
        ...Object.entries(outputs).map(([name, value]) => {
            const shown = display(value);
            // Bare words read better; an empty string would read as nothing.
            return `  ${name}: ${typeof shown === "string" && shown !== "" ? shown : JSON.stringify(shown)}`;
        }),
        "",
    ].join("\n");
}
