/**
 * The Pulumi package schema the double answers `GetSchema` with: package `gcp`, and for each type it
 * implements the properties it implements (./resource-types.ts), named, typed and marked required or
 * secret as there. Not pulumi-gcp's schema (thousands of types): only what the double serves.
 */
import { resourceTypes, type PropertySpec } from "./resource-types";

type SchemaProperty = Record<string, unknown>;

function property(owner: string, name: string, spec: PropertySpec, types: Record<string, unknown>): SchemaProperty {
    const described = { ...(spec.secret ? { secret: true } : {}) };
    switch (spec.type) {
        case "string":
        case "boolean":
            return { type: spec.type, ...described };
        case "stringMap":
            return { type: "object", additionalProperties: { type: "string" }, ...described };
        case "stringList":
            return { type: "array", items: { type: "string" }, ...described };
        case "object": {
            // pulumi-gcp names nested types MODULE/TypeProperty: gcp:iam/WorkloadIdentityPoolProviderOidc:...
            const [pkg, module, member] = owner.split(":");
            const typeName = `${member}${name[0].toUpperCase()}${name.slice(1)}`;
            const token = `${pkg}:${module.split("/")[0]}/${typeName}:${typeName}`;
            types[token] = objectType(token, spec.properties ?? {}, types);
            return { $ref: `#/types/${token}`, ...described };
        }
    }
}

function objectType(owner: string, properties: Record<string, PropertySpec>, types: Record<string, unknown>) {
    const implemented = Object.entries(properties).filter(([, spec]) => !spec.notImplemented);
    return {
        type: "object",
        properties: Object.fromEntries(implemented.map(([n, s]) => [n, property(owner, n, s, types)])),
        required: implemented.filter(([, s]) => s.input === "required").map(([n]) => n),
    };
}

export function packageSchema(version: string): string {
    const types: Record<string, unknown> = {};
    const resources = Object.fromEntries(
        Object.values(resourceTypes).map((type) => {
            const all = Object.entries(type.properties).filter(([, spec]) => !spec.notImplemented);
            const inputs = all.filter(([, spec]) => spec.input);
            const schemaOf = ([name, spec]: [string, PropertySpec]) => [name, property(type.token, name, spec, types)];
            return [
                type.token,
                {
                    description: `The Google Cloud double's ${type.terraform}.`,
                    properties: Object.fromEntries(all.map(schemaOf)),
                    // Outputs Google always fills: the required inputs and whatever it computes.
                    required: all.filter(([, s]) => s.input !== "optional" || s.computed).map(([n]) => n),
                    inputProperties: Object.fromEntries(inputs.map(schemaOf)),
                    requiredInputs: inputs.filter(([, s]) => s.input === "required").map(([n]) => n),
                },
            ];
        }),
    );
    return JSON.stringify({ name: "gcp", version, resources, types });
}
