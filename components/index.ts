export {
    RegistryPullSecret,
    keyUsername,
    readerRole,
    type ArtifactRegistryRepository,
    type GoogleCloudCredentialArgs,
    type RegistryPullSecretArgs,
} from "./registry-pull-secret";
export { basicAuth, dockerConfigJson, type DockerRegistryEntry } from "./docker-config";
