import { buildPluginEnv, containerIdProblem, interfaceNameProblem, type CniCommand } from './cni-env.ts';
import { CniError, CniErrorCode } from './cni-error.ts';
import { DelegateError, NetworkListError } from './delegate-error.ts';
import { runPlugin, runPluginWithResult, type InvokeDeps } from './invoke.ts';
import type { NetworkConfigList, PluginConfig } from './network-config.ts';
import {
  buildPluginRequestConfig,
  type GcAttachment,
  type PluginRequestOptions,
} from './plugin-config-request.ts';
import type { PluginLocator, PluginRunner } from './plugin-runner.ts';
import { resultFromJson, type CniResult } from './result.ts';
import { convertResult } from './result-convert.ts';
import type { ResultCache, ResultCacheKey } from './result-cache.ts';
import { VersionNegotiator } from './version-negotiator.ts';
import { versionAtLeast } from './versions.ts';

/** Per-attachment parameters (SPEC §3 "Attachment Parameters") plus the search path. */
export interface RuntimeConf {
  containerId: string;
  netns: string;
  ifName: string;
  args: [string, string][];
  capabilityArgs: Record<string, unknown>;
  cniPath: string[];
}

export interface NetworkListRunnerDeps {
  runner: PluginRunner;
  locator: PluginLocator;
  cache: ResultCache;
  timeoutMs: number;
  /** Environment every plugin inherits (libcni passes the runtime's whole environment). */
  baseEnv?: Record<string, string>;
  /** Narrow the list's version by the plugins' VERSION answers (VersionNegotiator). Default true. */
  negotiateVersions?: boolean;
  retryDelayMs?: number;
  onStderr?: (pluginType: string, text: string) => void;
}

type Attachment = Pick<RuntimeConf, 'containerId' | 'netns' | 'ifName' | 'args'>;

/** Runs a network configuration list the way libcni's AddNetworkList/DelNetworkList do (containernetworking/cni libcni/api.go), as a runtime. */
export class NetworkListRunner {
  private readonly deps: NetworkListRunnerDeps;
  private readonly invokeDeps: InvokeDeps;
  private readonly negotiator: VersionNegotiator;

  constructor(deps: NetworkListRunnerDeps) {
    this.deps = deps;
    this.invokeDeps = {
      runner: deps.runner,
      timeoutMs: deps.timeoutMs,
      ...(deps.retryDelayMs !== undefined ? { retryDelayMs: deps.retryDelayMs } : {}),
      ...(deps.onStderr ? { onStderr: deps.onStderr } : {}),
    };
    this.negotiator = new VersionNegotiator(
      this.invokeDeps,
      deps.locator,
      deps.baseEnv,
      deps.negotiateVersions !== false,
    );
  }

