import * as pulumi from "@pulumi/pulumi";
import { Account, Key } from "@pulumi/gcp/serviceaccount";
import type { GoogleCloudCredentialArgs, RegistryCredentialsArgs } from "../args";
import { checkRepositories, grantReader, type GoogleCloudProject } from "./grants";
import {
    checkAccessToken,
    checkCredentialKind,
    checkGkeNode,
    checkNoKeylessArgs,
    type AccessTokenSource,
} from "../keyless/keyless-credential";
import { childNames } from "../names";
import { keyKeepers, keyRotatesAfter, keyRotationDaysProblem, keyVersionProblem, type KeySchedule } from "./rotation";
import {
    emailProblem,
    projectIdProblem,
    registryPasswordProblem,
    registryUsernameProblem,
    serviceAccountIdProblem,
} from "../rules/rules";
import { readServiceAccountKey, serviceAccountKeyName, type ServiceAccountKey } from "./service-account-key";
import { checkInput, checkNumberInput, invalid, whenKnown } from "../validate";

export { readerRole } from "./grants";

/**
 * Artifact Registry accepts `_json_key_base64` with the key file in base64, and the provider's
 * `privateKey` is exactly that: it goes in as it is, so nothing decodes or re-encodes key material.
 */
export const keyUsername = "_json_key_base64";

/** What the Secret and the component's outputs need from wherever the credential comes from. */
export interface RegistryCredential {
    username: pulumi.Output<string>;
    /** Always a secret. */
    password: pulumi.Output<string>;
    /** The service account the key belongs to; `""` for `credentials`. */
    serviceAccountEmail: pulumi.Output<string>;
    /** The key's resource name (not its material); `""` for `credentials`. */
    keyName: pulumi.Output<string>;
    /** RFC 3339 time of the next scheduled key rotation; `""` when nothing rotates on a schedule. */
    keyRotatesAfter: pulumi.Output<string>;
}

/** The credential source after validation: exactly one of five ways. */
export type CredentialSource =
    | {
          mode: "createKey";
          gcp: GoogleCloudProject & {
              serviceAccountId?: pulumi.Input<string>;
              keyRotationDays?: pulumi.Input<number>;
              keyVersion?: pulumi.Input<number>;
          };
      }
    | { mode: "existingKey"; gcp: GoogleCloudProject & { existingKey: pulumi.Output<ServiceAccountKey> } }
    | { mode: "credentials"; username: pulumi.Input<string>; password: pulumi.Output<string> }
    | { mode: "gkeNode"; gcp: GoogleCloudProject & { serviceAccountEmail: pulumi.Input<string> } }
    | { mode: "accessToken"; gcp: AccessTokenSource };

/** The sources whose credential Pulumi itself holds and writes into the Secrets. */
export type StaticCredentialSource = Extract<CredentialSource, { mode: "createKey" | "existingKey" | "credentials" }>;

/**
 * Declares the credential's part of the graph as children of `parent` (so their URNs stay what they
 * were before this module existed): service account -> repository grants -> key, an existing key
 * behind the grants, or nothing for plain credentials.
 */
export function declareCredential(
    name: string,
    source: StaticCredentialSource,
    opts: { parent: pulumi.Resource; now: Date },
): RegistryCredential {
    switch (source.mode) {
        case "createKey":
            return createKey(name, source.gcp, opts);
        case "existingKey":
            return existingKey(name, source.gcp, opts.parent);
        case "credentials":
            return {
                username: pulumi.output(source.username),
                password: source.password,
                serviceAccountEmail: pulumi.output(""),
                keyName: pulumi.output(""),
                keyRotatesAfter: pulumi.output(""),
            };
    }
}

