/**
 * The repository grants every Google Cloud credential shares: non-authoritative `roles/artifactregistry.reader`
 * per repository (docs/facts.md#registries-and-the-reader-role); the repository list comes checked
 * (components/parse.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { RepositoryIamMember } from "@pulumi/gcp/artifactregistry";
import { childNames } from "../names";
import type { GoogleCloudProject } from "../parse";

/** Least privilege for pulling (docs/facts.md#registries-and-the-reader-role). */
export const readerRole = "roles/artifactregistry.reader";

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
