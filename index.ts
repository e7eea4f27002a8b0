import * as pulumi from "@pulumi/pulumi";
import { RegistryPullSecret } from "./components";
import { unreadKeyProblem, unreadKeys } from "./components/rules/config-keys";
import { argsFromConfig } from "./components/stack-config";
import { declaredConfigKeys } from "./tools/stack-config-files";

// A typo in a stack's config (`keyRotationDay`, `registry-pul-secret:`, `kubernetes:enableSecretMutabel`)
// would otherwise be ignored in silence: the program would read the key it meant, find nothing, and fall
// back to the default. `pulumi preview` and `pulumi up` fail instead, naming the fix.
const unread = unreadKeys(Object.keys(pulumi.runtime.allConfig()), pulumi.getProject(), declaredConfigKeys(__dirname));
if (unread.length > 0) {
    throw new Error(unread.map((key) => unreadKeyProblem(`stack ${pulumi.getStack()}`, key)).join("\n"));
}

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