  /**
   * ADD every plugin in order, chaining prevResult; caches the final result (SPEC §3). With
   * `deferCache` the cache write is handed to the caller instead of awaited here.
   */
  async add(
    list: NetworkConfigList,
    rt: RuntimeConf,
    signal?: AbortSignal,
    deferCache?: (write: Promise<void>) => void,
  ): Promise<CniResult> {
    validateAttachment(rt);
    const version = await this.resolveVersion(list, rt.cniPath, signal);
    let prevResult: CniResult | undefined;
    for (const plugin of list.plugins) {
      const req = await this.request(list, plugin, 'ADD', rt, rt.cniPath, signal, {
        cniVersion: version,
        prevResult,
        capabilityArgs: rt.capabilityArgs,
      });
      prevResult = await runPluginWithResult(this.invokeDeps, req, version);
    }
    if (prevResult === undefined) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'no plugins to run');
    const write = this.deps.cache.put({
      kind: 'cniCacheV1',
      ...cacheKey(list, rt),
      config: Buffer.from(list.bytes).toString('base64'),
      netns: rt.netns,
      cniArgs: rt.args,
      capabilityArgs: rt.capabilityArgs,
      result: prevResult,
    });
    if (deferCache) {
      write.catch(() => undefined); // the caller awaits it; no unhandled rejection meanwhile
      deferCache(write);
    } else await write;
    return prevResult;
  }

  /**
   * DEL in reverse order with the cached result as prevResult (≥ 0.4.0). Unlike libcni, which
   * stops at the first failure, every plugin gets its DEL so one broken plugin does not leak the
   * others' resources; failures are reported together and the cache entry is kept for a retry.
   * A missing or unreadable cache entry only means "no prevResult".
   */
  async del(list: NetworkConfigList, rt: RuntimeConf, signal?: AbortSignal): Promise<void> {
    validateAttachment(rt);
    const version = await this.resolveVersion(list, rt.cniPath, signal);
    let prevResult: CniResult | undefined;
    if (versionAtLeast(version, '0.4.0')) {
      try {
        prevResult = await this.getCachedResult(list, rt, version);
      } catch {
        await this.deps.cache.delete(cacheKey(list, rt));
      }
    }
    const errors: Error[] = [];
    for (const plugin of [...list.plugins].reverse()) {
      try {
        const options = { cniVersion: version, prevResult, capabilityArgs: rt.capabilityArgs };
        await runPlugin(
          this.invokeDeps,
          await this.request(list, plugin, 'DEL', rt, rt.cniPath, signal, options),
        );
      } catch (err) {
        errors.push(asError(err));
      }
    }
    if (errors.length > 0) throw new NetworkListError(list.name, 'DEL', errors);
    await this.deps.cache.delete(cacheKey(list, rt));
  }

  /** CHECK in order with the cached result (SPEC §3); stops at the first failure. */
  async check(list: NetworkConfigList, rt: RuntimeConf, signal?: AbortSignal): Promise<void> {
    validateAttachment(rt);
    const version = await this.resolveVersion(list, rt.cniPath, signal);
    if (!versionAtLeast(version, '0.4.0')) {
      throw new CniError(
        CniErrorCode.IncompatibleVersion,
        `configuration version "${version}" does not support the CHECK command`,
        `network ${JSON.stringify(list.name)}: CHECK needs cniVersion 0.4.0 or newer`,
      );
    }
    if (list.disableCheck) return;
    const prevResult = await this.getCachedResult(list, rt, version);
    for (const plugin of list.plugins) {
      const options = { cniVersion: version, prevResult, capabilityArgs: rt.capabilityArgs };
      await runPlugin(
        this.invokeDeps,
        await this.request(list, plugin, 'CHECK', rt, rt.cniPath, signal, options),
      );
    }
  }

  /**
   * GC like libcni GCNetworkList: DEL every cached attachment of this network that is not in
   * `validAttachments`, then (≥ 1.1.0) send GC to every plugin; all errors are collected.
   */
  async gc(
    list: NetworkConfigList,
    validAttachments: GcAttachment[],
    cniPath: string[],
    signal?: AbortSignal,
  ): Promise<void> {
    if (list.disableGC) return;
    const valid = new Set(validAttachments.map((a) => `${a.containerId}\0${a.ifName}`));
    const errors: Error[] = [];
    for (const record of await this.deps.cache.list()) {
      if (record.networkName !== list.name || valid.has(`${record.containerId}\0${record.ifName}`)) continue;
      const { containerId, netns, ifName, capabilityArgs } = record;
      const rt = { containerId, netns, ifName, capabilityArgs, args: record.cniArgs, cniPath };
      await this.del(list, rt, signal).catch((err: unknown) => {
        const e = asError(err);
        errors.push(
          new Error(
            `failed to delete stale attachment ${record.containerId} ${record.ifName}: ${e.message}`,
            { cause: e },
          ),
        );
      });
    }
    const version = await this.resolveVersion(list, cniPath, signal);
    if (versionAtLeast(version, '1.1.0')) {
      for (const plugin of list.plugins) {
        try {
          const options = { cniVersion: version, validAttachments };
          await runPlugin(
            this.invokeDeps,
            await this.request(list, plugin, 'GC', undefined, cniPath, signal, options),
          );
        } catch (err) {
          errors.push(asError(err));
        }
      }
    }
    if (errors.length > 0) throw new NetworkListError(list.name, 'GC', errors);
  }

  /** STATUS (≥ 1.1.0 only; older lists count as ready); the first failing plugin's error is thrown. */
  async status(list: NetworkConfigList, cniPath: string[], signal?: AbortSignal): Promise<void> {
    const version = await this.resolveVersion(list, cniPath, signal);
    if (!versionAtLeast(version, '1.1.0')) return;
    for (const plugin of list.plugins) {
      const options = { cniVersion: version };
      await runPlugin(
        this.invokeDeps,
        await this.request(list, plugin, 'STATUS', undefined, cniPath, signal, options),
      );
    }
  }

  /** One container's cache records that carry their config (pre-2019 bare results do not). */
  async cachedAttachments(
    containerId: string,
  ): Promise<
    { network: string; ifName: string; configText: string; capabilityArgs: Record<string, unknown> }[]
  > {
    return (await this.deps.cache.list(containerId))
      .filter((r) => r.config !== '')
      .map((r) => ({
        network: r.networkName,
        ifName: r.ifName,
        configText: Buffer.from(r.config, 'base64').toString('utf8'),
        capabilityArgs: r.capabilityArgs,
      }));
  }

  /** The cached final ADD result converted to `version`; undefined when nothing is cached. */
  async getCachedResult(
    list: NetworkConfigList,
    attachment: Pick<RuntimeConf, 'containerId' | 'ifName'>,
    version: string,
  ): Promise<CniResult | undefined> {
    const record = await this.deps.cache.get(cacheKey(list, attachment));
    if (record === undefined) return undefined;
    return convertResult(resultFromJson(record.result, version), version);
  }

  /** The version the list runs with (see VersionNegotiator). */
  resolveVersion(list: NetworkConfigList, cniPath: string[], signal?: AbortSignal): Promise<string> {
    return this.negotiator.resolve(list, cniPath, signal);
  }

  private async request(
    list: NetworkConfigList,
    plugin: PluginConfig,
    command: CniCommand,
    attachment: Attachment | undefined,
    cniPath: string[],
    signal: AbortSignal | undefined,
    options: Omit<PluginRequestOptions, 'name'>,
  ) {
    const pluginPath = await this.locate(list, plugin, command, cniPath);
    const config = buildPluginRequestConfig(plugin, { ...options, name: list.name });
    const env = buildPluginEnv({ command, ...attachment, path: cniPath }, this.deps.baseEnv);
    return {
      pluginType: plugin.type,
      pluginPath,
      command,
      env,
      stdin: JSON.stringify(config),
      network: list.name,
      signal,
    };
  }

  private async locate(
    list: NetworkConfigList,
    plugin: PluginConfig,
    command: CniCommand,
    cniPath: string[],
  ) {
    try {
      return await this.deps.locator.find(plugin.type, cniPath);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new DelegateError(
        {
          code: CniErrorCode.Internal,
          msg,
          pluginType: plugin.type,
          command,
          reason: 'not-found',
          network: list.name,
        },
        { cause: err },
      );
    }
  }
}

function cacheKey(list: NetworkConfigList, a: Pick<RuntimeConf, 'containerId' | 'ifName'>): ResultCacheKey {
  return { networkName: list.name, containerId: a.containerId, ifName: a.ifName };
}

/** libcni validates on ADD only; we also do it on DEL/CHECK because the ids become a file name. */
function validateAttachment(rt: RuntimeConf): void {
  const idProblem = containerIdProblem(rt.containerId);
  if (idProblem) {
    const code = rt.containerId === '' ? CniErrorCode.UnknownContainer : CniErrorCode.InvalidEnvironment;
    throw new CniError(code, idProblem);
  }
  const ifProblem = interfaceNameProblem(rt.ifName);
  if (ifProblem) throw new CniError(CniErrorCode.InvalidEnvironment, ifProblem);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