function createKey(
    name: string,
    gcp: Extract<CredentialSource, { mode: "createKey" }>["gcp"],
    { parent, now }: { parent: pulumi.Resource; now: Date },
): RegistryCredential {
    const account =
        gcp.serviceAccountId === undefined
            ? undefined
            : new Account(
                  childNames.serviceAccount(name),
                  {
                      project: gcp.project,
                      accountId: gcp.serviceAccountId,
                      displayName: "Image pulls",
                      description: `Pulls images for the Kubernetes Secret of Pulumi component ${name}.`,
                  },
                  { parent },
              );
    const serviceAccountEmail = account
        ? account.email
        : pulumi.output(gcp.serviceAccountEmail as pulumi.Input<string>);
    const member = account ? account.member : pulumi.interpolate`serviceAccount:${serviceAccountEmail}`;
    const grants = grantReader(name, gcp, member, parent);

    const schedule: pulumi.Output<KeySchedule> = pulumi
        .all([gcp.keyRotationDays, gcp.keyVersion])
        .apply(([rotationDays, keyVersion]) => ({ now, rotationDays, keyVersion }));
    // Changed keepers replace the key; Pulumi creates the new key, updates the Secrets that read its
    // privateKey in place, and deletes the old key last (create-before-replace, the default: no
    // deleteBeforeReplace here), so pulls never lack a valid key and at most two keys of ours exist.
    // The key waits for the grants so that no Secret ever holds a credential that cannot pull yet.
    const key = new Key(
        childNames.key(name),
        { serviceAccountId: account ? account.name : serviceAccountEmail, keepers: schedule.apply(keyKeepers) },
        { parent, dependsOn: grants },
    );
    return {
        username: pulumi.output(keyUsername),
        password: pulumi.secret(key.privateKey),
        serviceAccountEmail,
        keyName: key.name,
        keyRotatesAfter: schedule.apply(keyRotatesAfter),
    };
}

function existingKey(
    name: string,
    gcp: Extract<CredentialSource, { mode: "existingKey" }>["gcp"],
    parent: pulumi.Resource,
): RegistryCredential {
    const key = gcp.existingKey;
    // The account's email and the key's id are names, not material: they leave the secret so that
    // grants, previews and the outputs can show them.
    const identity = pulumi.unsecret(key.apply((read) => read.identity));
    const serviceAccountEmail = pulumi.all([identity, gcp.serviceAccountEmail]).apply(([{ clientEmail }, email]) => {
        if (email !== undefined && email !== clientEmail) {
            throw invalid(
                "gcp.serviceAccountEmail",
                "must be the service account of gcp.existingKey (its client_email), or be left out",
            );
        }
        return clientEmail;
    });
    const grants = grantReader(name, gcp, pulumi.interpolate`serviceAccount:${serviceAccountEmail}`, parent);
    return {
        username: pulumi.output(keyUsername),
        // Reading the checked email and the grants' ids makes every Secret wait for them (and fail
        // with a key that belongs to another account), as Secrets wait for a created key.
        password: pulumi.secret(
            pulumi.all([key, serviceAccountEmail, grants.map((grant) => grant.id)]).apply(([read]) => read.base64),
        ),
        serviceAccountEmail,
        keyName: identity.apply(serviceAccountKeyName),
        keyRotatesAfter: pulumi.output(""),
    };
}

/**
 * Throws `InputPropertyError` unless exactly one of `gcp` and `credentials` is given and valid.
 * `component` is the component's name (it names the token refresher's default namespace).
 */
export function checkCredentialSource(
    args: { gcp?: GoogleCloudCredentialArgs; credentials?: RegistryCredentialsArgs },
    component: string,
): CredentialSource {
    const hasGcp = args.gcp !== undefined && args.gcp !== null;
    const hasCredentials = args.credentials !== undefined && args.credentials !== null;
    if (!hasGcp && !hasCredentials) {
        throw invalid(
            "gcp",
            "or credentials: exactly one is required; neither is set (gcp for a Google Cloud credential: a service-account key, the GKE node pool's account or short-lived tokens; credentials for a username and password of any registry)",
        );
    }
    if (hasGcp && hasCredentials) {
        throw invalid("credentials", "or gcp: exactly one is required; both are set");
    }
    return hasGcp ? checkGoogleCloud(args.gcp!, component) : checkCredentials(args.credentials!);
}

