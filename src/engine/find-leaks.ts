import { parseNetworkConfig } from '../cni/network-config.ts';
import type { ResultCacheRecord } from '../cni/result-cache.ts';
import type { AttachmentPlan } from './attachment-plan.ts';
import { describeCause } from './engine-error.ts';
import { hostLocalStores, storeKey, type HostLocalStore } from './host-local-stores.ts';
import type { HostLocalReservation, LeakSources, NetnsState } from './leak-sources.ts';
import { podIdentityFromArgs, type PodIdentity } from './pod-identity.ts';

/** One line of the report: one attachment (or one reservation) that looks leaked, or cannot be judged. */
export interface LeakFinding {
  verdict: 'leaked' | 'unknown';
  containerId: string;
  /** `namespace/name` when the plan or the CNI_ARGS name the pod. */
  pod?: string;
  /** The status name (`namespace/nad`) when a plan knows it, else the delegate list's name. */
  network: string;
  ifName: string;
  /** What is still on the node: "plan", "result cache", "host-local 10.1.0.5 (/dir)". */
  left: string[];
  why: string;
}

/** A reservation that nothing else (no plan, no result cache) would DEL: gc DELs it with its store's config. */
export interface ReleasableReservation {
  reservation: HostLocalReservation;
  configText: string;
}

export interface LeakReport {
  findings: LeakFinding[];
  /** Containers (and stray reservations' containers) whose sandbox exists. */
  live: string[];
  scanned: { containers: number; reservations: number };
  /** The host-local stores scanned. */
  stores: HostLocalStore[];
  /** What could not be read at all (said once, above the findings). */
  notes: string[];
  /** Leaked containers that have a plan or a result cache, with why. */
  leakedContainers: Map<string, string>;
  /** The delegate lists the leaked attachments use, by name: the networks gc sends GC to. */
  leakedNetworks: Map<string, string>;
  leakedReservations: ReleasableReservation[];
}

interface Known {
  id: string;
  plan?: AttachmentPlan;
  planProblem?: string;
  results: ResultCacheRecord[];
}

interface Attachment {
  list: string;
  network: string;
  ifName: string;
  configText: string;
  inPlan: boolean;
  inResult: boolean;
}

type Verdict = { verdict: 'live' } | { verdict: 'leaked' | 'unknown'; why: string };

function listName(configText: string): string | undefined {
  try {
    return parseNetworkConfig(configText).name;
  } catch {
    return undefined;
  }
}

function recordConfig(r: ResultCacheRecord): string {
  return r.config === '' ? '' : Buffer.from(r.config, 'base64').toString('utf8');
}

function attachmentsOf(k: Known): Attachment[] {
  const out: Attachment[] = [];
  for (const a of k.plan?.attachments ?? [])
    out.push({
      list: listName(a.configText) ?? a.network,
      network: a.network,
      ifName: a.ifName,
      configText: a.configText,
      inPlan: true,
      inResult: false,
    });
  for (const r of k.results) {
    const same = out.find((a) => a.list === r.networkName && a.ifName === r.ifName);
    if (same) same.inResult = true;
    else
      out.push({
        list: r.networkName,
        network: r.networkName,
        ifName: r.ifName,
        configText: recordConfig(r),
        inPlan: false,
        inResult: true,
      });
  }
  return out;
}

