/**
 * The repository grants every Google Cloud credential shares: non-authoritative `roles/artifactregistry.reader`
 * per repository (docs/facts.md#registries-and-the-reader-role); the repository list comes checked
 * (components/parse.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { RepositoryIamMember } from "@pulumi/gcp/artifactregistry";
import { childNames, formerChildNames } from "../names";
import type { GoogleCloudProject } from "../parse";

/** Least privilege for pulling (docs/facts.md#registries-and-the-reader-role). */
export const readerRole = "roles/artifactregistry.reader";

/** Whose principal the grants name: an account this stack creates, or one that exists without it. */
export type GrantedPrincipal = "created" | "existing";

/**
 * Non-authoritative `roles/artifactregistry.reader` on each repository (docs/facts.md#registries-and-the-reader-role).
 *
 * A grant to a principal that exists without this stack (`"existing"`: a GKE node pool's account, an
 * account named by `serviceAccountEmail`) is left in place on destroy (`retainOnDelete`): the member may
 * have held the role before us, and the Terraform provider behind `@pulumi/gcp` removes the member on
 * delete whoever added it (google-beta/tpgiamresource/resource_iam_member.go), which would break every
 * pull the account still makes (a node pool's pulls, with `gkeNode`). The price: a grant we did add
 * stays after destroy too (docs/deployer.md says how to remove it). A grant to a principal the stack
 * creates (its own service account, its refresher's Workload Identity principal) goes with it.
 */
export function grantReader(
    name: string,
    gcp: GoogleCloudProject,
    member: pulumi.Input<string>,
    parent: pulumi.Resource,
    principal: GrantedPrincipal,
): RepositoryIamMember[] {
    return gcp.repositories.map(
        ({ location, repository }) =>
            new RepositoryIamMember(
                childNames.grant(name, location, repository),
                { project: gcp.project, location, repository, role: readerRole, member },
                {
                    parent,
                    aliases: [{ name: formerChildNames.grant(name, location, repository) }],
                    ...(principal === "existing" ? { retainOnDelete: true } : {}),
                },
            ),
    );
}
