import { parseNetworkConfig, type NetworkConfigList } from '../cni/network-config.ts';
import type { ValidAttachment } from '../cni/valid-attachments.ts';
import type { AttachmentPlan } from './attachment-plan.ts';
import { collectGarbage } from './collect-garbage.ts';
import type { EngineDeps } from './engine-deps.ts';
import type { LeakReport } from './find-leaks.ts';
import type { HostLocalReservation, LeakSources } from './leak-sources.ts';
import { deleteAttachments } from './run-attachments.ts';

const reservationKey = (r: HostLocalReservation) => `${r.store.dataDir}\0${r.store.network}\0${r.ip}`;

/**
 * Everything on the node that is not leaked, read now: the attachments of every plan and result
 * cache (multinet's and the runtime's) and every host-local reservation, except the leaked ones.
 * A source that cannot be read throws: GC with an incomplete list would release what is in use.
 */
export async function validAttachmentsNow(
  sources: LeakSources,
  report: LeakReport,
): Promise<ValidAttachment[]> {
  const leaked = report.leakedContainers;
  const strays = new Set(report.leakedReservations.map((r) => reservationKey(r.reservation)));
  const out = new Map<string, ValidAttachment>();
  const add = (containerId: string, ifName: string) => {
    if (containerId !== '' && !leaked.has(containerId))
      out.set(`${containerId}\0${ifName}`, { containerId, ifName });
  };
  for (const id of await sources.plans.list()) {
    if (leaked.has(id)) continue;
    const plan = await sources.plans.get(id).catch(() => undefined);
    for (const att of plan?.attachments ?? []) add(id, att.ifName);
  }
  for (const r of await sources.results()) add(r.containerId, r.ifName);
  for (const r of await sources.runtimeResults()) add(r.containerId, r.ifName);
  for (const store of report.stores)
    for (const r of await sources.reservations(store))
      if (!strays.has(reservationKey(r))) add(r.containerId, r.ifName);
  return [...out.values()];
}

/**
 * Leaked containers that only the result cache remembers (their plan is lost): DEL each cached
 * attachment with the config and arguments it was attached with, as DEL does without a plan.
 */
async function releaseCachedOnly(
  deps: EngineDeps,
  sources: LeakSources,
  report: LeakReport,
  cniPath: string[],
  signal?: AbortSignal,
): Promise<string[]> {
  const planned = new Set(await sources.plans.list());
  const byContainer = new Map<string, AttachmentPlan>();
  for (const r of await sources.results()) {
    if (!report.leakedContainers.has(r.containerId) || planned.has(r.containerId) || r.config === '')
      continue;
    const plan = byContainer.get(r.containerId) ?? {
      pod: undefined,
      containerId: r.containerId,
      netns: '',
      cniArgs: r.cniArgs,
      attachments: [],
    };
    plan.attachments.push({
      network: r.networkName,
      ifName: r.ifName,
      isDefault: false,
      configText: Buffer.from(r.config, 'base64').toString('utf8'),
      capabilityArgs: r.capabilityArgs,
    });
    byContainer.set(r.containerId, plan);
  }
  const errors: string[] = [];
  for (const plan of byContainer.values()) {
    const failures = await deleteAttachments(deps, plan, plan.attachments, '', cniPath, signal);
    errors.push(...failures.map((f) => `${plan.containerId} ${f.network} (${f.ifName}): ${f.error}`));
  }
  return errors;
}

/**
 * Releases what `findLeaks` found leaked, with the engine's own DEL and GC: each leaked
 * container only the result cache remembers is DELed from it; the runtime's GC
 * path (collectGarbage) DELs every leaked plan and sends GC (CNI 1.1) to the networks they use
 * with everything else as `cni.dev/valid-attachments`, read again right before each network;
 * then each reservation nothing else accounts for is DELed with its network's config, if the
 * file still names the same attachment. Returns the errors; a second scan tells what is left.
 */
export async function releaseLeaks(
  deps: EngineDeps,
  sources: LeakSources,
  report: LeakReport,
  cniPath: string[],
  signal?: AbortSignal,
): Promise<string[]> {
  if (report.leakedContainers.size === 0 && report.leakedReservations.length === 0) return [];
  const extraNetworks: NetworkConfigList[] = [];
  for (const text of report.leakedNetworks.values()) {
    try {
      extraNetworks.push(parseNetworkConfig(text));
    } catch {
      // An unusable config cannot be sent GC; its DEL reports the same problem.
    }
  }
  const errors = await releaseCachedOnly(deps, sources, report, cniPath, signal);
  errors.push(
    ...(await collectGarbage(
      deps,
      {
        isStale: (containerId) => report.leakedContainers.has(containerId),
        extraNetworks,
        onlyNetworks: new Set(report.leakedNetworks.keys()),
        validFor: () => validAttachmentsNow(sources, report),
      },
      cniPath,
      signal,
    )),
  );
  for (const { reservation: r, configText } of report.leakedReservations) {
    const now = (await sources.reservations(r.store)).find((x) => x.ip === r.ip);
    // Gone already (the container's DEL or GC released it), or reserved again for someone else.
    if (!now || now.containerId !== r.containerId || now.ifName !== r.ifName) continue;
    const plan: AttachmentPlan = {
      pod: undefined,
      containerId: r.containerId,
      netns: '',
      cniArgs: [],
      attachments: [
        { network: r.store.network, ifName: r.ifName, isDefault: false, configText, capabilityArgs: {} },
      ],
    };
    const failures = await deleteAttachments(deps, plan, plan.attachments, '', cniPath, signal);
    errors.push(...failures.map((f) => `${r.containerId} ${f.network} (host-local ${r.ip}): ${f.error}`));
  }
  return errors;
}
