import { createHash } from 'node:crypto';
import * as v from 'valibot';
import type { AttachmentPlan, PlannedAttachment } from '../engine/attachment-plan.ts';

/**
 * The plan cache's file format (FilePlanStore): the plan as JSON inside a checksummed envelope.
 * It is the store's business, not the engine's: the engine hands plans to a PlanStore and never
 * sees bytes, and a memory store needs no format at all.
 */

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
  let body: unknown;
  try {
    body = JSON.parse(rec.body);
  } catch {
    throw new PlanRecordError('body is not JSON');
  }
  const checked = v.safeParse(PLAN, body);
  if (!checked.success) {
    const issue = checked.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    throw new PlanRecordError(`body is not a plan: ${path ? `${path}: ` : ''}${issue.message}`);
  }
  // A plan of a call without a pod has no `pod` key in JSON.
  return { ...checked.output, pod: checked.output.pod };
}

/*
 * The plan as DEL, CHECK, GC and hot-plug trust it. The checksum only says the file is the one
 * written; the schema says the record has the shape the code reads (a record from another
 * version, or one written by hand, is refused by field rather than crashing a DEL on it).
 * Loose objects: a field a newer multinet added is kept for it, not dropped.
 */
const text = v.string();
const ATTACHMENT = v.looseObject({
  network: text,
  ifName: text,
  isDefault: v.boolean(),
  configText: text,
  capabilityArgs: v.custom<Record<string, unknown>>(
    (x) => typeof x === 'object' && x !== null && !Array.isArray(x),
  ),
  defaultRoute: v.optional(v.array(text)),
  resourceName: v.optional(text),
  deviceId: v.optional(text),
  draDevice: v.optional(
    v.looseObject({ driver: text, pool: text, device: text, claimNamespace: text, claimName: text }),
  ),
  deviceInfoFile: v.optional(text),
  selection: v.optional(text),
  pending: v.optional(v.literal(true)),
}) satisfies v.GenericSchema<unknown, PlannedAttachment>;

const PLAN = v.looseObject({
  pod: v.optional(v.looseObject({ namespace: text, name: text, uid: text })),
  containerId: text,
  netns: text,
  cniArgs: v.array(v.tuple([text, text])),
  attachments: v.array(ATTACHMENT),
  ifNames: v.optional(v.array(text)),
});
