import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetworksReadyCondition, PodRef } from '../k8s/cluster-view.ts';
import { writeFileAtomic } from '../host/atomic-file.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem } from '../spec/dns-1123.ts';
import { ManifestClusterView } from './manifest-cluster-view.ts';
import { parseManifestDocuments } from './manifest-documents.ts';

export const STATUS_SUFFIX = '.network-status.json';
const MANIFEST = /\.(ya?ml|json)$/;

/** The status file of a pod: beside the manifests, named after the pod (never a path outside `dir`). */
export function statusFileOf(dir: string, pod: { namespace: string; name: string }): string {
  const problem = dns1123LabelProblem(pod.namespace) ?? dns1123SubdomainProblem(pod.name);
  if (problem) throw new Error(`pod ${JSON.stringify(`${pod.namespace}/${pod.name}`)}: ${problem}`);
  return join(dir, `${pod.namespace}.${pod.name}${STATUS_SUFFIX}`);
}

/**
 * Local mode reads a manifest of at most this size (the node's own files, but one of 5,000 NADs
 * re-read on every ADD grew the daemon to 938 MiB, issue 10 #2): parsing costs about 30 times its
 * size in memory, for a moment. Split bigger sets into several files.
 */
export const LOCAL_MANIFEST_MAX_BYTES = 2 * 1024 * 1024;
/** Changes are read once the directory has been quiet this long (an editor writes in steps). */
export const RELOAD_DEBOUNCE_MS = 200;

/** A manifest file's identity: unchanged identity, unchanged content (no re-parse). */
interface ParsedFile {
  key: string;
  objects: Record<string, unknown>[];
}

/** A manifest, as opposed to our status files and the temporary files of atomic writes. */
function isManifestName(name: string): boolean {
  return MANIFEST.test(name) && !name.endsWith(STATUS_SUFFIX) && !name.startsWith('.');
}

/**
 * Local mode (no Kubernetes): pods, NetworkAttachmentDefinitions and Networks come from a
 * directory of YAML/JSON manifests, re-read when a manifest changes (only the changed files are
 * parsed again; our own status files and temporary files never trigger it); network-status is
 * written atomically to `<namespace>.<pod>.network-status.json` beside them. A manifest that
 * cannot be read is reported through `onProblem` (once per version of the file) and skipped;
 * the rest stays usable.
 */
export class DirectoryClusterView extends ManifestClusterView {
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private parsed = new Map<string, ParsedFile>();
  /** Reloads run one after the other (a slow one must not interleave with the next). */
  private reloading: Promise<void> = Promise.resolve();
  /** Reloads so far (for logs and tests). */
  reloads = 0;

  constructor(
    readonly dir: string,
    private readonly onProblem: (file: string, reason: string) => void = () => {},
  ) {
    super();
  }

  async reload(): Promise<void> {
    this.reloads++;
    const objects: Record<string, unknown>[] = [];
    const next = new Map<string, ParsedFile>();
    const names = (await readdir(this.dir)).filter(isManifestName).sort();
    for (const name of names) {
      const path = join(this.dir, name);
      try {
        const st = await stat(path);
        if (!st.isFile()) continue;
        const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
        const known = this.parsed.get(name);
        if (known?.key === key) {
          next.set(name, known);
          objects.push(...known.objects);
          continue;
        }
        // Remembered even when refused, so that an unchanged bad file is reported once.
        next.set(name, { key, objects: [] });
        if (st.size > LOCAL_MANIFEST_MAX_BYTES)
          throw new Error(`larger than ${LOCAL_MANIFEST_MAX_BYTES} bytes (split it into several files)`);
        const parsed = parseManifestDocuments(await readFile(path, 'utf8'), path);
        next.set(name, { key, objects: parsed });
        objects.push(...parsed);
      } catch (err) {
        this.onProblem(path, err instanceof Error ? err.message : String(err));
      }
    }
    this.parsed = next;
    this.load(objects);
  }

  /** Loads once, then follows changes of manifests (debounced) until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    await this.reload();
    this.watcher = watch(this.dir, { signal }, (_event, file) => {
      // No name (some platforms): reload, as the change may be a manifest's.
      if (file && !isManifestName(String(file))) return;
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(
        () =>
          void (this.reloading = this.reloading.then(() =>
            this.reload().catch((e: unknown) => this.onProblem(this.dir, String(e))),
          )),
        RELOAD_DEBOUNCE_MS,
      );
    });
    this.watcher.on('error', () => undefined);
    signal.addEventListener('abort', () => clearTimeout(this.reloadTimer), { once: true });
  }

  override async writeNetworkStatus(
    pod: PodRef,
    statusJson: string,
    signal?: AbortSignal,
    ready?: NetworksReadyCondition,
  ): Promise<void> {
    await super.writeNetworkStatus(pod, statusJson, signal, ready);
    await writeFileAtomic(statusFileOf(this.dir, pod), `${statusJson}\n`, 0o644);
  }
}