const held = (r: HostLocalReservation) => `host-local ${r.ip} (${r.store.dataDir}/${r.store.network})`;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Compares what multinet left on the node (plans, result caches, host-local reservations of the
 * networks it knows) with the sandboxes that exist. Conservative by construction: "leaked" needs
 * evidence that the sandbox is gone (its netns path is gone or no longer a netns mount, or the
 * address was reserved before the last boot); everything else it cannot judge is "unknown". The
 * API server never decides alone: a pod deleted with --force still runs until the kubelet stops
 * it, and a kubeconfig for the wrong cluster would make every pod look gone. `knownGone` carries
 * earlier evidence (gc's second scan, after releasing).
 */
export async function findLeaks(
  sources: LeakSources,
  opts: { knownGone?: ReadonlyMap<string, string> } = {},
): Promise<LeakReport> {
  const known = await readKnown(sources);
  const stores = new Map<string, { store: HostLocalStore; configText: string }>();
  const addStores = (configText: string) => {
    try {
      for (const store of hostLocalStores(parseNetworkConfig(configText)))
        if (!stores.has(storeKey(store))) stores.set(storeKey(store), { store, configText });
    } catch {
      // Not a usable config: it names no store.
    }
  };
  const notes: string[] = [];
  try {
    for (const s of await sources.staticNetworks()) addStores(s.configText);
  } catch (err) {
    notes.push(
      `the default network's config cannot be read (${describeCause(err)}): its host-local store is scanned only if a plan or result cache names it`,
    );
  }
  for (const k of known.values()) for (const a of attachmentsOf(k)) if (a.configText) addStores(a.configText);
  const reservations: HostLocalReservation[] = [];
  for (const { store } of stores.values()) {
    try {
      reservations.push(...(await sources.reservations(store)));
    } catch (err) {
      notes.push(`cannot read host-local's store ${store.dataDir}/${store.network}: ${describeCause(err)}`);
    }
  }
  let runtime: ResultCacheRecord[] = [];
  let runtimeProblem: string | undefined;
  try {
    runtime = await sources.runtimeResults();
  } catch (err) {
    runtimeProblem = describeCause(err);
    notes.push(`cannot read the runtime's result cache: ${runtimeProblem}`);
  }
  const report: LeakReport = {
    findings: [],
    live: [],
    scanned: { containers: known.size, reservations: reservations.length },
    stores: [...stores.values()].map((s) => s.store),
    notes,
    leakedContainers: new Map(),
    leakedNetworks: new Map(),
    leakedReservations: [],
  };
  const judgeNetns = async (netns: string): Promise<NetnsState> =>
    netns === '' ? { state: 'unknown', why: 'no netns path was recorded' } : sources.probeNetns(netns);

  for (const k of known.values()) {
    const verdict = await judgeContainer(k, sources, judgeNetns, opts.knownGone);
    if (verdict.verdict === 'live') {
      report.live.push(k.id);
      continue;
    }
    const pod = identityOf(k);
    const mine = reservations.filter((r) => r.containerId === k.id);
    const attachments = attachmentsOf(k);
    const base = { verdict: verdict.verdict, containerId: k.id, why: verdict.why, ...podField(pod) };
    for (const a of attachments) {
      const here = mine.filter((r) => r.store.network === a.list && r.ifName === a.ifName);
      report.findings.push({
        ...base,
        network: a.network,
        ifName: a.ifName,
        left: [...(a.inPlan ? ['plan'] : []), ...(a.inResult ? ['result cache'] : []), ...here.map(held)],
      });
      if (verdict.verdict === 'leaked' && a.configText) report.leakedNetworks.set(a.list, a.configText);
    }
    if (attachments.length === 0)
      report.findings.push({ ...base, network: '-', ifName: '-', left: k.plan ? ['plan'] : [] });
    // Reservations of this container that no attachment of its plan or cache accounts for.
    for (const r of mine.filter(
      (r) => !attachments.some((a) => a.list === r.store.network && a.ifName === r.ifName),
    )) {
      report.findings.push({ ...base, network: r.store.network, ifName: r.ifName || '?', left: [held(r)] });
      if (verdict.verdict === 'leaked') release(report, r, stores);
    }
    if (verdict.verdict === 'leaked') report.leakedContainers.set(k.id, verdict.why);
  }

  const runtimeById = new Map<string, ResultCacheRecord[]>();
  for (const r of runtime) runtimeById.set(r.containerId, [...(runtimeById.get(r.containerId) ?? []), r]);
  for (const r of reservations) {
    if (r.containerId !== '' && known.has(r.containerId)) continue;
    const verdict = await judgeStray(r, sources, judgeNetns, runtimeById, runtimeProblem, opts.knownGone);
    if (verdict.verdict === 'live') {
      if (!report.live.includes(r.containerId)) report.live.push(r.containerId);
      continue;
    }
    report.findings.push({
      verdict: verdict.verdict,
      containerId: r.containerId || '?',
      network: r.store.network,
      ifName: r.ifName || '?',
      left: [held(r)],
      why: verdict.why,
    });
    if (verdict.verdict === 'leaked') release(report, r, stores);
  }
  return report;
}

function release(
  report: LeakReport,
  r: HostLocalReservation,
  stores: Map<string, { store: HostLocalStore; configText: string }>,
): void {
  const configText = stores.get(storeKey(r.store))!.configText;
  report.leakedReservations.push({ reservation: r, configText });
  report.leakedNetworks.set(r.store.network, configText);
}

async function readKnown(sources: LeakSources): Promise<Map<string, Known>> {
  const known = new Map<string, Known>();
  for (const id of await sources.plans.list()) {
    try {
      const plan = await sources.plans.get(id);
      if (plan) known.set(id, { id, plan, results: [] });
    } catch (err) {
      known.set(id, { id, planProblem: describeCause(err), results: [] });
    }
  }
  for (const r of await sources.results()) {
    const k = known.get(r.containerId) ?? { id: r.containerId, results: [] };
    k.results.push(r);
    known.set(r.containerId, k);
  }
  return known;
}

function identityOf(k: Known): PodIdentity | undefined {
  return k.plan?.pod ?? podIdentityFromArgs(k.plan?.cniArgs ?? k.results[0]?.cniArgs ?? []);
}

function podField(pod: PodIdentity | undefined): { pod?: string } {
  return pod ? { pod: `${pod.namespace}/${pod.name}` } : {};
}

async function judgeContainer(
  k: Known,
  sources: LeakSources,
  judgeNetns: (netns: string) => Promise<NetnsState>,
  knownGone: ReadonlyMap<string, string> | undefined,
): Promise<Verdict> {
  const prior = knownGone?.get(k.id);
  if (prior !== undefined) return { verdict: 'leaked', why: prior };
  if (k.planProblem !== undefined)
    return {
      verdict: 'unknown',
      why: `its plan cache record cannot be read (${k.planProblem}); the runtime's DEL rebuilds what it can, and the file can go by hand once the sandbox is gone`,
    };
  const netns = k.plan?.netns || k.results.find((r) => r.netns !== '')?.netns || '';
  const ns = await judgeNetns(netns);
  const pod = identityOf(k);
  let inApi: boolean | undefined;
  let apiProblem: string | undefined;
  if (sources.podExists && pod)
    try {
      inApi = await sources.podExists(pod);
    } catch (err) {
      apiProblem = describeCause(err);
    }
  const podText = pod ? `pod ${pod.namespace}/${pod.name}${pod.uid ? ` (UID ${pod.uid})` : ''}` : 'the pod';
  if (ns.state === 'present') {
    if (inApi !== false) return { verdict: 'live' };
    return {
      verdict: 'unknown',
      why: `${podText} is gone from the API server, but netns ${netns} still exists: the runtime has not torn the sandbox down yet (run gc again later)`,
    };
  }
  if (ns.state === 'gone')
    return {
      verdict: 'leaked',
      why: inApi === false ? `${ns.why}; ${podText} is gone from the API server too` : ns.why,
    };
  const api =
    inApi === false
      ? `; ${podText} is gone from the API server, which alone is not enough`
      : apiProblem
        ? `; the API server cannot tell (${apiProblem})`
        : '';
  return { verdict: 'unknown', why: `${ns.why}${api}` };
}

async function judgeStray(
  r: HostLocalReservation,
  sources: LeakSources,
  judgeNetns: (netns: string) => Promise<NetnsState>,
  runtimeById: Map<string, ResultCacheRecord[]>,
  runtimeProblem: string | undefined,
  knownGone: ReadonlyMap<string, string> | undefined,
): Promise<Verdict> {
  if (r.problem !== undefined || r.containerId === '')
    return { verdict: 'unknown', why: r.problem ?? 'the reservation names no container' };
  const prior = knownGone?.get(r.containerId);
  if (prior !== undefined) return { verdict: 'leaked', why: prior };
  const none = 'no plan and no result cache names this container';
  const cached = runtimeById.get(r.containerId);
  if (cached) {
    const netns = cached.find((c) => c.netns !== '')?.netns ?? '';
    const ns = await judgeNetns(netns);
    if (ns.state === 'present') return { verdict: 'live' };
    const why = `${none}; the runtime's result cache records netns ${netns || '(none)'} for it: ${ns.why}`;
    return { verdict: ns.state === 'gone' ? 'leaked' : 'unknown', why };
  }
  if (r.ifName === '')
    return {
      verdict: 'unknown',
      why: `${none}, and the file names no interface (written by an old host-local): DEL cannot address it`,
    };
  const boot = sources.bootTimeMs;
  if (boot !== undefined && r.reservedAtMs < boot)
    return {
      verdict: 'leaked',
      why: `${none}, and the address was reserved at ${iso(r.reservedAtMs)}, before the node booted at ${iso(boot)}: no sandbox outlives a reboot`,
    };
  const since =
    boot === undefined
      ? 'the boot time is unknown'
      : `it was reserved at ${iso(r.reservedAtMs)}, after the last boot`;
  const rt = runtimeProblem ? `; the runtime's result cache cannot be read` : '';
  return {
    verdict: 'unknown',
    why: `${none} and ${since}: a sandbox attached without multinet, or one whose cache was lost${rt}`,
  };
}
