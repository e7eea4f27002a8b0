import type { RegistryPullSecret, RegistryPullSecretArgs } from "../../components";
import { settled, type Registration } from "./mocks";

/** Args for a component that creates a service account and reads one gcr.io repository. */
export function sampleArgs(overrides: Partial<RegistryPullSecretArgs> = {}): RegistryPullSecretArgs {
    return {
        namespaces: ["team-a"],
        registries: ["asia.gcr.io"],
        gcp: {
            project: "example-project",
            serviceAccountId: "image-puller",
            repositories: [{ location: "asia", repository: "asia.gcr.io" }],
        },
        ...overrides,
    };
}

/** The component's own registration and its children's, once every registration has been answered. */
export async function registeredBy(
    component: RegistryPullSecret,
    registrations: Registration[],
): Promise<{ component: Registration; children: Registration[] }> {
    await settled();
    const urn = await new Promise<string>((resolve) => component.urn.apply(resolve));
    const own = registrations.find((r) => r.urn === urn);
    if (!own) throw new Error(`component ${urn} was not registered`);
    return { component: own, children: registrations.filter((r) => r.parent === urn) };
}
