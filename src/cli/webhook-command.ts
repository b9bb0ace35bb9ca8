import { parseArgs } from 'node:util';

export const WEBHOOK_USAGE = `usage: multinet webhook --tls-cert FILE --tls-key FILE [--listen HOST:PORT] [--config FILE] [--kubeconfig FILE]

Runs the validating admission webhook (docs/webhook.md): the API server sends it each new Pod and
each new or changed NetworkAttachmentDefinition / Network, and it refuses, with the lines
"multinet validate" prints, a definition whose config is invalid and a pod whose networks
annotation is invalid, names a network that does not exist or breaks namespace isolation.
  --tls-cert FILE          the serving certificate (PEM; re-read when it changes)
  --tls-key FILE           its private key (PEM)
  --listen HOST:PORT       where to serve HTTPS (default 0.0.0.0:8443)
  --config FILE            multinet's config (daemon config, thin conflist or plugin object):
                           its tenantPolicy, namespaceIsolation and maxNetworkConfigBytes apply
  --kubeconfig FILE        the API server (default: the pod's ServiceAccount)
  --log-level LEVEL        debug, info, warn or error (default info)
`;

export interface WebhookArgs {
  certFile: string;
  keyFile: string;
  host: string;
  port: number;
  configPath: string | undefined;
  kubeconfig: string | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** `multinet webhook` arguments; undefined (after printing usage) when they are wrong. */
export function parseWebhookArgs(args: string[], stderr: (s: string) => void): WebhookArgs | undefined {
  try {
    const { values } = parseArgs({
      args,
      options: {
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        listen: { type: 'string', default: '0.0.0.0:8443' },
        config: { type: 'string' },
        kubeconfig: { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
      },
      allowPositionals: false,
    });
    const certFile = values['tls-cert'];
    const keyFile = values['tls-key'];
    if (!certFile || !keyFile) throw new Error('--tls-cert and --tls-key are required');
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(values.listen);
    const host = m?.[1] ?? m?.[2];
    const port = Number(m?.[3]);
    if (!m || host === undefined || port > 65535)
      throw new Error(`--listen must be HOST:PORT, got "${values.listen}"`);
    const level = values['log-level'];
    if (!(LEVELS as readonly string[]).includes(level))
      throw new Error(`--log-level must be one of ${LEVELS.join(', ')}`);
    return {
      certFile,
      keyFile,
      host,
      port,
      configPath: values.config,
      kubeconfig: values.kubeconfig,
      logLevel: level as WebhookArgs['logLevel'],
    };
  } catch (err) {
    stderr(`multinet webhook: ${err instanceof Error ? err.message : String(err)}\n${WEBHOOK_USAGE}`);
    return undefined;
  }
}
