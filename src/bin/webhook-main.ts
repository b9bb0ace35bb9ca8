/**
 * Composition root of `multinet webhook`: reads the arguments, multinet's config and the
 * environment (in-cluster KUBERNETES_SERVICE_*), builds the real adapters, turns SIGTERM and
 * SIGINT into an AbortSignal and serves until it has shut down.
 */
import { readFile } from 'node:fs/promises';
import { multinetOptionsFromText } from '../cli/multinet-options.ts';
import type { CliIo } from '../cli/run-cli.ts';
import type { PolicyContext } from '../engine/validate-object.ts';
import { NO_POLICY, policyContext } from '../engine/validate-object.ts';
import { parseWebhookArgs } from '../cli/webhook-command.ts';
import { pinoLogger } from '../daemon/pino-logger.ts';
import { describeCause } from '../engine/engine-error.ts';
import { KubeRestClient } from '../k8s/kube-rest-client.ts';
import { runWebhook } from '../webhook/webhook.ts';
import { ServingCertificate } from '../webhook/serving-certificate.ts';
import { kubeConnectionFor } from './engine-deps.ts';

export async function runWebhookMain(args: string[], io: CliIo): Promise<number> {
  const parsed = parseWebhookArgs(args, io.stderr);
  if (!parsed) return 2;
  let policy: PolicyContext = NO_POLICY;
  let client: KubeRestClient;
  try {
    if (parsed.configPath) {
      const text = await readFile(parsed.configPath, 'utf8');
      policy = policyContext(multinetOptionsFromText(text, parsed.configPath));
    }
    const conn = kubeConnectionFor(parsed.kubeconfig ?? '', io.env);
    if (!conn) throw new Error('no API server: pass --kubeconfig, or run in a pod (KUBERNETES_SERVICE_HOST)');
    client = new KubeRestClient(conn, { timeoutMs: 10_000 });
  } catch (err) {
    io.stderr(`multinet webhook: ${describeCause(err)}\n`);
    return 1;
  }
  const log = pinoLogger(parsed.logLevel, { component: 'multinet-webhook' });
  const stop = new AbortController();
  const onSignal = (sig: string) => {
    log.info({ signal: sig }, 'signal received');
    stop.abort();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  try {
    await runWebhook(
      {
        host: parsed.host,
        port: parsed.port,
        certificate: new ServingCertificate(parsed.certFile, parsed.keyFile),
        policy,
        client,
        log,
      },
      stop.signal,
    );
    return 0;
  } catch (err) {
    log.error({ err: describeCause(err) }, 'webhook failed');
    return 1;
  } finally {
    setTimeout(() => process.exit(), 2_000).unref();
  }
}
