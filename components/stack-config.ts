import * as pulumi from "@pulumi/pulumi";
import type { ArtifactRegistryRepository, RegistryPullSecretArgs } from "./registry-pull-secret";
import { invalid } from "./validate";

/**
 * The sample stack's config (declared with types and defaults in Pulumi.yaml) as component args.
 * Optional strings default to "" in Pulumi.yaml because a declared key without a default is required.
 */
export function argsFromConfig(config: pulumi.Config): RegistryPullSecretArgs {
    const optional = (key: string) => config.get(key) || undefined;
    return {
        namespaces: config.requireObject<string[]>("namespaces"),
        registries: config.requireObject<string[]>("registries"),
        secretName: optional("secretName"),
        serviceAccounts: config.getObject<string[]>("serviceAccounts"),
        email: optional("email"),
        gcp: {
            project: config.require("gcpProject"),
            serviceAccountId: optional("serviceAccountId"),
            serviceAccountEmail: optional("serviceAccountEmail"),
            repositories: (config.getObject<string[]>("repositories") ?? []).map((path, i) =>
                repositoryFromPath(`${config.name}:repositories[${i}]`, path),
            ),
        },
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
