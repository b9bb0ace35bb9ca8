import type { CniRequest } from '../cni/cni-env.ts';
import { CniError, CniErrorCode } from '../cni/cni-error.ts';
import type { PluginMainOutput } from '../cni/plugin-main.ts';
import { runPluginMain } from '../cni/plugin-main.ts';
import { SUPPORTED_VERSIONS } from '../cni/versions.ts';
import type { MultinetConfig } from '../config/multinet-config.ts';
import { parseMultinetConfig, unknownKeyMessage } from '../config/multinet-config.ts';
import type { EngineDeps } from '../engine/engine-deps.ts';
import { runPodNetworkRequest } from '../engine/engine.ts';
import { NESTED_CALL_ENV, nestedCallMessage } from '../wire/own-plugin-types.ts';
import { multinetPluginObject, toPodNetworkRequest } from '../engine/pod-network-request.ts';
import { toCniError } from '../engine/to-cni-error.ts';
import type { CniResult } from '../cni/result.ts';
import { EngineError, EngineErrorCode } from '../engine/engine-error.ts';
import { podIdentityFromArgs, podLabel } from '../engine/pod-identity.ts';
import type { HeldContainerLock } from '../host/file-container-lock.ts';

/** What thin mode adds to the engine's dependencies (optional: tests may run without them). */
export interface ThinDeps extends EngineDeps {
  close?(): void;
  /** Cross-process, per-container serialisation (thick mode does it inside the daemon). */
  lockContainer?(containerId: string): Promise<HeldContainerLock>;
  /** Sweeps temporary files of interrupted writes older than `olderThanMs`. */
  removeInterruptedWrites?(olderThanMs?: number, containerId?: string): Promise<number>;
}

/** A temporary cache file this old belongs to a writer that died (a write takes milliseconds). */
const STALE_WRITE_MS = 10 * 60_000;

/**
 * Thin mode: the CNI plugin process does the whole job itself. `buildDeps` makes the real
 * adapters from multinet's config (passed in so tests can point them at test directories).
 */
export async function runThinPlugin(
  env: Record<string, string | undefined>,
  stdin: Buffer | string,
  buildDeps: (config: MultinetConfig) => Promise<ThinDeps>,
): Promise<PluginMainOutput> {
  let deps: ThinDeps | undefined;
  const run = async (req: CniRequest): Promise<CniResult | undefined> => {
    // Called by multinet (a NAD naming multinet as a delegate, or as its IPAM): its config came
    // from that caller, not from the node, so nothing in it may be acted on.
    if (env[NESTED_CALL_ENV] !== undefined)
      throw new CniError(
        CniErrorCode.InvalidNetworkConfig,
        'multinet: refusing to run as a delegate',
        nestedCallMessage(env),
      );
    let lock: HeldContainerLock | undefined;
    try {
      if (!deps) {
        const config = parseMultinetConfig(multinetPluginObject(req));
        deps = await buildDeps(config);
        for (const key of config.unknownKeys)
          deps.log.warn({ key }, unknownKeyMessage(key, 'multinet plugin object'));
      }
      // Every call is its own process here: calls for one container (a retried ADD, the DEL
      // after a runtime timeout) must not interleave, as the daemon's in-process locks ensure.
      if (req.containerId !== '' && deps.lockContainer) lock = await lockFor(deps, req);
      // Under the container's lock its own half-written files are surely dead: they go now.
      await deps.removeInterruptedWrites?.(STALE_WRITE_MS, lock ? req.containerId : undefined).catch(() => 0);
      return await runPodNetworkRequest(deps, toPodNetworkRequest(req));
    } catch (err) {
      throw toCniError(err);
    } finally {
      // Removed while still held (a waiter then locks afresh): no lock file outlives its call.
      await lock?.release({ remove: true });
    }
  };
  try {
    return await runPluginMain(env, stdin, {
      supportedVersions: SUPPORTED_VERSIONS,
      about: 'multinet: multi-network CNI meta-plugin (NPWG NetworkAttachmentDefinition standard)',
      add: async (req) => (await run(req))!,
      del: async (req) => void (await run(req)),
      check: async (req) => void (await run(req)),
      gc: async (req) => void (await run(req)),
      status: async (req) => void (await run(req)),
    });
  } finally {
    deps?.close?.();
  }
}

/** The lock port's error when its wait ran out (host/file-container-lock.ts ContainerLockTimeout). */
const isLockTimeout = (err: unknown) => (err as { code?: unknown }).code === 'CONTAINER_LOCK_TIMEOUT';

async function lockFor(deps: ThinDeps, req: CniRequest): Promise<HeldContainerLock> {
  try {
    return await deps.lockContainer!(req.containerId);
  } catch (err) {
    throw new EngineError(
      {
        code: EngineErrorCode.CacheFailed,
        pod: podLabel(podIdentityFromArgs(req.args), req.containerId),
        reason: lockFailure(err),
        retryable: isLockTimeout(err),
        ...(isLockTimeout(err) ? {} : { cniCode: CniErrorCode.IoFailure }),
      },
      { cause: err },
    );
  }
}

function lockFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (isLockTimeout(err)) return `${message}; try again later`;
  // A cache directory others could write to: said as the plan and result caches say it.
  if ((err as { code?: unknown }).code === 'UNTRUSTED_DIRECTORY') return message;
  return `cannot lock the container in the cache directory: ${message}`;
}
