/**
 * Composition root of `multinet daemon --config FILE`: reads the config file and the environment
 * (MULTINET_NODE_NAME, in-cluster KUBERNETES_SERVICE_*), builds the real adapters, turns SIGTERM
 * and SIGINT into an AbortSignal and runs the daemon until it has shut down.
 */
import { readFile } from 'node:fs/promises';
import type { CliIo } from '../cli/run-cli.ts';
import { parseDaemonArgs } from '../cli/daemon-command.ts';
import { parseDaemonConfig } from '../config/daemon-config.ts';
import { runDaemon } from '../daemon/daemon.ts';
import { pinoLogger } from '../daemon/pino-logger.ts';
import { describeCause } from '../engine/engine-error.ts';
import { KubeRestClient } from '../k8s/kube-rest-client.ts';
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
  const log = pinoLogger(config.engine.logLevel);
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
        nodeName,
        uid: process.getuid?.() ?? 0,
        log,
        connect: (observe) => {
          const conn = kubeConnection(config.engine, env);
          return conn ? new KubeRestClient(conn, { observe, timeoutMs: 30_000 }) : undefined;
        },
        buildEngineDeps: (engineConfig, cluster, stages) =>
          buildEngineDeps(engineConfig, env, log, { cluster: cluster ?? undefined, stages }),
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
