import { parseNetworkStatus } from '../spec/network-status.ts';
import { parseNetworksAnnotation } from '../spec/parse-networks-annotation.ts';
import { selectNetworksAnnotation } from '../spec/select-networks-annotation.ts';
import { NETWORK_STATUS_ANNOTATION } from '../spec/well-known.ts';

export interface PodNetworkSource {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  /** network-status text when it lives outside the annotations (local mode's status file). */
  statusText?: string | undefined;
}

export interface PodNetworkSummary {
  pod: string;
  attachments: { interface: string; network: string; ips: string[]; mac: string; default: boolean }[];
  /** Requested networks without a status entry: a failed or pending attach. */
  missing: string[];
  problem?: string;
}

/** Pure: what each pod asked for, what its network-status says it got, and the difference. */
export function summarizePodNetworks(pods: PodNetworkSource[]): PodNetworkSummary[] {
  const out: PodNetworkSummary[] = [];
  for (const p of pods) {
    const summary: PodNetworkSummary = { pod: `${p.namespace}/${p.name}`, attachments: [], missing: [] };
    const statusText = p.statusText ?? p.annotations[NETWORK_STATUS_ANNOTATION];
    const requested = selectNetworksAnnotation(p.annotations);
    if (!statusText && !requested) continue;
    try {
      for (const s of statusText ? parseNetworkStatus(statusText) : [])
        summary.attachments.push({
          interface: s.interface ?? '',
          network: s.name,
          ips: s.ips ?? [],
          mac: s.mac ?? '',
          default: s.default === true,
        });
    } catch (err) {
      summary.problem = `unreadable network-status: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (requested) {
      try {
        const have = summary.attachments.map((a) => a.network);
        for (const el of parseNetworksAnnotation(requested.value, p.namespace)) {
          const ref = `${el.namespace}/${el.name}`;
          const i = have.indexOf(ref);
          if (i >= 0) have.splice(i, 1);
          else summary.missing.push(el.interface ? `${ref}@${el.interface}` : ref);
        }
      } catch (err) {
        summary.problem = `invalid ${requested.key}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    out.push(summary);
  }
  return out;
}

export function formatPodNetworks(summaries: PodNetworkSummary[]): string {
  const head = ['POD', 'INTERFACE', 'NETWORK', 'IPS', 'MAC', 'DEFAULT'];
  const rows: string[][] = [];
  for (const s of summaries) {
    for (const a of s.attachments)
      rows.push([
        s.pod,
        a.interface,
        a.network,
        a.ips.join(',') || '-',
        a.mac || '-',
        a.default ? 'yes' : '',
      ]);
    if (s.attachments.length === 0) rows.push([s.pod, '-', '(no network-status)', '-', '-', '']);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const lines = [line(head), ...rows.map(line)];
  const troubled = summaries.filter((s) => s.missing.length > 0 || s.problem);
  if (troubled.length > 0) {
    lines.push('', 'requested but not attached (failed or pending):');
    for (const s of troubled) {
      if (s.missing.length > 0) lines.push(`  ${s.pod}: ${s.missing.join(', ')}`);
      if (s.problem) lines.push(`  ${s.pod}: ${s.problem}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
