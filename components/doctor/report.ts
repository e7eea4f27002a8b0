/** The doctor's report as text for people (one block per image) and as JSON for machines. */
import type { DoctorReport } from "./doctor";

export function reportText(report: DoctorReport): string {
    const lines = [`registry-pull-secret doctor: ${report.subject} in namespace ${report.namespace}`];
    for (const v of report.verdicts) {
        const outcome = v.fails === true ? "PULL WOULD FAIL" : v.fails === false ? "pulls" : "NOT FULLY CHECKED";
        lines.push("", `container ${v.container}: ${v.image}`, `  verdict   ${v.kind} (link: ${v.link}): ${outcome}`);
        for (const e of v.evidence) lines.push(`  evidence  ${e}`);
        if (v.fix !== undefined && v.kind !== "ok") lines.push(`  fix       ${v.fix}`);
        for (const w of v.warnings) lines.push(`  warning   ${w}`);
        for (const u of v.unchecked) lines.push(`  unchecked ${u}`);
    }
    if (report.kubeletEvents.length > 0)
        lines.push("", "the kubelet reported:", ...report.kubeletEvents.map((e) => `  ${e}`));
    if (report.unchecked.length > 0) lines.push("", "not checked:", ...report.unchecked.map((u) => `  ${u}`));
    const failing = report.verdicts.filter((v) => v.fails === true).length;
    lines.push(
        "",
        report.exitCode === 0
            ? `every image pulls (${report.verdicts.length})`
            : report.exitCode === 1
              ? `${failing} of ${report.verdicts.length} images would fail to pull`
              : "no pull is known to fail, but what some pull rests on was not checked (see unchecked)",
    );
    return lines.join("\n") + "\n";
}

export const reportJson = (report: DoctorReport): string => JSON.stringify(report, null, 2) + "\n";
