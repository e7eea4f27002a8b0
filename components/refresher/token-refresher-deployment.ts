/**
 * The token refresher's part of the graph for `gcp.credential: "accessToken"`: its own namespace
 * (Pod Security `restricted`) and ServiceAccount; per target namespace the Secret (a
 * {@link RefreshedSecret}) and a Role that may get and patch only that Secret, by name; in its own
 * namespace a Role to read its Deployment and report Events; the code and config in an immutable
 * ConfigMap named after their digest (a change is a new ConfigMap, never an edit of the running one);
 * and a one-replica Deployment that turns ready once every Secret Pulumi created holds its first
 * token (components/refresher/token-refresher.ts says exactly when), so Pulumi waits for it before anything
 * lists the Secrets in `imagePullSecrets`.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Deployment } from "@pulumi/kubernetes/apps/v1";
import { ConfigMap, Namespace, ServiceAccount } from "@pulumi/kubernetes/core/v1";
import { Role, RoleBinding } from "@pulumi/kubernetes/rbac/v1";
import { childNames, formerChildNames, refresherNames } from "../names";
import type { ReadinessProbe } from "../rules/readiness";
import { RefreshedSecret } from "./refreshed-secret";
import type { RefresherConfig, RefresherIdentity } from "./token-refresher";

/** How the refresher gets its Google identity (the audience may be known only after the provider exists). */
export type RefresherIdentityInput =
    { source: "gkeMetadata" } | { source: "federation"; audience: pulumi.Input<string> };
/**
 * The files the container runs, by their path under bin/components: the refresher, and the encoder,
 * ownership and pull-proof rules it shares with the component. Exactly what refresher/token-refresher.ts imports,
 * directly or not (test/refresher/refresher-imports.test.ts). In the ConfigMap each is a key named
 * after the file (keys hold no '/'); the volume puts it back at this path under {@link codeDir}, so the
 * compiled `require("../rules/docker-config")` finds its file.
 */
export const refresherFiles = [
    "refresher/token-refresher.js",
    "rules/docker-config.js",
    "rules/ownership.js",
    "rules/pull-proof.js",
    "rules/readiness.js",
];
const codeDir = "/refresher";
const federationTokenDir = "/var/run/secrets/google-federation";
const readinessPort = 8080;

/**
 * The compiled refresher (`npm run build` writes bin/components), keyed by file name: read from the
 * bin/components this file runs in when it runs compiled, from the repository's bin/components when it
 * runs from source (tests, `npm run plan`).
 */
export function refresherCode(): Record<string, string> {
    const components = path.dirname(__dirname);
    const compiled =
        path.basename(path.dirname(components)) === "bin"
            ? components
            : path.join(components, "..", "bin", "components");
    return Object.fromEntries(
        refresherFiles.map((file) => {
            const location = path.join(compiled, file);
            if (!fs.existsSync(location)) throw new Error(`${location} is missing: run npm run build`);
            // The source map is not shipped; its reference would only point nowhere.
            const text = fs.readFileSync(location, "utf8").replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n");
            return [path.basename(file), text];
        }),
    );
}

/** Pod Security admission labels: enforce the `restricted` profile at the server's version. */
export const podSecurityRestricted = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
};

/** `token-refresher-` and the first 10 hex digits of the SHA-256 over the files, in name order. */
export function configMapName(data: Record<string, string>): string {
    const digest = createHash("sha256")
        .update(JSON.stringify(Object.entries(data).sort(([a], [b]) => a.localeCompare(b))))
        .digest("hex");
    return `${refresherNames.deployment}-${digest.slice(0, 10)}`;
}

export interface TokenRefresherArgs {
    namespace: string;
    image: pulumi.Input<string>;
    /** The namespaces that get the Secret. */
    targets: string[];
    secretName: pulumi.Input<string>;
    registries: pulumi.Input<string[]>;
    /** What the first token must pull from before it is written; `[]` with `readiness.wait: false`. */
    probes: pulumi.Input<ReadinessProbe[]>;
    /** How long Pulumi waits for the Deployment's rollout, the first token's proof included. */
    timeoutSeconds: number;
    email: pulumi.Input<string | undefined>;
    identity: RefresherIdentityInput;
    impersonate?: pulumi.Input<string>;
    /** For the {@link RefreshedSecret}s; default: the stack's Kubernetes connection. */
    kubeconfig?: pulumi.Input<string>;
    /** The component's owner id: recorded on each Secret, and the refresher writes only Secrets carrying it. */
    owner: pulumi.Input<string>;
    /** What must exist before the first token is worth writing (the Google grants). */
    grants: pulumi.Resource[];
}

