/**
 * The doctor's walk: reads the subject (a pod, a Deployment's pod template, or an image with a
 * ServiceAccount), its ServiceAccount and pull Secrets (./cluster-reads.ts), plans each image's chain
 * (./pull-chain.ts), asks the registry with each credential the kubelet would try
 * (./registry-probe.ts), and returns one verdict per image, in the kubelet's order.
 */
import type { ClusterReads, PodShape, PullEvent, Read } from "./cluster-reads";
import { ClusterError } from "../cluster/cluster-connection";
import type { ImageReference } from "./image-reference";
import {
    admittedPullSecrets,
    judgePull,
    planPull,
    type ImageVerdict,
    type PullSubject,
    type SecretRead,
} from "./pull-chain";
import { clipMessage, kubeletReportOf } from "./node-credentials";
import type { RegistryAnswer } from "./registry-probe";

/** What to diagnose. */
export type DoctorTarget =
    | { kind: "pod"; name: string }
    | { kind: "deployment"; name: string }
    | { kind: "image"; image: string; serviceAccount: string };

export interface DoctorReport {
    namespace: string;
    subject: string;
    verdicts: ImageVerdict[];
    /** Reads RBAC denied that bear on every image (the ServiceAccount, the pod's events). */
    unchecked: string[];
    /** What the kubelet reported about pulls of this pod (its events), newest last. */
    kubeletEvents: string[];
    /** 0: every pull works; 1: a pull would fail; 3: none fails as far as could be checked, but a read it needed was denied or the node's own credential decides. */
    exitCode: 0 | 1 | 3;
}

export type Prober = (
    image: ImageReference,
    credential: { username: string; password: string } | undefined,
) => Promise<RegistryAnswer>;

const pullEventReasons = [
    "Pulled",
    "Failed",
    "BackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "FailedToRetrieveImagePullSecret",
    "InspectFailed",
    "ErrImageNeverPull",
];

/** The subject's pod (or the pod admission would make now), and the subject's words for it. */
async function subjectPod(
    target: DoctorTarget,
    reads: ClusterReads,
): Promise<{ describe: string; pod: Read<PodShape> }> {
    if (target.kind === "pod") return { describe: `pod/${target.name}`, pod: await reads.pod(target.name) };
    if (target.kind === "deployment")
        return { describe: `deployment/${target.name}`, pod: await reads.deployment(target.name) };
    return {
        describe: "a new pod",
        pod: {
            state: "found",
            value: {
                containers: [{ name: "image", image: target.image }],
                imagePullSecrets: [],
                serviceAccountName: target.serviceAccount,
            },
        },
    };
}

export async function diagnose(
    target: DoctorTarget,
    namespace: string,
    reads: ClusterReads,
    probe: Prober,
    nowMs: number,
): Promise<DoctorReport> {
    const { describe, pod } = await subjectPod(target, reads);
    const resource = target.kind === "deployment" ? "deployments (apps)" : "pods";
    if (pod.state === "missing") throw new ClusterError(`${describe} does not exist in namespace ${namespace}`);
    const unchecked: string[] = [];
    if (pod.state === "denied") {
        unchecked.push(`reading ${describe} was denied (get ${resource}): nothing of its chain could be checked`);
        return { namespace, subject: describe, verdicts: [], unchecked, kubeletEvents: [], exitCode: 3 };
    }
    const shape = pod.value;
    const serviceAccount = await reads.serviceAccount(shape.serviceAccountName);
    if (serviceAccount.state === "denied") {
        unchecked.push(
            `reading ServiceAccount ${serviceAccount.name} was denied (get serviceaccounts): whether it lists other pull Secrets is not checked`,
        );
    }
    const admitted = target.kind === "pod";
    const subject: PullSubject = {
        namespace,
        describe: admitted ? describe : `${describe} (created now, with ServiceAccount ${serviceAccount.name})`,
        pullSecretNames: admitted
            ? shape.imagePullSecrets
            : admittedPullSecrets(shape.imagePullSecrets, serviceAccount),
        ownList: !admitted && shape.imagePullSecrets.length > 0,
        admittedAtMs: admitted ? shape.createdAtMs : undefined,
        serviceAccount,
    };
    if (serviceAccount.state === "missing" && !admitted) {
        throw new ClusterError(
            `ServiceAccount ${serviceAccount.name} does not exist in namespace ${namespace}: a pod with it would be refused`,
        );
    }
    // What the kubelet reported (a pod's events only: a template has none) is read before the verdicts,
    // which weigh what the node's own credential and image cache did (./node-credentials.ts).
    const kubeletEvents: string[] = [];
    const pullEvents: PullEvent[] = [];
    if (target.kind === "pod") {
        const events = await reads.podEvents(target.name);
        if (events.state === "denied")
            unchecked.push(
                `listing the events of ${describe} was denied (list events): what the kubelet reported is not shown`,
            );
        if (events.state === "found") {
            pullEvents.push(...events.value.filter((e) => pullEventReasons.includes(e.reason)));
            for (const e of pullEvents) {
                kubeletEvents.push(`${e.reason} (${e.count}x): ${clipMessage(e.message)}`);
            }
        }
    }
    const secrets = new Map<string, SecretRead>();
    for (const name of new Set(subject.pullSecretNames)) secrets.set(name, await reads.secret(name));
    const verdicts: ImageVerdict[] = [];
    for (const container of shape.containers) {
        const plan = planPull(subject, container, secrets, nowMs);
        if ("decided" in plan) {
            verdicts.push(plan.decided);
            continue;
        }
        const answers: RegistryAnswer[] = [];
        if (plan.candidates.length === 0) answers.push(await probe(plan.image, undefined));
        for (const candidate of plan.candidates) {
            const answer = await probe(plan.image, candidate.credential);
            answers.push(answer);
            // The runtime stops at the first credential that pulls.
            if ("status" in answer && answer.status === 200) break;
        }
        const node = { nodeName: shape.nodeName, report: kubeletReportOf(container.image, pullEvents) };
        verdicts.push(judgePull(plan, container, answers, nowMs, node));
    }
    const exitCode = verdicts.some((v) => v.fails === true) ? 1 : verdicts.some((v) => v.fails === undefined) ? 3 : 0;
    return { namespace, subject: describe, verdicts, unchecked, kubeletEvents, exitCode };
}
