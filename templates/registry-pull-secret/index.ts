// Made by `pulumi new` from the registry-pull-secret template. The component's arguments come from the
// stack's config (Pulumi.<stack>.yaml): `pulumi config set KEY VALUE` changes one.
import * as pulumi from "@pulumi/pulumi";
import { RegistryPullSecret, type ArtifactRegistryRepository } from "registry-pull-secret";

const config = new pulumi.Config();
const gcpProject = config.get("gcpProject");
const serviceAccount = config.get("serviceAccount") ?? "";
const registryUsername = config.get("registryUsername");

const pullSecret = new RegistryPullSecret("regcred", {
    namespaces: config.requireObject<string[]>("namespaces"),
    registries: config.requireObject<string[]>("registries"),
    // true adopts the recipe's `regcred` Secrets and entries in place: pulumi config set takeOver true
    takeOver: config.getBoolean("takeOver"),
    // Google Cloud: the service account (an email reuses one, an id creates it), a reader grant on
    // each repository, and a key.
    gcp: gcpProject
        ? {
              project: gcpProject,
              ...(serviceAccount.includes("@")
                  ? { serviceAccountEmail: serviceAccount }
                  : { serviceAccountId: serviceAccount }),
              repositories: config.requireObject<ArtifactRegistryRepository[]>("repositories"),
          }
        : undefined,
    // With gcpProject, the readiness gate: the Secrets take a new key once it pulls from every registry.
    // Turn it off only where this machine cannot reach them (pulumi config set readinessWait false).
    readiness: gcpProject ? { wait: config.getBoolean("readinessWait") ?? true } : undefined,
    // Any registry: its username and password (pulumi config set --secret registryPassword).
    credentials: registryUsername
        ? { username: registryUsername, password: config.requireSecret("registryPassword") }
        : undefined,
});

export const secretName = pullSecret.secretName;
export const serviceAccountEmail = pullSecret.serviceAccountEmail;
