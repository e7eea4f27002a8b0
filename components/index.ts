export { AttachMode, CredentialKind } from "./args";
export type {
    ArtifactRegistryRepository,
    GoogleCloudCredentialArgs,
    ReadinessArgs,
    RegistryCredentialsArgs,
    RegistryPullSecretArgs,
    TokenRefresherArgs,
    WorkloadIdentityFederationArgs,
} from "./args";
export { RegistryPullSecret, keyUsername, readerRole, type RegistryPullSecretOptions } from "./registry-pull-secret";
export { basicAuth, dockerConfigJson, type DockerRegistryEntry } from "./rules/docker-config";
