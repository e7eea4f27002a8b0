/**
 * A DOUBLE of the Google Cloud provider plugin (`pulumi-resource-gcp`), not the provider: the real
 * one cannot be built here (its Go modules are refused by the module proxy, docs/facts.md#what-the-google-provider-checks), and
 * no Google Cloud is reachable. It serves, through @pulumi/pulumi's own provider server, only the
 * resource types `gcp.credential: "accessToken"` registers, keeping what it "created" in a JSON file
 * that stands for Google (GCP_DOUBLE_STATE). Inputs come back as outputs; the computed outputs the
 * component reads are filled the way Google names them (pool and provider resource names). Changes to
 * the fields the Terraform provider marks ForceNew replace the resource (IAM members: every field;
 * pools and providers: their ids and project). The issue-18 plugin double, when it lands, replaces
 * this one: installGcpDouble is the one place that names it.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type * as pulumiProvider from "@pulumi/pulumi/provider";

type Props = Record<string, unknown>;

/** The types served and the inputs whose change replaces the resource. */
export const servedTypes: Record<string, string[]> = {
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": [
        "project",
        "location",
        "repository",
        "role",
        "member",
        "condition",
    ],
    "gcp:serviceaccount/iAMMember:IAMMember": ["serviceAccountId", "role", "member", "condition"],
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": ["project", "workloadIdentityPoolId"],
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": [
        "project",
        "workloadIdentityPoolId",
        "workloadIdentityPoolProviderId",
    ],
};

export interface GoogleRecord {
    type: string;
    id: string;
    props: Props;
}

/** The resource's own type: a URN's type part is the parents' types and its own, joined by `$`. */
function typeOf(urn: string): string {
    return urn.split("::")[2].split("$").at(-1) ?? "";
}

function load(file: string): GoogleRecord[] {
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as GoogleRecord[]) : [];
}

/** What "Google" holds now, for tests. */
export function googleState(file: string): GoogleRecord[] {
    return load(file);
}

const text = (value: unknown) => (typeof value === "string" ? value : "");

function computed(type: string, inputs: Props): Props {
    const project = typeof inputs.project === "string" ? inputs.project : "";
    if (type.endsWith("WorkloadIdentityPool")) {
        return {
            name: `projects/${project}/locations/global/workloadIdentityPools/${text(inputs.workloadIdentityPoolId)}`,
            state: "ACTIVE",
        };
    }
    if (type.endsWith("WorkloadIdentityPoolProvider")) {
        return {
            name: `projects/${project}/locations/global/workloadIdentityPools/${text(inputs.workloadIdentityPoolId)}/providers/${text(inputs.workloadIdentityPoolProviderId)}`,
            state: "ACTIVE",
        };
    }
    return { etag: `BwY${randomBytes(6).toString("base64url")}` };
}

export function gcpDoubleProvider(version: string, file: string): pulumiProvider.Provider {
    const save = (records: GoogleRecord[]) => writeFileSync(file, JSON.stringify(records, null, 2));
    const served = (urn: string) => {
        const type = typeOf(urn);
        if (!(type in servedTypes)) throw new Error(`the gcp plugin double does not serve ${type}`);
        return type;
    };
    return {
        version,
        create(urn, inputs: Props) {
            const type = served(urn);
            const id = `${type.split(":")[2]}-${randomBytes(4).toString("hex")}`;
            const props = { ...inputs, ...computed(type, inputs) };
            save([...load(file), { type, id, props }]);
            return Promise.resolve({ id, outs: props });
        },
        read(id, urn) {
            served(urn);
            const record = load(file).find((r) => r.id === id);
            return Promise.resolve(record ? { id, props: record.props } : { id: "", props: {} });
        },
        diff(_id, urn, olds: Props, news: Props) {
            const type = served(urn);
            const changed = Object.keys({ ...olds, ...news }).filter(
                (key) => !(key in computed(type, {})) && JSON.stringify(olds[key]) !== JSON.stringify(news[key]),
            );
            const replaces = changed.filter((key) => servedTypes[type].includes(key));
            return Promise.resolve({ changes: changed.length > 0, replaces, deleteBeforeReplace: false });
        },
        update(id, urn, _olds, news: Props) {
            const type = served(urn);
            const props = { ...news, ...computed(type, news) };
            save(load(file).map((r) => (r.id === id ? { ...r, props } : r)));
            return Promise.resolve({ outs: props });
        },
        delete(id, urn) {
            served(urn);
            save(load(file).filter((r) => r.id !== id));
            return Promise.resolve();
        },
    };
}

/** The executable the engine starts as `pulumi-resource-gcp` (this file, with this Node.js and tsx). */
export function gcpDoubleLauncher(dir: string): string {
    const file = path.join(dir, "pulumi-resource-gcp");
    writeFileSync(
        file,
        [
            "#!/bin/sh",
            `exec ${JSON.stringify(process.execPath)} --import ${JSON.stringify(pathToFileURL(require.resolve("tsx")).href)} ${JSON.stringify(__filename)} "$@"`,
            "",
        ].join("\n"),
        { mode: 0o755 },
    );
    return file;
}

if (require.main === module) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const version = process.env.GCP_DOUBLE_VERSION ?? "0.0.0";
    const file = process.env.GCP_DOUBLE_STATE;
    if (!file) throw new Error("GCP_DOUBLE_STATE names the file that stands for Google");
    void pulumi.provider.main(gcpDoubleProvider(version, file), process.argv.slice(2));
}
