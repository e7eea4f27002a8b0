/**
 * A Pulumi YAML program that declares the component, as a user writes it after `pulumi package add`
 * (the names of registry-pull-secret's schema), with `credentials` (no Google Cloud): the password
 * from the stack's secret config `registryPassword`, `kubernetes:enableSecretMutable` set in the
 * project as examples/yaml sets it. `plugin` is the `packages` entry: a plugin folder or executable.
 */
export function registryPullSecretYaml(
    plugin: string,
    stack: { namespaces: string[]; registry: string; username: string; serviceAccounts: string[] },
): string {
    return [
        "name: pull-secret-yaml",
        "runtime: yaml",
        "packages:",
        `  registry-pull-secret: ${plugin}`,
        "config:",
        "  kubernetes:enableSecretMutable:",
        "    value: true",
        "  registryPassword:",
        "    type: string",
        "resources:",
        "  regcred:",
        "    type: registry-pull-secret:index:RegistryPullSecret",
        "    properties:",
        `      namespaces: ${JSON.stringify(stack.namespaces)}`,
        `      registries: ${JSON.stringify([stack.registry])}`,
        `      serviceAccounts: ${JSON.stringify(stack.serviceAccounts)}`,
        "      attachMode: merge",
        "      credentials:",
        `        username: ${stack.username}`,
        "        password: ${registryPassword}",
        "outputs:",
        "  secretName: ${regcred.secretName}",
        "",
    ].join("\n");
}
