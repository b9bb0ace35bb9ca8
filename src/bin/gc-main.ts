/**
 * Composition root of `multinet gc [--dry-run]`: reads the node's multinet config, builds the
 * engine's real adapters (the same DEL and GC as the daemon) and the leak scan's readers, takes
 * the thin-mode container locks of what it releases, and runs the command.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from '../cli/run-cli.ts';
import { COMMAND_USAGE } from '../cli/command-usage.ts';
import { GC_EXIT, runGc } from '../cli/gc-command.ts';
import { readNodeEngineConfig } from '../cli/node-engine-config.ts';
import { describeCause } from '../engine/engine-error.ts';
import { findLeaks } from '../engine/find-leaks.ts';
import type { LeakSources } from '../engine/leak-sources.ts';
import { readPodForDel } from '../engine/lookup-pod.ts';
import { releaseLeaks } from '../engine/release-leaks.ts';
import { NetworkResolver } from '../engine/resolve-networks.ts';
import { readBootTimeMs } from '../host/boot-time.ts';
import type { HeldContainerLock } from '../host/file-container-lock.ts';
import { FileResultCache } from '../host/file-result-cache.ts';
import { readHostLocalReservations } from '../host/host-local-reservation-reader.ts';
import { probeNetns } from '../host/nsfs-netns-probe.ts';
import { readResultRecords } from '../host/read-result-records.ts';
import { stderrLogger } from '../host/stderr-logger.ts';
import { buildEngineDeps } from './engine-deps.ts';

export async function runGcMain(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      'dry-run': { type: 'boolean', default: false },
      config: { type: 'string', short: 'c' },
      kubeconfig: { type: 'string' },
      'runtime-cache-dir': { type: 'string', default: '/var/lib/cni' },
      output: { type: 'string', short: 'o' },
    },
    allowPositionals: true,
  });
  if (!values.config || positionals.length > 0 || (values.output !== undefined && values.output !== 'json')) {
    io.stderr(COMMAND_USAGE['gc']!);
    return GC_EXIT.usage;
  }
  let loaded;
  try {
    loaded = await readNodeEngineConfig(values.config);
  } catch (err) {
    io.stderr(`multinet gc: ${values.config}: ${describeCause(err)}\n`);
    return GC_EXIT.failed;
  }
  const config = {
    ...loaded.config,
    adapters: { ...loaded.config.adapters, ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}) },
  };
  // Delegate failures and the engine's warnings go to stderr; the report goes to stdout.
  const log = stderrLogger('warn', { component: 'multinet-gc' });
  const deps = buildEngineDeps(config, io.env, log);
  const results = new FileResultCache(config.adapters.cacheDir);
  const bootTimeMs = await readBootTimeMs();
  const cluster = deps.cluster;
  const sources: LeakSources = {
    plans: deps.plans,
    results: () => results.list(),
    runtimeResults: () => readResultRecords(join(values['runtime-cache-dir'], 'results')),
    reservations: readHostLocalReservations,
    probeNetns,
    ...(cluster
      ? { podExists: async (pod) => (await readPodForDel({ ...deps, cluster }, pod)) !== undefined }
      : {}),
    staticNetworks: async () => {
      const resolver = new NetworkResolver(deps, 'gc');
      return [await resolver.defaultNetwork(undefined), ...(await resolver.configuredNetworks(undefined))];
    },
    bootTimeMs,
  };
  const cniPath = [...config.engine.binDirs];
  try {
    return await runGc({
      dryRun: values['dry-run'],
      json: values.output === 'json',
      out: io.stdout,
      scan: async (knownGone) => {
        const report = await findLeaks(sources, knownGone ? { knownGone } : {});
        report.notes.unshift(...loaded.notes);
        return report;
      },
      release: async (report) => {
        // Thin mode's per-container locks: a runtime's DEL of the same container waits for us.
        const locks: HeldContainerLock[] = [];
        const ids = new Set([
          ...report.leakedContainers.keys(),
          ...report.leakedReservations.map((r) => r.reservation.containerId),
        ]);
        try {
          if (deps.lockContainer) for (const id of ids) locks.push(await deps.lockContainer(id));
          return await releaseLeaks(deps, sources, report, cniPath, io.signal);
        } finally {
          for (const l of locks) await l.release({ remove: true });
        }
      },
    });
  } catch (err) {
    io.stderr(`multinet gc: ${describeCause(err)}\n`);
    return GC_EXIT.failed;
  } finally {
    deps.close();
  }
}
