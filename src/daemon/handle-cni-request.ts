import * as v from 'valibot';
import type { CniRequest } from '../cni/cni-env.ts';
import { parseCniArgs } from '../cni/cni-env.ts';
import { CniError, CniErrorCode } from '../cni/cni-error.ts';
import { runPluginMain } from '../cni/plugin-main.ts';
import type { CniResult } from '../cni/result.ts';
import { SUPPORTED_VERSIONS } from '../cni/versions.ts';
import type { EngineOptions } from '../config/multinet-config.ts';
import type { EngineDeps } from '../engine/engine-deps.ts';
import { runPodNetworkRequest } from '../engine/engine.ts';
import type { Logger } from '../log/logger.ts';
import { toPodNetworkRequest } from '../engine/pod-network-request.ts';
import { toCniError } from '../engine/to-cni-error.ts';
import type { ConcurrencyLimiter } from './concurrency-limiter.ts';
import type { ContainerLocks } from './container-locks.ts';
import type { RequestAborts } from './request-aborts.ts';
import type { StageTimer, StageTimers } from './stage-timer.ts';
import { FORWARDED_ENV, type DaemonCniAnswer, type DaemonCniRequest } from '../wire/daemon-wire.ts';

/** The engine options for the next request, or why ADD cannot be served now. */
export type EngineConfigState =
  | { ready: true; config: EngineOptions }
  | { ready: false; config: EngineOptions; reason: string };

export interface CniHandlerContext {
  /** Engine adapters; `config` and `log` are replaced per request. */
  deps: EngineDeps;
  engineConfig(): EngineConfigState;
  limiter: ConcurrencyLimiter;
  locks: ContainerLocks;
  log: Logger;
  /** True once shutdown began: new requests are turned away with code 11. */
  draining?(): boolean;
  /**
   * Gives each request its own abort signal (aborted when the shutdown deadline passed): one
   * signal shared by all requests would collect a listener per queued request and per delegate.
   */
  aborts?: RequestAborts;
  observe?(command: string, outcome: 'success' | 'error' | 'rejected', seconds: number): void;
  /** Where each request's time went (the timed ports fill in what happens inside the engine). */
  stages?: StageTimers;
  observeStages?(command: string, timer: StageTimer): void;
  /** Called after an ADD or DEL of a container has released its lock, whatever the outcome (hot-plug). */
  containerDone?(command: 'ADD' | 'DEL', containerId: string, cniArgs: string): void;
  now?(): number;
}

export interface HandlerAnswer {
  status: number;
  json: DaemonCniAnswer;
}

function errorAnswer(status: number, err: CniError): HandlerAnswer {
  return { status, json: { exitCode: 1, stdout: `${JSON.stringify(err.toJSON())}\n` } };
}

const plainObject = (x: unknown): boolean => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The wire body: an object with a string `config` and an `env` object whose CNI_* are strings. */
const REQUEST = v.object({
  config: v.string(),
  env: v.pipe(
    v.custom<Record<string, unknown>>(plainObject),
    v.looseObject(Object.fromEntries(FORWARDED_ENV.map((key) => [key, v.optional(v.string())]))),
  ),
});

/** Validates the wire body (codes as the thin plugin gives them: config 6, variables 4). */
export function parseDaemonCniRequest(body: unknown): DaemonCniRequest {
  const checked = v.safeParse(REQUEST, plainObject(body) ? body : {});
  if (!checked.success) {
    const [where, key] = (checked.issues[0].path ?? []).map((p) => String(p.key));
    if (where !== 'env')
      throw new CniError(CniErrorCode.DecodingFailure, 'daemon request: "config" must be a string');
    if (key === undefined)
      throw new CniError(CniErrorCode.InvalidEnvironment, 'daemon request: "env" must be an object');
    throw new CniError(CniErrorCode.InvalidEnvironment, `daemon request: env ${key} must be a string`);
  }
  const env: Record<string, string> = {};
  for (const key of FORWARDED_ENV) {
    const value = checked.output.env[key];
    if (typeof value === 'string') env[key] = value;
  }
  return { env, config: checked.output.config };
}

/** The pod namespace of a request ("" for node-level calls such as GC and STATUS). */
function fairnessKey(cniArgs: string): string {
  try {
    return parseCniArgs(cniArgs).find(([k]) => k === 'K8S_POD_NAMESPACE')?.[1] ?? '';
  } catch {
    return '';
  }
}

function podFields(args: [string, string][]): Record<string, string> {
  const get = (k: string) => args.find(([key]) => key === k)?.[1];
  const ns = get('K8S_POD_NAMESPACE');
  const name = get('K8S_POD_NAME');
  const uid = get('K8S_POD_UID');
  return { ...(ns && name ? { pod: `${ns}/${name}` } : {}), ...(uid ? { podUid: uid } : {}) };
}

/**
 * One CNI call forwarded by the shim, as a plain async function (the socket server is an
 * adapter around it). Same protocol semantics as the thin plugin (runPluginMain: variable
 * checks, version checks, result conversion, error objects on stdout), then the engine.
 * Precedence: engine options come from the daemon's config (and its live default network);
 * what describes the call (cniVersion, runtimeConfig, GC's valid attachments) reaches the
 * engine in the PodNetworkRequest, decoded from the call's own config.
 */
