#!/usr/bin/env node
/**
 * `npx registry-pull-secret doctor`: package.json `bin`. Why a pod cannot pull, link by link
 * (docs/troubleshooting.md). Exit codes: 0 every image pulls, 1 a pull would fail, 2 the command could
 * not run (usage, kubeconfig, a subject that does not exist), 3 nothing is known to fail but a read
 * the chain needs was denied, or the node's own credential decides (./node-credentials.ts).
 */
import { parseArgs } from "node:util";
import { ClusterError, loadKubeConfig, type ClusterConnection } from "../cluster/cluster-connection";
import { clusterReads } from "./cluster-reads";
import { diagnose, type DoctorTarget } from "./doctor";
import { probePull } from "./registry-probe";
import { reportJson, reportText } from "./report";

export const usage = `usage: registry-pull-secret doctor (pod/NAME | deployment/NAME | --image REF [--service-account NAME])
         [-n NAMESPACE] [--kubeconfig FILE] [--context NAME] [--plain-http HOST]... [--json]

Walks what decides each image pull of the pod, in the kubelet's order (its imagePullSecrets, each
Secret, the docker config entry for the image's host, the registry's answer to that very credential),
and prints one verdict per image: the first broken link, the evidence, and the fix.
  pod/NAME, NAME          a pod as it was admitted
  deployment/NAME         the pod its template would make now
  --image REF             a pod of that image made now, with --service-account (default: default)
  -n, --namespace NS      default: the kubeconfig context's namespace, else default
  --kubeconfig, --context as kubectl takes them
  --plain-http HOST       the node's runtime reaches HOST over plain HTTP (containerd hosts.toml)
  --json                  the report as JSON
Exit: 0 every image pulls, 1 a pull would fail, 2 the command could not run, 3 a read it needed was denied (or the node's own credential decides).
`;

/** The arguments, or the reason they are refused. */
export function parseDoctorArgs(argv: string[]):
    | {
          target: DoctorTarget;
          namespace?: string;
          kubeconfig?: string;
          context?: string;
          plainHttp: string[];
          json: boolean;
      }
    | { refused: string }
    | { help: true } {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            allowPositionals: true,
            options: {
                namespace: { type: "string", short: "n" },
                kubeconfig: { type: "string" },
                context: { type: "string" },
                image: { type: "string" },
                "service-account": { type: "string" },
                "plain-http": { type: "string", multiple: true },
                json: { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
        });
    } catch (error) {
        return { refused: (error as Error).message.split("\n")[0] };
    }
    const { values, positionals } = parsed;
    if (values.help) return { help: true };
    if (positionals[0] !== "doctor") return { refused: "the command is doctor" };
    const subjects = positionals.slice(1);
    let target: DoctorTarget;
    if (values.image !== undefined) {
        if (subjects.length > 0) return { refused: "give either --image or a pod or deployment, not both" };
        target = { kind: "image", image: values.image, serviceAccount: values["service-account"] ?? "default" };
    } else {
        if (subjects.length !== 1)
            return { refused: "name one pod (pod/NAME) or deployment (deployment/NAME), or give --image" };
        if (values["service-account"] !== undefined)
            return { refused: "--service-account goes with --image (a pod has its own)" };
        const [kind, name] = subjects[0].includes("/") ? subjects[0].split("/", 2) : ["pod", subjects[0]];
        if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name ?? ""))
            return { refused: `${subjects[0]}: not a Kubernetes object name` };
        if (["pod", "pods", "po"].includes(kind)) target = { kind: "pod", name };
        else if (["deployment", "deployments", "deploy"].includes(kind)) target = { kind: "deployment", name };
        else return { refused: `${kind}: the doctor diagnoses a pod, a deployment or an --image` };
    }
    return {
        target,
        namespace: values.namespace,
        kubeconfig: values.kubeconfig,
        context: values.context,
        plainHttp: values["plain-http"] ?? [],
        json: values.json ?? false,
    };
}

/** Runs the command; returns its exit code. */
export async function runDoctor(
    argv: string[],
    out: (text: string) => void,
    err: (text: string) => void,
    nowMs: () => number = Date.now,
): Promise<number> {
    const args = parseDoctorArgs(argv);
    if ("help" in args) {
        out(usage);
        return 0;
    }
    if ("refused" in args) {
        err(`registry-pull-secret: ${args.refused}\n\n${usage}`);
        return 2;
    }
    try {
        const connection = { kubeconfig: args.kubeconfig, context: args.context };
        const namespace = args.namespace ?? (await contextNamespace(connection)) ?? "default";
        const reads = await clusterReads(connection, namespace);
        const report = await diagnose(
            args.target,
            namespace,
            reads,
            (image, credential) => probePull(image, credential, { plainHttp: args.plainHttp }),
            nowMs(),
        );
        out(args.json ? reportJson(report) : reportText(report));
        return report.exitCode;
    } catch (error) {
        // Only errors this package wrote are printed: they quote nothing they received.
        err(
            `registry-pull-secret doctor: ${error instanceof ClusterError ? error.message : `failed (${error instanceof Error ? error.name : "unknown error"})`}\n`,
        );
        return 2;
    }
}

/** The namespace of the kubeconfig's context, as kubectl defaults to it. */
async function contextNamespace(connection: ClusterConnection): Promise<string | undefined> {
    const config = await loadKubeConfig(connection);
    return config.getContextObject(config.getCurrentContext())?.namespace;
}

if (require.main === module) {
    void runDoctor(
        process.argv.slice(2),
        (text) => process.stdout.write(text),
        (text) => process.stderr.write(text),
    ).then((code) => {
        process.exitCode = code;
    });
}
