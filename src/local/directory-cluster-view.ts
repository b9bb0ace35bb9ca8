import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PodRef } from '../k8s/cluster-view.ts';
import { writeFileAtomic } from '../host/atomic-file.ts';
import { ManifestClusterView } from './manifest-cluster-view.ts';
import { MANIFEST_MAX_BYTES, parseManifestDocuments } from './manifest-documents.ts';

export const STATUS_SUFFIX = '.network-status.json';
const MANIFEST = /\.(ya?ml|json)$/;

/** The status file of a pod: beside the manifests, named after the pod. */
export function statusFileOf(dir: string, pod: { namespace: string; name: string }): string {
  return join(dir, `${pod.namespace}.${pod.name}${STATUS_SUFFIX}`);
}

/**
 * Local mode (no Kubernetes): pods, NetworkAttachmentDefinitions and Networks come from a
 * directory of YAML/JSON manifests, re-read when it changes; network-status is written
 * atomically to `<namespace>.<pod>.network-status.json` beside them. A manifest that cannot be
 * read is reported through `onProblem` and skipped; the rest stays usable.
 */
export class DirectoryClusterView extends ManifestClusterView {
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    private readonly onProblem: (file: string, reason: string) => void = () => {},
  ) {
    super();
  }

  async reload(): Promise<void> {
    const objects: Record<string, unknown>[] = [];
    const names = (await readdir(this.dir))
      .filter((n) => MANIFEST.test(n) && !n.endsWith(STATUS_SUFFIX))
      .sort();
    for (const name of names) {
      const path = join(this.dir, name);
      try {
        const st = await stat(path);
        if (!st.isFile()) continue;
        if (st.size > MANIFEST_MAX_BYTES) throw new Error(`larger than ${MANIFEST_MAX_BYTES} bytes`);
        objects.push(...parseManifestDocuments(await readFile(path, 'utf8'), path));
      } catch (err) {
        this.onProblem(path, err instanceof Error ? err.message : String(err));
      }
    }
    this.load(objects);
  }

  /** Loads once, then follows changes (debounced) until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    await this.reload();
    this.watcher = watch(this.dir, { signal }, (_event, file) => {
      if (file && String(file).endsWith(STATUS_SUFFIX)) return;
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(
        () => void this.reload().catch((e: unknown) => this.onProblem(this.dir, String(e))),
        50,
      );
    });
    this.watcher.on('error', () => undefined);
    signal.addEventListener('abort', () => clearTimeout(this.reloadTimer), { once: true });
  }

  override async writeNetworkStatus(pod: PodRef, statusJson: string): Promise<void> {
    await super.writeNetworkStatus(pod, statusJson);
    await writeFileAtomic(statusFileOf(this.dir, pod), `${statusJson}\n`, 0o644);
  }
}
