/**
 * Composition root of `multinet daemon --config FILE`: reads the config file and the environment
 * (MULTINET_NODE_NAME, in-cluster KUBERNETES_SERVICE_*), builds the real adapters, turns SIGTERM
 * and SIGINT into an AbortSignal and runs the daemon until it has shut down.
 */
import { readFile } from 'node:fs/promises';
import type { CliIo } from '../cli/run-cli.ts';
import { parseDaemonArgs } from '../cli/daemon-command.ts';
import { parseDaemonConfig, parseListenAddress } from '../config/daemon-config.ts';
import { runDaemon } from '../daemon/daemon.ts';
import { MetricsServer } from '../daemon/metrics-server.ts';
import { pinoLogger } from '../daemon/pino-logger.ts';
import { SocketServer } from '../daemon/socket-server.ts';
import { describeCause } from '../engine/engine-error.ts';
import { AutoConfig } from '../host/auto-config.ts';
import { probeNetns } from '../host/nsfs-netns-probe.ts';
import { buildDaemonCluster } from './daemon-cluster.ts';
import { buildEngineDeps, kubeConnection } from './engine-deps.ts';

export async function runDaemonMain(args: string[], io: CliIo): Promise<number> {
  const parsed = parseDaemonArgs(args, io.stderr);
  if (!parsed) return 2;
  let config;
  try {
    config = parseDaemonConfig(await readFile(parsed.configPath, 'utf8'));
  } catch (err) {
    io.stderr(`multinet daemon: ${parsed.configPath}: ${describeCause(err)}\n`);
    return 1;
  }
  const env = io.env;
  const log = pinoLogger(config.adapters.logLevel);
  const nodeName = config.nodeName || env['MULTINET_NODE_NAME'] || '';
  const stop = new AbortController();
  const onSignal = (sig: string) => {
    log.info({ signal: sig }, 'signal received');
    stop.abort();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  try {
    await runDaemon(
      {
        config,
        log,
        cluster: (observe) =>
          buildDaemonCluster(
            config,
            { nodeName, log, connection: () => kubeConnection(config.adapters, env) },
            observe,
          ),
        ...(config.autoConfig
          ? {
              autoConfig: new AutoConfig({
                ...config.autoConfig,
                socketPath: config.socketPath,
                readinessIndicatorFile: config.engine.readinessIndicatorFile,
                log: log.child?.({ subsystem: 'auto-config' }) ?? log,
              }),
            }
          : {}),
        buildEngineDeps: (engine, cluster, stages) =>
          buildEngineDeps({ engine, adapters: config.adapters, unknownKeys: [] }, env, log, {
            cluster,
            stages,
          }),
        // An nsfs mount only: a netns file left after its namespace went does not count.
        netnsExists: async (path) => (await probeNetns(path)).state === 'present',
        socketServer: (serve) =>
          new SocketServer({ ...serve, socketPath: config.socketPath, uid: process.getuid?.() ?? 0, log }),
        ...(config.metricsAddress
          ? {
              metricsServer: (serve) =>
                new MetricsServer({
                  ...serve,
                  ...parseListenAddress(config.metricsAddress, config.metricsAllowNonLoopback),
                  maxConnections: config.metricsMaxConnections,
                  log,
                }),
            }
          : {}),
      },
      stop.signal,
    );
    return 0;
  } catch (err) {
    log.error({ err: describeCause(err) }, 'daemon failed');
    return 1;
  } finally {
    // Whatever still holds the event loop (a delegate that ignores SIGKILL's parent, a socket in
    // the kernel's hands) must not keep a stopped daemon alive.
    setTimeout(() => process.exit(), 2_000).unref();
  }
}
