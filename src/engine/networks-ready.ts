import type { NetworksReadyCondition } from '../k8s/cluster-view.ts';

/** The reasons of the NetworksReady condition (docs/readiness.md). */
export const NetworksReadyReason = {
  /** True: every attachment of the pod's sandbox was made (and, when checked, passes CHECK). */
  Attached: 'NetworksAttached',
  /** False: an ADD failed, so at least one requested attachment does not exist. */
  Missing: 'NetworkMissing',
  /** False: an attachment exists but its delegates' CHECK fails (drift). */
  Degraded: 'NetworkDegraded',
  /** False: an edit of the running pod's networks annotation could not be applied in full (docs/hotplug.md). */
  HotplugFailed: 'HotplugFailed',
  /** False: an edit of the running pod's networks annotation was refused; nothing of it was applied. */
  HotplugRefused: 'HotplugRefused',
} as const;

/** A condition message stays readable in `kubectl describe` and small in the daemon's pod cache. */
const MAX_MESSAGE = 1024;

export interface AttachmentRef {
  network: string;
  ifName: string;
}

export interface AttachmentFailure extends AttachmentRef {
  error: string;
}

/** RFC 3339 with whole seconds, as the API server stores condition times. */
export function conditionTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function bounded(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 3)}...`;
}

function describe(att: AttachmentRef): string {
  return `${att.network} (${att.ifName})`;
}

/**
 * True for a sandbox whose attachments are all up. The message depends only on the attachments,
 * so the periodic CHECK can tell "already written" from "needs a write" by comparing it.
 */
export function attachedCondition(attachments: AttachmentRef[]): NetworksReadyCondition {
  const n = attachments.length;
  return {
    status: 'True',
    reason: NetworksReadyReason.Attached,
    message: bounded(
      `${n} ${n === 1 ? 'network is' : 'networks are'} attached: ${attachments.map(describe).join(', ')}`,
    ),
  };
}

/** False after a failed ADD: names the network that could not be attached, when one is known. */
export function missingCondition(network: string | undefined, cause: string): NetworksReadyCondition {
  return {
    status: 'False',
    reason: NetworksReadyReason.Missing,
    message: bounded(
      network
        ? `network ${network} is not attached: ${cause}`
        : `the pod's networks are not attached: ${cause}`,
    ),
  };
}

/** False while CHECK fails for some attachments: each one named with its plugin's error. */
export function degradedCondition(failures: AttachmentFailure[]): NetworksReadyCondition {
  const parts = failures.map((f) => `${describe(f)}: ${f.error}`);
  return {
    status: 'False',
    reason: NetworksReadyReason.Degraded,
    message: bounded(`CHECK fails for ${failures.length === 1 ? 'network' : 'networks'} ${parts.join('; ')}`),
  };
}

/** Same status, reason and message: writing `b` over `a` would change nothing but the time. */
export function sameCondition(a: NetworksReadyCondition | undefined, b: NetworksReadyCondition): boolean {
  return a !== undefined && a.status === b.status && a.reason === b.reason && a.message === b.message;
}

/** False after a hot-plug pass that could not attach or detach some networks: each one named with why. */
export function hotplugFailedCondition(failures: AttachmentFailure[]): NetworksReadyCondition {
  return {
    status: 'False',
    reason: NetworksReadyReason.HotplugFailed,
    message: bounded(`hot-plug failed: ${failures.map((f) => `${describe(f)}: ${f.error}`).join('; ')}`),
  };
}

/** False when an edit of the networks annotation was refused as a whole; the pod keeps what it has. */
export function hotplugRefusedCondition(reason: string): NetworksReadyCondition {
  return {
    status: 'False',
    reason: NetworksReadyReason.HotplugRefused,
    message: bounded(`the edit of the networks annotation was not applied: ${reason}`),
  };
}
