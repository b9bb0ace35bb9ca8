import { createHash } from 'node:crypto';
import type { AttachmentPlan } from '../engine/attachment-plan.ts';

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
  const plan = JSON.parse(rec.body) as AttachmentPlan;
  if (!Array.isArray(plan.attachments) || typeof plan.containerId !== 'string')
    throw new PlanRecordError('body is not a plan');
  return plan;
}