export async function handleCniRequest(body: unknown, ctx: CniHandlerContext): Promise<HandlerAnswer> {
  const now = ctx.now ?? (() => performance.now());
  const t0 = now();
  let request: DaemonCniRequest;
  try {
    request = parseDaemonCniRequest(body);
  } catch (err) {
    return errorAnswer(400, toCniError(err));
  }
  const command = request.env['CNI_COMMAND'] ?? '';
  if (command === 'VERSION') {
    const out = await runPluginMain(request.env, request.config, versionOnly);
    return { status: 200, json: { exitCode: out.exitCode, stdout: out.stdout } };
  }
  const label = /^[A-Z]{1,8}$/.test(command) ? command : 'invalid';
  if (ctx.draining?.()) {
    ctx.observe?.(label, 'rejected', 0);
    return errorAnswer(
      503,
      new CniError(CniErrorCode.TryAgainLater, 'multinet daemon is shutting down', 'try again later'),
    );
  }
  const aborts = ctx.aborts?.begin();
  const signal = aborts?.signal;
  const queued = now();
  // The runtime's CNI_ARGS name the pod's namespace: requests are shared fairly between namespaces.
  const namespace = fairnessKey(request.env['CNI_ARGS'] ?? '');
  const release = await ctx.limiter.acquire(namespace, signal);
  if (!release) {
    aborts?.end();
    ctx.observe?.(label, 'rejected', 0);
    // Name the namespace's share only when it, not the whole daemon, is what is used up.
    const full = ctx.limiter.inFlight >= ctx.limiter.max && ctx.limiter.queued >= ctx.limiter.maxQueued;
    const own = !full && ctx.limiter.keyFull(namespace);
    ctx.log.warn(
      { command, containerId: request.env['CNI_CONTAINERID'], namespace, max: ctx.limiter.max, own },
      own ? 'namespace over its share' : 'saturated',
    );
    const held = ctx.limiter.held(namespace);
    return errorAnswer(
      503,
      new CniError(
        CniErrorCode.TryAgainLater,
        'multinet daemon is busy',
        own
          ? `namespace ${namespace} has ${held.active} requests in flight (maxConcurrentRequestsPerNamespace ${ctx.limiter.maxActivePerKey}) and ${held.queued} waiting (maxQueuedRequestsPerNamespace ${ctx.limiter.maxQueuedPerKey}); try again later`
          : `${ctx.limiter.max} requests in flight (maxConcurrentRequests) and ${ctx.limiter.maxQueued} waiting (maxQueuedRequests); try again later`,
      ),
    );
  }
  let unlock: (() => void) | undefined;
  const containerId = request.env['CNI_CONTAINERID'] ?? '';
  const podUid = /(?:^|;)K8S_POD_UID=([^;]*)/.exec(request.env['CNI_ARGS'] ?? '')?.[1];
  let stage: StageTimer | undefined;
  let engineEnd = 0;
  try {
    if (containerId !== '') unlock = await ctx.locks.acquire(containerId);
    if (containerId !== '') stage = ctx.stages?.begin(containerId, podUid);
    if (stage) stage.ms.queue = now() - queued;
    let fields: Record<string, unknown> = { command, containerId };
    const run = async (req: CniRequest): Promise<CniResult | undefined> => {
      fields = { ...fields, ...podFields(req.args) };
      const log = ctx.log.child?.(fields) ?? ctx.log;
      const state = ctx.engineConfig();
      if (!state.ready && (req.command === 'ADD' || req.command === 'CHECK'))
        throw new CniError(CniErrorCode.TryAgainLater, 'multinet: default network not ready', state.reason);
      if (!state.ready && req.command === 'STATUS')
        throw new CniError(CniErrorCode.NotAvailable, 'multinet: default network not ready', state.reason);
      const engineStart = now();
      if (stage) stage.ms.parse = engineStart - t0 - stage.ms.queue;
      try {
        return await runPodNetworkRequest(
          { ...ctx.deps, config: state.config, log },
          toPodNetworkRequest(req),
          signal,
        );
      } catch (err) {
        throw toCniError(err);
      } finally {
        engineEnd = now();
        stage?.engineDone(engineEnd - engineStart);
      }
    };
    const out = await runPluginMain(request.env, request.config, {
      supportedVersions: SUPPORTED_VERSIONS,
      add: async (req) => (await run(req))!,
      del: async (req) => void (await run(req)),
      check: async (req) => void (await run(req)),
      gc: async (req) => void (await run(req)),
      status: async (req) => void (await run(req)),
    });
    const end = now();
    const seconds = (end - t0) / 1000;
    if (stage) {
      stage.ms.answer = engineEnd > 0 ? end - engineEnd : 0;
      ctx.observeStages?.(label, stage);
      ctx.log.debug({ ...fields, ms: stage.ms, delegateMs: stage.delegateMs }, 'CNI request stages');
    }
    const outcome = out.exitCode === 0 ? 'success' : 'error';
    ctx.observe?.(label, outcome, seconds);
    const summary = { ...fields, exitCode: out.exitCode, ms: Math.round(seconds * 1000) };
    if (out.exitCode === 0) ctx.log.info(summary, 'CNI request done');
    else ctx.log.warn({ ...summary, error: out.stdout.trim().slice(0, 2000) }, 'CNI request failed');
    return { status: 200, json: { exitCode: out.exitCode, stdout: out.stdout } };
  } finally {
    if (stage) ctx.stages!.end(containerId, podUid, stage);
    unlock?.();
    release();
    aborts?.end();
    if (containerId !== '' && (command === 'ADD' || command === 'DEL'))
      ctx.containerDone?.(command, containerId, request.env['CNI_ARGS'] ?? '');
  }
}

/** VERSION needs no engine: runPluginMain answers it before calling any handler. */
const versionOnly = {
  supportedVersions: SUPPORTED_VERSIONS,
  add: () => Promise.reject(new Error('unreachable')),
  del: () => Promise.resolve(),
  check: () => Promise.resolve(),
};