function checkCredentials(credentials: RegistryCredentialsArgs): CredentialSource {
    if (typeof credentials !== "object") throw invalid("credentials", "must be an object with username and password");
    if (credentials.username === undefined) throw invalid("credentials.username", "is required; it is not set");
    if (credentials.password === undefined) throw invalid("credentials.password", "is required; it is not set");
    return {
        mode: "credentials",
        username: checkInput("credentials.username", credentials.username, registryUsernameProblem),
        password: pulumi.secret(checkInput("credentials.password", credentials.password, registryPasswordProblem)),
    };
}

function checkGoogleCloud(gcp: GoogleCloudCredentialArgs, component: string): CredentialSource {
    if (typeof gcp !== "object") {
        throw invalid("gcp", "must be an object: project, and how the credential is made (see gcp.credential)");
    }
    if (gcp.project === undefined) {
        throw invalid("gcp.project", "is required: the project that holds the repositories; it is not set");
    }
    const kind = checkCredentialKind(gcp.credential);
    if (kind === "gkeNode") return { mode: "gkeNode", gcp: checkGkeNode(gcp) };
    if (kind === "accessToken") return { mode: "accessToken", gcp: checkAccessToken(gcp, component) };
    checkNoKeylessArgs(gcp);
    if (gcp.existingKey !== undefined) {
        const createOnly = (["serviceAccountId", "keyRotationDays", "keyVersion"] as const).find(
            (field) => gcp[field] !== undefined,
        );
        if (createOnly !== undefined) {
            throw invalid(
                `gcp.${createOnly}`,
                "cannot be given with gcp.existingKey: that key already exists and belongs to its own service account; the component creates no account and no key, and whoever issued the key rotates it",
            );
        }
        return {
            mode: "existingKey",
            gcp: {
                repositories: checkRepositories(gcp.repositories ?? []),
                project: checkInput("gcp.project", gcp.project, projectIdProblem),
                serviceAccountEmail:
                    gcp.serviceAccountEmail === undefined
                        ? undefined
                        : checkInput("gcp.serviceAccountEmail", gcp.serviceAccountEmail, emailProblem),
                // Read once: checked before anything registers when known, and the parsed key is what
                // the grants, the outputs and the Secrets use.
                existingKey: pulumi.secret(
                    pulumi.output(
                        whenKnown(gcp.existingKey, (text) => {
                            const read = readServiceAccountKey(text);
                            if ("problem" in read) throw invalid("gcp.existingKey", read.problem);
                            return read;
                        }),
                    ),
                ),
            },
        };
    }
    const creates = gcp.serviceAccountId !== undefined;
    if (creates === (gcp.serviceAccountEmail !== undefined)) {
        throw invalid(
            "gcp.serviceAccountId",
            `or gcp.serviceAccountEmail: exactly one is required; ${creates ? "both are" : "neither is"} set (an id creates a service account, an email uses an existing one; or give gcp.existingKey, or pick a keyless gcp.credential)`,
        );
    }
    const repositories = checkRepositories(gcp.repositories ?? []);
    if (creates && repositories.length === 0) {
        throw invalid(
            "gcp.repositories",
            "must name at least one repository when gcp.serviceAccountId creates the account: a new account can read nothing else",
        );
    }
    return {
        mode: "createKey",
        gcp: {
            project: checkInput("gcp.project", gcp.project, projectIdProblem),
            repositories,
            serviceAccountId: creates
                ? checkInput("gcp.serviceAccountId", gcp.serviceAccountId!, serviceAccountIdProblem)
                : undefined,
            serviceAccountEmail: creates
                ? undefined
                : checkInput("gcp.serviceAccountEmail", gcp.serviceAccountEmail!, emailProblem),
            keyRotationDays:
                gcp.keyRotationDays === undefined
                    ? undefined
                    : checkNumberInput("gcp.keyRotationDays", gcp.keyRotationDays, keyRotationDaysProblem),
            keyVersion:
                gcp.keyVersion === undefined
                    ? undefined
                    : checkNumberInput("gcp.keyVersion", gcp.keyVersion, keyVersionProblem),
        },
    };
}
