import * as pulumi from "@pulumi/pulumi";
import { startMocks } from "./support/mocks";
import { describeRefusals, type Refusal } from "./support/refusals";
const registrations = startMocks();
import { RegistryPullSecret } from "../components";
import { sampleArgs } from "./support/component";

const gcp = sampleArgs().gcp!;

const cases: Refusal[] = [
    [
        "an empty list of namespaces",
        sampleArgs({ namespaces: [] }),
        "namespaces",
        /^namespaces must name at least one namespace to hold the Secret; it is empty \(only gcp.credential "gkeNode" takes none\)$/,
    ],
    [
        "no namespaces at all",
        sampleArgs({ namespaces: undefined }),
        "namespaces",
        /^namespaces is required: at least one namespace to hold the Secret; it is not set \(only gcp.credential "gkeNode" takes none\)$/,
    ],
    [
        "a namespace that is not an RFC 1123 label",
        sampleArgs({ namespaces: ["team-a", "Team_B"] }),
        "namespaces[1]",
        /^namespaces\[1\] must be an RFC 1123 label/,
    ],
    [
        "a namespace over 63 characters",
        sampleArgs({ namespaces: ["a".repeat(64)] }),
        "namespaces[0]",
        /at most 63 characters \(RFC 1123 label\), got 64/,
    ],
    ["an empty namespace", sampleArgs({ namespaces: [""] }), "namespaces[0]", /^namespaces\[0\] must not be empty$/],
    [
        "a namespace listed twice",
        sampleArgs({ namespaces: ["a", "b", "a"] }),
        "namespaces[2]",
        /repeats an earlier entry/,
    ],
    [
        "namespaces only known later",
        sampleArgs({ namespaces: pulumi.output(["a"]) as unknown as string[] }),
        "namespaces",
        /must be a plain list of strings known when the program runs/,
    ],
    [
        "a Secret name that is not an RFC 1123 subdomain",
        sampleArgs({ secretName: "RegCred" }),
        "secretName",
        /^secretName must be an RFC 1123 subdomain/,
    ],
    [
        "a Secret name over 253 characters",
        sampleArgs({ secretName: "a".repeat(254) }),
        "secretName",
        /at most 253 characters/,
    ],
    [
        "a ServiceAccount name with an underscore",
        sampleArgs({ serviceAccounts: ["default", "ci_bot"] }),
        "serviceAccounts[1]",
        /RFC 1123 subdomain/,
    ],
    [
        "a ServiceAccount listed twice",
        sampleArgs({ serviceAccounts: ["default", "default"] }),
        "serviceAccounts[1]",
        /repeats an earlier entry/,
    ],
    [
        "an empty list of registries",
        sampleArgs({ registries: [] }),
        "registries",
        /^registries must name at least one registry host to write the credential for; it is empty/,
    ],
    [
        "no registries at all",
        sampleArgs({ registries: undefined }),
        "registries",
        /^registries is required: at least one registry host to write the credential for; it is not set/,
    ],
    ["a registry with a scheme", sampleArgs({ registries: ["https://gcr.io"] }), "registries[0]", /without a scheme/],
    ["a registry with a path", sampleArgs({ registries: ["gcr.io/my-project"] }), "registries[0]", /without a path/],
    ["a registry with a bad host", sampleArgs({ registries: ["gcr..io"] }), "registries[0]", /dot-separated labels/],
    [
        "a registry with a bad port",
        sampleArgs({ registries: ["localhost:99999"] }),
        "registries[0]",
        /port must be a number from 1 to 65535/,
    ],
    [
        "a registry listed twice",
        sampleArgs({ registries: ["gcr.io", "gcr.io"] }),
        "registries[1]",
        /repeats an earlier entry/,
    ],
    [
        "a service account id too short",
        sampleArgs({ gcp: { ...gcp, serviceAccountId: "puller".slice(0, 5) } }),
        "gcp.serviceAccountId",
        /6 to 30 characters, got 5/,
    ],
    [
        "a service account id with a bad character",
        sampleArgs({ gcp: { ...gcp, serviceAccountId: "image_puller" } }),
        "gcp.serviceAccountId",
        /only lowercase letters, digits and '-'/,
    ],
    [
        "both serviceAccountId and serviceAccountEmail",
        sampleArgs({ gcp: { ...gcp, serviceAccountEmail: "a@b.iam.gserviceaccount.com" } }),
        "gcp.serviceAccountId",
        /^gcp.serviceAccountId or gcp.serviceAccountEmail: exactly one is required; both are set \(/,
    ],
    [
        "neither serviceAccountId nor serviceAccountEmail",
        sampleArgs({ gcp: { project: "example-project", repositories: gcp.repositories } }),
        "gcp.serviceAccountId",
        /^gcp.serviceAccountId or gcp.serviceAccountEmail: exactly one is required; neither is set \(/,
    ],
    [
        "a malformed service account email",
        sampleArgs({ gcp: { project: "example-project", serviceAccountEmail: "puller-at-example" } }),
        "gcp.serviceAccountEmail",
        /must be an email address/,
    ],
    ["a malformed docker email", sampleArgs({ email: "ops@localhost" }), "email", /^email must be an email address/],
    ["a bad project id", sampleArgs({ gcp: { ...gcp, project: "Example" } }), "gcp.project", /must be a project id/],
    [
        "a created account without repositories",
        sampleArgs({ gcp: { ...gcp, repositories: [] } }),
        "gcp.repositories",
        /at least one repository when gcp.serviceAccountId creates the account/,
    ],
    [
        "a repository with a bad location",
        sampleArgs({ gcp: { ...gcp, repositories: [{ location: "Asia", repository: "asia.gcr.io" }] } }),
        "gcp.repositories[0].location",
        /Artifact Registry location/,
    ],
    [
        "a repository without a location",
        sampleArgs({ gcp: { ...gcp, repositories: [{ repository: "asia.gcr.io" } as never] } }),
        "gcp.repositories[0].location",
        /^gcp.repositories\[0\].location is required; it is not set$/,
    ],
    [
        "a repository listed twice",
        sampleArgs({ gcp: { ...gcp, repositories: [gcp.repositories![0], gcp.repositories![0]] } }),
        "gcp.repositories[1]",
        /repeats an earlier repository/,
    ],
    [
        "no gcp at all (nor credentials)",
        sampleArgs({ gcp: undefined as never }),
        "gcp",
        /^gcp or credentials: exactly one is required; neither is set/,
    ],
    [
        "an attachMode that is neither merge nor patch",
        // as a JavaScript program or another language may send it (TypeScript refuses it at compile time)
        sampleArgs({ attachMode: "replace" as never }),
        "attachMode",
        /^attachMode must be one of "merge", "patch"/,
    ],
    [
        "an attachMode only known later",
        sampleArgs({ attachMode: pulumi.output("merge") as never }),
        "attachMode",
        /as a plain string known when the program runs/,
    ],
    [
        "a readiness deadline that is not a whole number of seconds from 1 to 3600",
        sampleArgs({ readiness: { timeoutSeconds: 600_000 } }),
        "readiness.timeoutSeconds",
        /^readiness\.timeoutSeconds must be a whole number of seconds from 1 to 3600, as a plain number known when the program runs$/,
    ],
    [
        "a readiness deadline with the gate off",
        sampleArgs({ readiness: { wait: false, timeoutSeconds: 60 } }),
        "readiness.timeoutSeconds",
        /^readiness\.timeoutSeconds cannot be given with readiness\.wait false: nothing waits$/,
    ],
    [
        "readiness.wait that is not a boolean",
        sampleArgs({ readiness: { wait: "no" as never } }),
        "readiness.wait",
        /^readiness\.wait must be true or false, as a plain boolean known when the program runs$/,
    ],
    [
        "a mirror of a host that is not Artifact Registry's",
        sampleArgs({ readiness: { mirrorOf: { "asia.gcr.io": "docker.io" } } }),
        'readiness.mirrorOf["asia.gcr.io"]',
        /must be an Artifact Registry host \(gcr\.io, asia\.gcr\.io, eu\.gcr\.io, us\.gcr\.io or LOCATION-docker\.pkg\.dev\)/,
    ],
    [
        "a mirror that is not a listed registry",
        sampleArgs({ readiness: { mirrorOf: { "mirror.example.com": "asia.gcr.io" } } }),
        'readiness.mirrorOf["mirror.example.com"]',
        /^readiness\.mirrorOf\["mirror\.example\.com"\] must name a host listed in registries$/,
    ],
    [
        "readiness with gkeNode, which writes no credential",
        sampleArgs({
            namespaces: undefined,
            registries: undefined,
            gcp: {
                ...gcp,
                serviceAccountId: undefined,
                serviceAccountEmail: "nodes@example-project.iam.gserviceaccount.com",
                credential: "gkeNode",
            },
            readiness: { wait: false },
        }),
        "readiness",
        /^readiness cannot be given with gcp\.credential "gkeNode": the gate proves a credential that reaches the Secrets, and gkeNode writes none$/,
    ],
];

describeRefusals("validation before anything registers", RegistryPullSecret, registrations, cases);
