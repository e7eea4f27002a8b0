/**
 * Which Artifact Registry repository a pull reads (docs/facts.md#registries-and-the-reader-role):
 * `gcr.io`, `asia.gcr.io`, `eu.gcr.io` and `us.gcr.io` are repositories named after the host in `us`,
 * `asia`, `europe` and `us`, with image names `PROJECT/IMAGE`; `LOCATION-docker.pkg.dev` names
 * `PROJECT/REPOSITORY/IMAGE` in LOCATION.
 */

const gcrLocations: Record<string, string> = {
    "gcr.io": "us",
    "asia.gcr.io": "asia",
    "eu.gcr.io": "europe",
    "us.gcr.io": "us",
};

/** The repository a pull of `name` (`PROJECT/...`) from `registryHost` reads, or undefined for another registry. */
export function artifactRegistryRepositoryOf(
    registryHost: string,
    name: string,
): { project: string; location: string; repository: string } | undefined {
    const parts = name.split("/");
    if (gcrLocations[registryHost] !== undefined) {
        return parts.length >= 2
            ? { project: parts[0], location: gcrLocations[registryHost], repository: registryHost }
            : undefined;
    }
    const location = /^([a-z0-9-]+)-docker\.pkg\.dev$/.exec(registryHost)?.[1];
    if (location === undefined || parts.length < 3) return undefined;
    return { project: parts[0], location, repository: parts[1] };
}
