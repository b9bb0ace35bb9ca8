import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AttachmentPlan, PlanStore } from '../engine/attachment-plan.ts';
import { fromPlanRecord, toPlanRecord } from '../engine/attachment-plan.ts';
import { removeInterruptedWrites, writeFileAtomic } from './atomic-file.ts';
import { ensureDir } from './ensure-dir.ts';

const SAFE_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Plans on disk, one file per container under `<cacheDir>/plans/`, root-only (dir 0700, file 0600). */
export class FilePlanStore implements PlanStore {
  private readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, 'plans');
  }

  private path(containerId: string): string {
    // The runtime validated the ID, but it names a file: refuse anything path-like.
    if (!SAFE_ID.test(containerId) || containerId.length > 256)
      throw new Error(`invalid container ID "${containerId.slice(0, 80)}"`);
    return join(this.dir, containerId);
  }

  async get(containerId: string): Promise<AttachmentPlan | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(containerId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return fromPlanRecord(text);
  }

  /** Removes temporary files a crash left behind (see removeInterruptedWrites for `olderThanMs`). */
  removeInterruptedWrites(olderThanMs?: number): Promise<number> {
    return removeInterruptedWrites(this.dir, olderThanMs);
  }

  async put(plan: AttachmentPlan): Promise<void> {
    await ensureDir(this.dir, 0o700);
    await writeFileAtomic(this.path(plan.containerId), toPlanRecord(plan), 0o600);
  }

  async delete(containerId: string): Promise<void> {
    await rm(this.path(containerId), { force: true });
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => SAFE_ID.test(n) && !n.includes('.tmp')).sort();
    } catch {
      return [];
    }
  }
}