export interface DeclaredRefresher {
    /** One per target namespace, in `targets` order. */
    secrets: RefreshedSecret[];
    /** Ready once every Secret Pulumi created holds its first token: the `imagePullSecrets` entries wait for it. */
    deployment: Deployment;
}

export function declareTokenRefresher(
    name: string,
    args: TokenRefresherArgs,
    cluster: pulumi.CustomResourceOptions,
): DeclaredRefresher {
    // Everything goes to the component's one cluster (the RefreshedSecrets through kubeconfig or the
    // stack's connection, as the "merge" entries do).
    // Pod Security `restricted` (kubernetes.io/docs/concepts/security/pod-security-admission): nobody
    // runs a privileged pod or mounts a host path here, and the refresher's own pod satisfies it.
    const namespace = new Namespace(
        childNames.refresher(name),
        { metadata: { name: args.namespace, labels: podSecurityRestricted } },
        cluster,
    );
    const account = new ServiceAccount(
        childNames.refresher(name),
        { metadata: { name: refresherNames.serviceAccount, namespace: namespace.metadata.name } },
        cluster,
    );
    const writer = `${args.namespace}/${refresherNames.deployment}`;
    const secrets: RefreshedSecret[] = [];
    const access: pulumi.Resource[] = [];
    for (const target of args.targets) {
        const secret = new RefreshedSecret(
            childNames.secret(name, target),
            { namespace: target, secretName: args.secretName, writer, owner: args.owner, kubeconfig: args.kubeconfig },
            { ...cluster, aliases: [{ name: formerChildNames.secret(name, target) }] },
        );
        secrets.push(secret);
        const accessOptions = { ...cluster, aliases: [{ name: formerChildNames.refresherAccess(name, target) }] };
        // get: check the Secret is still the component's before writing; patch: write the token.
        // No update (patch suffices), no create (RBAC cannot limit it to one name; Pulumi creates it).
        const role = new Role(
            childNames.refresherAccess(name, target),
            {
                metadata: { name: `${refresherNames.deployment}-${args.namespace}`, namespace: target },
                rules: [
                    {
                        apiGroups: [""],
                        resources: ["secrets"],
                        resourceNames: [secret.secretName],
                        verbs: ["get", "patch"],
                    },
                ],
            },
            accessOptions,
        );
        access.push(
            role,
            new RoleBinding(
                childNames.refresherAccess(name, target),
                {
                    metadata: { name: role.metadata.name, namespace: target },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                    subjects: [
                        { kind: "ServiceAccount", name: account.metadata.name, namespace: account.metadata.namespace },
                    ],
                },
                accessOptions,
            ),
        );
    }

    // In its own namespace: read its Deployment (for the uid Events refer to) and report Events on it.
    // `create` cannot be limited by name (docs/facts.md#rbac); Events are all it may create, and only here.
    const ownRole = new Role(
        childNames.refresher(name),
        {
            metadata: { name: refresherNames.deployment, namespace: namespace.metadata.name },
            rules: [
                {
                    apiGroups: ["apps"],
                    resources: ["deployments"],
                    resourceNames: [refresherNames.deployment],
                    verbs: ["get"],
                },
                { apiGroups: [""], resources: ["events"], verbs: ["create"] },
            ],
        },
        cluster,
    );
    access.push(
        ownRole,
        new RoleBinding(
            childNames.refresher(name),
            {
                metadata: { name: ownRole.metadata.name, namespace: namespace.metadata.name },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: ownRole.metadata.name },
                subjects: [
                    { kind: "ServiceAccount", name: account.metadata.name, namespace: account.metadata.namespace },
                ],
            },
            cluster,
        ),
    );

    const federation = args.identity.source === "federation";
    const config: pulumi.Output<RefresherConfig> = pulumi
        .all([
            pulumi.all(secrets.map((s) => pulumi.all([s.namespace, s.secretName]))),
            args.registries,
            args.probes,
            args.email,
            args.identity.source === "federation" ? args.identity.audience : "",
            args.impersonate,
            args.owner,
        ])
        .apply(([targets, registries, probes, email, audience, impersonate, owner]) => {
            const identity: RefresherIdentity = federation
                ? { source: "federation", audience, tokenFile: `${federationTokenDir}/token` }
                : { source: "gkeMetadata" };
            return {
                targets: targets.map(([namespace, secretName]) => ({ namespace, secretName })),
                registries,
                probes,
                ...(email ? { email } : {}),
                identity,
                ...(impersonate ? { impersonate } : {}),
                port: readinessPort,
                owner,
                deployment: { namespace: args.namespace, name: refresherNames.deployment },
            };
        });
    const data = config.apply((c) => ({ ...refresherCode(), "config.json": `${JSON.stringify(c, null, 2)}\n` }));
    // Immutable, and named after its digest: a changed code or config is a new ConfigMap (Pulumi creates
    // it, rolls the Deployment onto it, then deletes the old one), so nobody who may edit ConfigMaps
    // here can change what the running refresher executes, and a rollout never mixes old and new.
    const code = new ConfigMap(
        childNames.refresher(name),
        {
            metadata: { name: data.apply(configMapName), namespace: namespace.metadata.name },
            immutable: true,
            data,
        },
        cluster,
    );
    const labels = {
        "app.kubernetes.io/name": refresherNames.deployment,
        "app.kubernetes.io/part-of": "registry-pull-secret",
    };
    const deployment = new Deployment(
        childNames.refresher(name),
        {
            metadata: { name: refresherNames.deployment, namespace: namespace.metadata.name, labels },
            spec: {
                replicas: 1,
                selector: { matchLabels: labels },
                // The replacement pod must be ready (its own fresh token written) before the old one stops.
                strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                template: {
                    metadata: { labels },
                    spec: {
                        serviceAccountName: account.metadata.name,
                        // GKE Workload Identity answers only on nodes running the GKE metadata server.
                        ...(federation ? {} : { nodeSelector: { "iam.gke.io/gke-metadata-server-enabled": "true" } }),
                        securityContext: {
                            runAsNonRoot: true,
                            // The official Node.js images' `node` user.
                            runAsUser: 1000,
                            runAsGroup: 1000,
                            seccompProfile: { type: "RuntimeDefault" },
                        },
                        containers: [
                            {
                                name: "refresher",
                                image: args.image,
                                command: ["node", `${codeDir}/refresher/token-refresher.js`],
                                ports: [{ name: "readiness", containerPort: readinessPort }],
                                readinessProbe: {
                                    httpGet: { path: "/readyz", port: "readiness" },
                                    periodSeconds: 5,
                                    failureThreshold: 1,
                                },
                                resources: {
                                    requests: { cpu: "10m", memory: "32Mi" },
                                    limits: { memory: "96Mi" },
                                },
                                securityContext: {
                                    allowPrivilegeEscalation: false,
                                    readOnlyRootFilesystem: true,
                                    capabilities: { drop: ["ALL"] },
                                },
                                volumeMounts: [
                                    { name: "code", mountPath: codeDir, readOnly: true },
                                    ...(federation
                                        ? [{ name: "google-federation", mountPath: federationTokenDir, readOnly: true }]
                                        : []),
                                ],
                            },
                        ],
                        volumes: [
                            {
                                name: "code",
                                configMap: {
                                    name: code.metadata.name,
                                    items: [
                                        ...refresherFiles.map((file) => ({ key: path.basename(file), path: file })),
                                        { key: "config.json", path: "config.json" },
                                    ],
                                },
                            },
                            ...(args.identity.source === "federation"
                                ? [
                                      {
                                          name: "google-federation",
                                          projected: {
                                              sources: [
                                                  {
                                                      serviceAccountToken: {
                                                          audience: args.identity.audience,
                                                          expirationSeconds: 3600,
                                                          path: "token",
                                                      },
                                                  },
                                              ],
                                          },
                                      },
                                  ]
                                : []),
                        ],
                    },
                },
            },
        },
        {
            ...cluster,
            dependsOn: [...access, ...args.grants],
            // The rollout waits for the first token to pull: as long as the key modes' gate waits.
            customTimeouts: { create: `${args.timeoutSeconds}s`, update: `${args.timeoutSeconds}s` },
        },
    );
    return { secrets, deployment };
}
