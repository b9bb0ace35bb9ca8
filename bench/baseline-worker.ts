/**
 * The baseline's delegate runner: a long-lived process started inside the node namespace, so it
 * execs the delegate plugins directly (no meta-plugin, no nsenter per plugin), the way a runtime
 * runs a network list through libcni. One JSON request per stdin line, one answer per stdout
 * line; the time is measured around the delegates only.
 */
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { NetworkListRunner } from '../src/cni/network-list-runner.ts';
import { parseNetworkConfig } from '../src/cni/network-config.ts';
import { ChildProcessRunner } from '../src/host/child-process-runner.ts';
import { FileResultCache } from '../src/host/file-result-cache.ts';
import { FsPluginLocator } from '../src/host/fs-plugin-locator.ts';

export interface BaselineRequest {
  id: number;
  command: 'ADD' | 'DEL';
  containerId: string;
  netns: string;
  args: [string, string][];
  /** In attachment order (the default network first); DEL runs them in reverse. */
  delegates: { ifName: string; config: string }[];
}

export interface BaselineAnswer {
  id: number;
  ok: boolean;
  ms: number;
  error?: string;
}

const [cacheDir, pluginDir] = process.argv.slice(2);
const runner = new NetworkListRunner({
  runner: new ChildProcessRunner(),
  locator: new FsPluginLocator(),
  cache: new FileResultCache(cacheDir!),
  timeoutMs: 60_000,
  baseEnv: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
  negotiateVersions: false,
});

async function serve(req: BaselineRequest): Promise<BaselineAnswer> {
  const t0 = performance.now();
  try {
    const order = req.command === 'ADD' ? req.delegates : [...req.delegates].reverse();
    for (const d of order) {
      const list = parseNetworkConfig(d.config);
      const rt = {
        containerId: req.containerId,
        netns: req.netns,
        ifName: d.ifName,
        args: req.args,
        capabilityArgs: {},
        cniPath: [pluginDir!],
      };
      if (req.command === 'ADD') await runner.add(list, rt);
      else await runner.del(list, rt);
    }
    return { id: req.id, ok: true, ms: performance.now() - t0 };
  } catch (err) {
    return { id: req.id, ok: false, ms: performance.now() - t0, error: String(err).slice(0, 600) };
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  void serve(JSON.parse(line) as BaselineRequest).then((a) => process.stdout.write(`${JSON.stringify(a)}\n`));
});
process.stdout.write('ready\n');
