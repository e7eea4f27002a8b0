/**
 * The programs the benchmark compares, each declaring the same credential for `namespaces` x
 * `serviceAccounts`. Imported only after the mocks are installed (see case.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { RepositoryIamMember } from "@pulumi/gcp/artifactregistry";
import { Account, Key } from "@pulumi/gcp/serviceaccount";
import { Secret, ServiceAccountPatch } from "@pulumi/kubernetes/core/v1";
import { RegistryPullSecret, type RegistryPullSecretArgs } from "../components";

export interface Shape {
    namespaces: string[];
    serviceAccounts: string[];
}

const project = "example-project";
const registry = "asia.gcr.io";

/** Our component; `extraArgs` (e.g. an attachment mode) is passed through as it is. */
export function component(shape: Shape, extraArgs: Record<string, unknown>): void {
    const args: RegistryPullSecretArgs = {
        ...shape,
        registries: [registry],
        gcp: { project, serviceAccountId: "image-puller", repositories: [{ location: "asia", repository: registry }] },
        ...extraArgs,
    };
    new RegistryPullSecret("bench", args);
}

/**
 * The usual shell recipe translated one-to-one: `gcloud iam service-accounts create`,
 * `gcloud artifacts repositories add-iam-policy-binding`, `gcloud iam service-accounts keys create`,
 * then per namespace `kubectl create secret docker-registry` and per ServiceAccount
 * `kubectl patch serviceaccount`. No component, no validation, JSON.stringify as the encoder.
 */
export function naive(shape: Shape): void {
    const account = new Account("naive-account", { project, accountId: "image-puller" });
    new RepositoryIamMember("naive-reader", {
        project,
        location: "asia",
        repository: registry,
        role: "roles/artifactregistry.reader",
        member: account.member,
    });
    const key = new Key("naive-key", { serviceAccountId: account.name });
    for (const namespace of shape.namespaces) {
        const config = key.privateKey.apply((password) => {
            const auth = Buffer.from(`_json_key_base64:${password}`).toString("base64");
            const json = JSON.stringify({ auths: { [registry]: { username: "_json_key_base64", password, auth } } });
            return { ".dockerconfigjson": Buffer.from(json).toString("base64") };
        });
        const secret = new Secret(`naive-${namespace}`, {
            metadata: { name: "regcred", namespace },
            type: "kubernetes.io/dockerconfigjson",
            data: config,
        });
        for (const name of shape.serviceAccounts) {
            new ServiceAccountPatch(`naive-${namespace}/${name}`, {
                metadata: { name, namespace },
                imagePullSecrets: [{ name: secret.metadata.name }],
            });
        }
    }
}

/** A custom resource with nothing of its own: what every resource costs the SDK at least. */
class Bare extends pulumi.CustomResource {
    constructor(name: string, inputs: pulumi.Inputs) {
        super("bench:index:Bare", name, inputs);
    }
}

/** The floor: as many bare custom resources as the naive program declares, plain inputs, no dependencies. */
export function floor(shape: Shape): void {
    const count = 3 + shape.namespaces.length * (1 + shape.serviceAccounts.length);
    for (let i = 0; i < count; i++) {
        new Bare(`bare-${i}`, { index: i, text: "regcred" });
    }
}
