import { createHash } from 'node:crypto';
import type { FSWatcher } from 'node:fs';
import { watch } from 'node:fs';
import { access, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log/logger.ts';
import { buildMultinetConflist, formatConflist } from '../config/build-multinet-conflist.ts';
import type { AutoConfigOptions } from '../config/daemon-config.ts';
import type { ConfDirEntry, DefaultNetworkState, PrimaryConfig } from '../config/primary-config.ts';
import { selectPrimaryConfig } from '../config/primary-config.ts';
import { writeFileAtomic } from './atomic-file.ts';

export interface AutoConfigDeps extends AutoConfigOptions {
  socketPath: string;
  /** Optional file that must exist too before we point the runtime at the primary. */
  readinessIndicatorFile: string;
  log: Logger;
  onChange?(state: DefaultNetworkState): void;
}

const MAX_CONF_BYTES = 1 << 20;

/** The files of a conf dir as read (bounded in size; unreadable ones with no content). */
export async function readConfDirEntries(dir: string): Promise<ConfDirEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return Promise.all(
    names.map(async (name): Promise<ConfDirEntry> => {
      const p = join(dir, name);
      try {
        const st = await stat(p);
        if (!st.isFile() || st.size > MAX_CONF_BYTES) return { name, content: undefined };
        return { name, content: await readFile(p, 'utf8') };
      } catch {
        return { name, content: undefined };
      }
    }),
  );
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * Automatic configuration (the daemon's config watcher; the choice of file is
 * config/primary-config.ts, the file written is config/build-multinet-conflist.ts): finds the primary network's config in `primaryConfDir`, writes
 * `<cniConfDir>/<fileName>` (atomically, only when its content changes) once the primary and the
 * optional readiness indicator exist, and keeps watching (fs.watch plus a periodic rescan as a
 * safety net, since inotify can miss events on some mounts). When the primary goes away our
 * file stays, and `state()` says not ready: the daemon then answers ADD with code 11 instead of
 * delegating to a config that is gone. On stop the file is left in place on purpose: while no
 * daemon listens the shim answers 11, so no pod starts on the wrong network (Multus, which deletes its file on exit, lets pods start on the bare primary network meanwhile).
 */
export class AutoConfig {
  private current: DefaultNetworkState = { ready: false, reason: 'the conf dir has not been scanned yet' };
  private lastPrimary: { name: string; digest: string } | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private watchers: FSWatcher[] = [];
  private watching = false;

  constructor(private readonly deps: AutoConfigDeps) {}

  state(): DefaultNetworkState {
    return this.current;
  }

  get outputPath(): string {
    return join(this.deps.cniConfDir, this.deps.fileName);
  }

  /** Scans once, then watches until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    await this.rescan();
    const interval = setInterval(() => void this.rescan(), this.deps.rescanIntervalMs);
    this.watching = true;
    this.ensureWatchers();
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    clearInterval(interval);
    if (this.timer) clearTimeout(this.timer);
    this.watching = false;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    await this.scanning;
  }

  /** Serialised: a request during a scan schedules exactly one more. */
  rescan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      try {
        do {
          this.again = false;
          await this.scanOnce().catch((err: unknown) =>
            this.deps.log.error(
              { err: err instanceof Error ? err.message : String(err) },
              'auto-config scan failed',
            ),
          );
        } while (this.again);
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.rescan(), 50);
  }

  /** Watches the directories; ones that do not exist yet are retried at each periodic scan. */
  private ensureWatchers(): void {
    const dirs = new Set([this.deps.primaryConfDir, this.deps.cniConfDir]);
    if (this.deps.readinessIndicatorFile) dirs.add(dirname(this.deps.readinessIndicatorFile));
    if (this.watchers.length === dirs.size) return;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, () => this.schedule());
        w.on('error', () => {
          w.close();
          this.watchers = this.watchers.filter((x) => x !== w);
        });
        this.watchers.push(w);
      } catch {
        // Not there yet: the periodic rescan calls us again.
      }
    }
  }

  private async scanOnce(): Promise<void> {
    if (this.watching) this.ensureWatchers();
    const { primaryConfDir, fileName, primaryConfigName, readinessIndicatorFile, log } = this.deps;
    const entries = await readConfDirEntries(primaryConfDir);
    const { primary, skipped } = selectPrimaryConfig(entries, {
      ownFileName: primaryConfDir === this.deps.cniConfDir ? fileName : '',
      ...(primaryConfigName ? { wanted: primaryConfigName } : {}),
    });
    const indicatorMissing =
      readinessIndicatorFile !== '' &&
      !(await access(readinessIndicatorFile).then(
        () => true,
        () => false,
      ));
    if (!primary || indicatorMissing) {
      const reason = !primary
        ? `no primary network config in ${primaryConfDir}${primaryConfigName ? ` named ${primaryConfigName}` : ''}${skipped.length ? ` (skipped: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : ''}`
        : `readiness indicator file ${readinessIndicatorFile} does not exist`;
      if (this.current.ready)
        log.warn(
          { was: this.lastPrimary?.name, reason },
          'default network unavailable: ADD answers code 11 until it is back',
        );
      else if (this.current.reason !== reason) log.warn({ reason }, 'waiting for the primary network config');
      this.lastPrimary = undefined;
      this.setState({ ready: false, reason });
      return;
    }
    const d = digest(primary.content);
    const prev = this.lastPrimary;
    const news =
      !prev || prev.name !== primary.name || prev.digest !== d || !this.current.ready
        ? !prev
          ? 'primary network config found'
          : prev.name !== primary.name
            ? 'primary network config is now another file'
            : prev.digest !== d
              ? 'primary network config changed'
              : 'primary network config back'
        : undefined;
    this.lastPrimary = { name: primary.name, digest: d };
    await this.writeIfChanged(primary);
    this.setState({ ready: true, primary, config: JSON.parse(primary.content) as Record<string, unknown> });
    // Said once it is in use: whoever reads this line finds ADD served with it.
    if (news) {
      log.info(
        {
          file: join(primaryConfDir, primary.name),
          was: prev?.name,
          network: primary.config.name,
          digest: d,
        },
        news,
      );
      if (skipped.length > 0) log.info({ skipped }, 'conf files passed over');
    }
  }

  private async writeIfChanged(primary: PrimaryConfig): Promise<void> {
    const text = formatConflist(
      buildMultinetConflist(primary, {
        networkName: this.deps.networkName,
        socketPath: this.deps.socketPath,
      }),
    );
    const onDisk = await readFile(this.outputPath, 'utf8').catch(() => undefined);
    if (onDisk === text) return;
    // The runtime's conf dir may not exist yet on a fresh node (OpenShift's is created late).
    await mkdir(this.deps.cniConfDir, { recursive: true });
    await writeFileAtomic(this.outputPath, text, 0o600);
    this.deps.log.info(
      { file: this.outputPath, primary: basename(primary.name), replaced: onDisk !== undefined },
      onDisk === undefined ? 'wrote multinet CNI config' : 'rewrote multinet CNI config',
    );
  }

  private setState(next: DefaultNetworkState): void {
    const changed =
      next.ready !== this.current.ready ||
      (next.ready && this.current.ready && next.primary.content !== this.current.primary.content);
    this.current = next;
    if (changed) this.deps.onChange?.(next);
  }
}
