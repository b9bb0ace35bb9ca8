import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AttachmentPlan, PlanStore } from '../engine/attachment-plan.ts';
import { removeInterruptedWrites, writeFileAtomic } from './atomic-file.ts';
import { fromPlanRecord, toPlanRecord } from './plan-record.ts';
import { checkPrivateDir, ensurePrivateDir } from './private-dir.ts';
import { readFileNoFollow } from './read-file-no-follow.ts';

const SAFE_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * Plans on disk, one file per container under `<cacheDir>/plans/`, root-only (dir 0700, file
 * 0600). Every operation first checks that root alone controls the directories (a plan is
 * executed as root by the next DEL) and files are read without following symlinks.
 */
export class FilePlanStore implements PlanStore {
  private readonly dir: string;
  private readonly cacheDir: string;
  private readonly uid: number;

  constructor(cacheDir: string, opts: { uid?: number } = {}) {
    this.cacheDir = cacheDir;
    this.dir = join(cacheDir, 'plans');
    this.uid = opts.uid ?? process.geteuid?.() ?? 0;
  }

  /** Before a write: creates what is missing, then checks (host/private-dir.ts). */
  private async ensure(): Promise<void> {
    await ensurePrivateDir(this.cacheDir, this.uid, 'cache directory');
    await ensurePrivateDir(this.dir, this.uid, 'plan cache directory');
  }

  /** Before a read: checks what exists; false when there is nothing to read (nothing is created). */
  private async readable(): Promise<boolean> {
    if (!(await checkPrivateDir(this.cacheDir, this.uid, 'cache directory'))) return false;
    return checkPrivateDir(this.dir, this.uid, 'plan cache directory');
  }

  private path(containerId: string): string {
    // The runtime validated the ID, but it names a file: refuse anything path-like.
    if (!SAFE_ID.test(containerId) || containerId.length > 256)
      throw new Error(`invalid container ID "${containerId.slice(0, 80)}"`);
    return join(this.dir, containerId);
  }

  async get(containerId: string): Promise<AttachmentPlan | undefined> {
    const path = this.path(containerId);
    if (!(await this.readable())) return undefined;
    const text = await readFileNoFollow(path);
    return text === undefined ? undefined : fromPlanRecord(text);
  }

  /**
   * Removes temporary files a crash left behind (see removeInterruptedWrites for `olderThanMs`);
   * those of `containerId`, whose lock the caller holds, go whatever their age.
   */
  async removeInterruptedWrites(olderThanMs?: number, containerId?: string): Promise<number> {
    if (!(await this.readable())) return 0;
    return removeInterruptedWrites(
      this.dir,
      olderThanMs,
      containerId === undefined ? undefined : (target) => target === containerId,
    );
  }

  async put(plan: AttachmentPlan): Promise<void> {
    const path = this.path(plan.containerId);
    await this.ensure();
    // Durable (fsync of the file and the directory): DEL after a crash or a power loss runs from it.
    await writeFileAtomic(path, toPlanRecord(plan), 0o600);
  }

  async delete(containerId: string): Promise<void> {
    const path = this.path(containerId);
    if (!(await this.readable())) return;
    await rm(path, { force: true });
  }

  async list(): Promise<string[]> {
    if (!(await this.readable())) return [];
    try {
      return (await readdir(this.dir)).filter((n) => SAFE_ID.test(n) && !n.includes('.tmp')).sort();
    } catch {
      return [];
    }
  }
}
