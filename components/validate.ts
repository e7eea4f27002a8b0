import * as pulumi from "@pulumi/pulumi";

/** A rule from `rules.ts`: the reason a value breaks it, or `undefined`. */
export type Rule = (value: string) => string | undefined;

/**
 * The error the component throws: Pulumi prints the property path, and the message names it too so
 * the reason reads on its own. Reasons never quote the value, which may be secret.
 */
export function invalid(propertyPath: string, problem: string): pulumi.InputPropertyError {
    return new pulumi.InputPropertyError({ propertyPath, reason: `${propertyPath} ${problem}` });
}

/** Throws when a plain value breaks its rule. */
export function check(propertyPath: string, value: string, rule: Rule): string {
    if (value === undefined) throw invalid(propertyPath, "is required; it is not set");
    if (typeof value !== "string") throw invalid(propertyPath, "must be a string");
    const problem = rule(value);
    if (problem !== undefined) throw invalid(propertyPath, problem);
    return value;
}

/**
 * Runs `checkKnown` on a value that may be known now (then before anything registers) or only later
 * (then in `apply`, with the same message, failing the resources that consume it).
 */
export function whenKnown<T, R>(value: pulumi.Input<T>, checkKnown: (known: T) => R): pulumi.Input<R> {
    return pulumi.Output.isInstance(value) || value instanceof Promise
        ? pulumi.output(value).apply((known) => checkKnown(known as T))
        : checkKnown(value);
}

/** Checks a string that may be known now or only later against its rule. */
export function checkInput(propertyPath: string, value: pulumi.Input<string>, rule: Rule): pulumi.Input<string> {
    return whenKnown(value, (known) => check(propertyPath, known, rule));
}

/**
 * Structure-shaping lists (one child per element, named after it) must be plain when the program
 * runs, so the preview shows every child and their names are stable.
 */
export function checkPlainList(propertyPath: string, value: unknown): string[] {
    if (!Array.isArray(value) || !value.every((element) => typeof element === "string")) {
        throw invalid(
            propertyPath,
            "must be a plain list of strings known when the program runs: one child resource is declared and named per element",
        );
    }
    return value;
}

/** Checks a number that may be known now or only later against its rule. */
export function checkNumberInput(
    propertyPath: string,
    value: pulumi.Input<number>,
    rule: (value: number) => string | undefined,
): pulumi.Input<number> {
    return whenKnown(value, (known) => {
        const problem = rule(known);
        if (problem !== undefined) throw invalid(propertyPath, problem);
        return known;
    });
}

/**
 * A plain string that picks which resources are declared, so it must be known when the program runs:
 * one of `choices`, or `fallback` when left out.
 */
export function checkChoice<T extends string>(
    propertyPath: string,
    value: unknown,
    choices: readonly T[],
    fallback: T,
): T {
    if (value === undefined) return fallback;
    if (!(choices as readonly unknown[]).includes(value)) {
        throw invalid(
            propertyPath,
            `must be one of ${choices.map((c) => `"${c}"`).join(", ")}, as a plain string known when the program runs`,
        );
    }
    return value as T;
}
