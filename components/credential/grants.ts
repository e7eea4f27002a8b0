/**
 * The repository grants every Google Cloud credential shares: non-authoritative `roles/artifactregistry.reader`
 * per repository (docs/facts.md#registries-and-the-reader-role), and the checked repository list.
 */
import * as pulumi from "@pulumi/pulumi";
import { RepositoryIamMember } from "@pulumi/gcp/artifactregistry";
import type { ArtifactRegistryRepository } from "../args";
import { childNames } from "../names";
import { firstDuplicateIndex, repositoryIdProblem, repositoryLocationProblem } from "../rules/rules";
import { check, invalid } from "../validate";

/** Least privilege for pulling (docs/facts.md#registries-and-the-reader-role). */
export const readerRole = "roles/artifactregistry.reader";

/** The project, its repositories and (when one is used) an existing service account. */
export interface GoogleCloudProject {
    project: pulumi.Input<string>;
    repositories: ArtifactRegistryRepository[];
    serviceAccountEmail?: pulumi.Input<string>;
}

/** Non-authoritative `roles/artifactregistry.reader` on each repository (docs/facts.md#registries-and-the-reader-role). */
export function grantReader(
    name: string,
    gcp: GoogleCloudProject,
    member: pulumi.Input<string>,
    parent: pulumi.Resource,
): RepositoryIamMember[] {
    return gcp.repositories.map(
        ({ location, repository }) =>
            new RepositoryIamMember(
                childNames.grant(name, location, repository),
                { project: gcp.project, location, repository, role: readerRole, member },
                { parent },
            ),
    );
}

export function checkRepositories(repositories: unknown): ArtifactRegistryRepository[] {
    const isPlain = Array.isArray(repositories) && repositories.every((r) => r !== null && typeof r === "object");
    if (!isPlain)
        throw invalid(
            "gcp.repositories",
            "must be a plain list of { location, repository } known when the program runs",
        );
    const checked = (repositories as ArtifactRegistryRepository[]).map((r, i) => ({
        location: check(`gcp.repositories[${i}].location`, r.location, repositoryLocationProblem),
        repository: check(`gcp.repositories[${i}].repository`, r.repository, repositoryIdProblem),
    }));
    const duplicate = firstDuplicateIndex(checked.map((r) => `${r.location}/${r.repository}`));
    if (duplicate !== undefined) {
        throw invalid(`gcp.repositories[${duplicate}]`, "repeats an earlier repository; each must be listed once");
    }
    return checked;
}
