import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';
import { deleteAttachments } from './run-attachments.ts';

/**
 * An ADD for a container that still has a plan means an earlier ADD never finished (e.g. the
 * daemon was killed) and no DEL came. Undo that attempt first so the pod ends up with exactly one
 * set of attachments.
 */
export async function removeStalePlan(
  deps: EngineDeps,
  req: PodNetworkRequest,
  label: string,
  signal?: AbortSignal,
): Promise<void> {
  const stale = await deps.plans.get(req.containerId).catch((err: unknown) => {
    deps.log.warn(
      { containerId: req.containerId, err: describeCause(err) },
      'ignoring unreadable stale plan',
    );
    return undefined;
  });
  if (!stale) return;
  deps.log.warn(
    { containerId: req.containerId, pod: label },
    'found the plan of an unfinished ADD; undoing it first',
  );
  const failures = await deleteAttachments(deps, stale, stale.attachments, req.netns, req.cniPath, signal);
  if (failures.length > 0)
    throw new EngineError({
      code: EngineErrorCode.DeleteIncomplete,
      pod: label,
      network: failures[0]!.network,
      reason: `cannot undo an earlier unfinished ADD: ${failures.map((f) => `${f.network} (${f.ifName}): ${f.error}`).join('; ')}`,
      retryable: true,
    });
  await deps.plans.delete(req.containerId);
}
