import type { NetworksReadyCondition } from '../k8s/cluster-view.ts';
import { CHECK_MARK_KEY, parseNetworkStatus } from '../spec/network-status.ts';
import { parseNetworksAnnotation } from '../spec/parse-networks-annotation.ts';
import { selectNetworksAnnotation } from '../spec/select-networks-annotation.ts';
import { NETWORK_STATUS_ANNOTATION } from '../spec/well-known.ts';

export interface PodNetworkSource {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  /** network-status text when it lives outside the annotations (local mode's status file). */
  statusText?: string | undefined;
  /** The pod's NetworksReady condition (docs/readiness.md); absent in local mode. */
  networksReady?: NetworksReadyCondition | undefined;
}

export interface PodNetworkSummary {
  pod: string;
  attachments: {
    interface: string;
    network: string;
    ips: string[];
    mac: string;
    default: boolean;
    /** Set while the daemon's periodic CHECK of this attachment fails (its drift mark). */
    drift?: { error: string; since: string };
  }[];
  /** The NetworksReady condition; undefined when the pod has none. */
  networksReady?: NetworksReadyCondition;
  /** Requested networks without a status entry: a failed or pending attach. */
  missing: string[];
  problem?: string;
}

/** Pure: what each pod asked for, what its network-status says it got, and the difference. */
export function summarizePodNetworks(pods: PodNetworkSource[]): PodNetworkSummary[] {
  const out: PodNetworkSummary[] = [];
  for (const p of pods) {
    const summary: PodNetworkSummary = { pod: `${p.namespace}/${p.name}`, attachments: [], missing: [] };
    if (p.networksReady) summary.networksReady = p.networksReady;
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
          ...(s[CHECK_MARK_KEY] ? { drift: s[CHECK_MARK_KEY] } : {}),
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
  const head = ['POD', 'READY', 'INTERFACE', 'NETWORK', 'IPS', 'MAC', 'DEFAULT', 'CHECK'];
  const rows: string[][] = [];
  for (const s of summaries) {
    const ready = s.networksReady?.status ?? '-';
    for (const a of s.attachments)
      rows.push([
        s.pod,
        ready,
        a.interface,
        a.network,
        a.ips.join(',') || '-',
        a.mac || '-',
        a.default ? 'yes' : '',
        a.drift ? 'FAILING' : '',
      ]);
    if (s.attachments.length === 0) rows.push([s.pod, ready, '-', '(no network-status)', '-', '-', '', '']);
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
  const notReady = summaries.filter((s) => s.networksReady?.status === 'False');
  if (notReady.length > 0) {
    lines.push('', 'NetworksReady=False:');
    for (const s of notReady)
      lines.push(`  ${s.pod}: ${s.networksReady!.reason}: ${s.networksReady!.message}`);
  }
  const drifted = summaries.flatMap((s) =>
    s.attachments.filter((a) => a.drift).map((a) => ({ pod: s.pod, a })),
  );
  if (drifted.length > 0) {
    lines.push('', 'drift (periodic CHECK failing):');
    for (const { pod, a } of drifted)
      lines.push(`  ${pod} ${a.interface} ${a.network}: since ${a.drift!.since}: ${a.drift!.error}`);
  }
  return `${lines.join('\n')}\n`;
}
