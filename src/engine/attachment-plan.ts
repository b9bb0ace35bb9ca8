import { createHash } from 'node:crypto';
import type { PodIdentity } from './pod-identity.ts';

/**
 * Everything needed to attach and, later, detach a pod's networks, decided before any plugin runs.
 * It is cached (crash-safe, checksummed) so that DEL needs nothing else: no API server, no NAD.
 */
export interface PlannedAttachment {
  /** Status name: `namespace/name` for a NAD, the CNI config name for a file-based default network. */
  network: string;
  ifName: string;
  isDefault: boolean;
  /** The delegate configuration exactly as the delegates receive it (after cni-args injection). */
  configText: string;
  /** Capability args offered to this attachment's plugins (only declared ones are injected). */
  capabilityArgs: Record<string, unknown>;
  /** Present when the pod asked for this attachment to carry the default route (NPWG `default-route`). */
  defaultRoute?: string[];
}

export interface AttachmentPlan {
  pod: PodIdentity | undefined;
  containerId: string;
  netns: string;
  /** CNI_ARGS passed through to every delegate, as the runtime sent them. */
  cniArgs: [string, string][];
  attachments: PlannedAttachment[];
}

const KIND = 'multinetPlanV1';

/** Serialises a plan with a checksum, so a torn or edited cache file is detected rather than trusted. */
export function toPlanRecord(plan: AttachmentPlan): string {
  const body = JSON.stringify(plan);
  const checksum = createHash('sha256').update(body).digest('hex');
  return JSON.stringify({ kind: KIND, checksum, body });
}

export class PlanRecordError extends Error {
  constructor(reason: string) {
    super(`plan cache record: ${reason}`);
    this.name = 'PlanRecordError';
  }
}

export function fromPlanRecord(text: string): AttachmentPlan {
  let outer: unknown;
  try {
    outer = JSON.parse(text);
  } catch {
    throw new PlanRecordError('not JSON (truncated or corrupt)');
  }
  if (typeof outer !== 'object' || outer === null) throw new PlanRecordError('not an object');
  const rec = outer as { kind?: unknown; checksum?: unknown; body?: unknown };
  if (rec.kind !== KIND) throw new PlanRecordError('unknown kind (not a plan record)');
  if (typeof rec.body !== 'string' || typeof rec.checksum !== 'string')
    throw new PlanRecordError('missing body');
  const sum = createHash('sha256').update(rec.body).digest('hex');
  if (sum !== rec.checksum) throw new PlanRecordError('checksum mismatch (corrupt)');
  const plan = JSON.parse(rec.body) as AttachmentPlan;
  if (!Array.isArray(plan.attachments) || typeof plan.containerId !== 'string')
    throw new PlanRecordError('body is not a plan');
  return plan;
}

/** Where plans live between ADD and DEL. */
export interface PlanStore {
  get(containerId: string): Promise<AttachmentPlan | undefined>;
  put(plan: AttachmentPlan): Promise<void>;
  delete(containerId: string): Promise<void>;
  list(): Promise<string[]>;
}
