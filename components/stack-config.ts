import * as pulumi from "@pulumi/pulumi";
import type {
    ArtifactRegistryRepository,
    AttachMode,
    CredentialKind,
    ReadinessArgs,
    RegistryPullSecretArgs,
    WorkloadIdentityFederationArgs,
} from "./args";
import { mirrorEntry } from "./rules/readiness";
import { invalid } from "./validate";

/**
 * The sample stack's config (declared with types and defaults in Pulumi.yaml) as component args.
 * Optional strings default to "" (numbers to 0) in Pulumi.yaml because a declared key without a
 * default is required; "" and 0 mean unset here. `gcpProject` selects Google Cloud, `registryUsername`
 * plain credentials: set one of them.
 */
export function argsFromConfig(config: pulumi.Config): RegistryPullSecretArgs {
    const optional = (key: string) => config.get(key) || undefined;
    // Key material is read as a secret whether or not it was stored with --secret.
    const optionalSecret = (key: string) => (config.get(key) ? config.requireSecret(key) : undefined);
    const optionalNumber = (key: string) => config.getNumber(key) || undefined;
    // Config is text: the component checks these choices and its error names the key.
    const choice = <T extends string>(key: string) => optional(key) as T | undefined;
    const project = optional("gcpProject");
    const username = optional("registryUsername");
    return {
        namespaces: config.getObject<string[]>("namespaces"),
        registries: config.getObject<string[]>("registries"),
        secretName: optional("secretName"),
        serviceAccounts: config.getObject<string[]>("serviceAccounts"),
        attachMode: choice<AttachMode>("attachMode"),
        email: optional("email"),
        takeOver: config.getBoolean("takeOver") || undefined,
        gcp:
            project === undefined
                ? undefined
                : {
                      project,
                      serviceAccountId: optional("serviceAccountId"),
                      serviceAccountEmail: optional("serviceAccountEmail"),
                      repositories: (config.getObject<string[]>("repositories") ?? []).map((path, i) =>
                          repositoryFromPath(`${config.name}:repositories[${i}]`, path),
                      ),
                      keyRotationDays: optionalNumber("keyRotationDays"),
                      keyVersion: optionalNumber("keyVersion"),
                      existingKey: optionalSecret("existingKey"),
                      credential: choice<CredentialKind>("credential"),
                      projectNumber: optional("projectNumber"),
                      federation: optional("federationPoolId") === undefined ? undefined : federationFromConfig(config),
                      refresher:
                          optional("refresherNamespace") === undefined && optional("refresherImage") === undefined
                              ? undefined
                              : { namespace: optional("refresherNamespace"), image: optional("refresherImage") },
                  },
        credentials: username === undefined ? undefined : { username, password: registryPassword(config) },
        readiness: readinessFromConfig(config),
    };
}

/**
 * The `readiness*` keys; left at their defaults (wait, 0 s meaning the default deadline, no mirrors)
 * they give no `readiness` at all, which the keyless credentials require.
 */
function readinessFromConfig(config: pulumi.Config): ReadinessArgs | undefined {
    const wait = config.getBoolean("readinessWait");
    const timeoutSeconds = config.getNumber("readinessTimeoutSeconds") || undefined;
    const mirrors = config.getObject<string[]>("readinessMirrors") ?? [];
    if (wait !== false && timeoutSeconds === undefined && mirrors.length === 0) return undefined;
    // All three as set: the component refuses a deadline or mirrors with wait false, naming them.
    const mirrorOf = Object.fromEntries(
        mirrors.map((text, i) => {
            const entry = mirrorEntry(text);
            if ("problem" in entry) throw invalid(`${config.name}:readinessMirrors[${i}]`, entry.problem);
            return entry;
        }),
    );
    return { wait: wait ?? true, timeoutSeconds, mirrorOf: mirrors.length ? mirrorOf : undefined };
}

/** `registryPassword`, which `registryUsername` needs, read as a secret; missing, the error says the command. */
function registryPassword(config: pulumi.Config): pulumi.Output<string> {
    if (!config.get("registryPassword")) {
        throw invalid(
            `${config.name}:registryPassword`,
            "is required with registryUsername: run pulumi config set --secret registryPassword, which asks for it (or pipe it in) so it is stored encrypted",
        );
    }
    return config.requireSecret("registryPassword");
}

/** The `federation*` keys; `federationPoolId` selects federation (else GKE Workload Identity). */
function federationFromConfig(config: pulumi.Config): WorkloadIdentityFederationArgs {
    const optional = (key: string) => config.get(key) || undefined;
    return {
        poolId: config.require("federationPoolId"),
        providerId: optional("federationProviderId") as string,
        issuerUri: optional("federationIssuerUri"),
        jwksJson: optional("federationJwksJson"),
        existing: config.getBoolean("federationExisting") || undefined,
    };
}

/** `LOCATION/REPOSITORY`, the form config arrays of strings can hold. */
export function repositoryFromPath(configKey: string, path: string): ArtifactRegistryRepository {
    const parts = typeof path === "string" ? path.split("/") : [];
    if (parts.length !== 2 || parts.some((part) => part === "")) {
        throw invalid(configKey, "must be LOCATION/REPOSITORY, e.g. asia/asia.gcr.io or asia-northeast1/images");
    }
    return { location: parts[0], repository: parts[1] };
}
