export {
    RegistryPullSecret,
    keyUsername,
    readerRole,
    type ArtifactRegistryRepository,
    type GoogleCloudCredentialArgs,
    type RegistryCredentialsArgs,
    type RegistryPullSecretArgs,
    type RegistryPullSecretOptions,
} from "./registry-pull-secret";
export { basicAuth, dockerConfigJson, type DockerRegistryEntry } from "./docker-config";
