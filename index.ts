import * as pulumi from "@pulumi/pulumi";
import { RegistryPullSecret } from "./components";
import { argsFromConfig } from "./components/stack-config";

const pullSecret = new RegistryPullSecret("regcred", argsFromConfig(new pulumi.Config()), {
    argsFromStackConfig: true,
});

export const secretName = pullSecret.secretName;
export const namespaces = pullSecret.namespaces;
export const registries = pullSecret.registries;
export const serviceAccountEmail = pullSecret.serviceAccountEmail;
export const keyName = pullSecret.keyName;
export const keyRotatesAfter = pullSecret.keyRotatesAfter;
export const dockerConfigJson = pullSecret.dockerConfigJson;
