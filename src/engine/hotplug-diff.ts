import type { NetworkSelectionElement } from '../spec/network-selection-element.ts';
import type { AttachmentPlan, PlannedAttachment } from './attachment-plan.ts';
import { selectionKey } from './selection-key.ts';

/** One element of the edited annotation that the sandbox does not have yet. */
export interface HotplugAddition {
  selection: NetworkSelectionElement;
  /** Its selectionKey(), as the plan will record it. */
  key: string;
  /** `namespace/name`, as network-status and Events name it. */
  network: string;
}

/** What an edit of the pod's networks annotation asks of a running sandbox (docs/hotplug.md). */
export interface HotplugDiff {
  /** Attachments of the plan that an element of the annotation still asks for. */
  keep: PlannedAttachment[];
  /**
   * Attachments the annotation no longer asks for, in the plan's order (detached in reverse).
   * An attachment whose hot-plug never finished (`pending`, a crash mid-plug) is always here.
   */
  remove: PlannedAttachment[];
  /** Elements no attachment stands for, in annotation order. */
  add: HotplugAddition[];
}

/**
 * Pure: matches the annotation's elements with the plan's annotation-selected attachments by
 * selectionKey, each attachment at most once and in order (`a,a` is two attachments of `a`).
 * The default network and `defaultNetworks` attachments are not the annotation's: never touched.
 */
export function diffSelections(
  plan: AttachmentPlan,
  desired: readonly NetworkSelectionElement[],
): HotplugDiff {
  const selected = plan.attachments.filter((a) => !a.isDefault && a.selection !== undefined);
  const unmatched = selected.filter((a) => !a.pending);
  const keep: PlannedAttachment[] = [];
  const add: HotplugAddition[] = [];
  for (const selection of desired) {
    const key = selectionKey(selection);
    const i = unmatched.findIndex((a) => a.selection === key);
    if (i >= 0) keep.push(unmatched.splice(i, 1)[0]!);
    else add.push({ selection, key, network: `${selection.namespace}/${selection.name}` });
  }
  const remove = selected.filter((a) => !keep.includes(a));
  return { keep, remove, add };
}

/** An interface name for each addition, or why that addition cannot have the one it asks for. */
export type HotplugName = { ifName: string } | { problem: string };

/**
 * Pure: interface names for hot-plugged networks. A requested `interface` is used when no
 * attachment that stays (or an earlier addition) has it; a generated one is the lowest
 * `net<N>` (N >= 1) that the sandbox never had (`everUsed`, the plan's record), that no
 * attachment has and that no addition of this edit requests. So names are deterministic and an
 * interface name is never generated twice for one sandbox.
 */
export function hotplugInterfaceNames(
  everUsed: readonly string[],
  inUse: ReadonlyMap<string, string>,
  additions: readonly { selection: NetworkSelectionElement; network: string }[],
): HotplugName[] {
  const owner = new Map(inUse);
  const requested = new Set(additions.flatMap((a) => (a.selection.interface ? [a.selection.interface] : [])));
  const never = new Set([...everUsed, ...inUse.keys(), ...requested]);
  let next = 1;
  return additions.map((a) => {
    const wanted = a.selection.interface;
    if (wanted !== undefined) {
      const taken = owner.get(wanted);
      if (taken !== undefined)
        return {
          problem: `interface name "${wanted}" is already used by ${taken}; request a different "interface"`,
        };
      owner.set(wanted, `network ${a.network}`);
      return { ifName: wanted };
    }
    while (never.has(`net${next}`)) next++;
    const ifName = `net${next}`;
    never.add(ifName);
    owner.set(ifName, `network ${a.network}`);
    return { ifName };
  });
}
