import type { PolicyContext } from '../engine/validate-object.ts';
import type { Readiness } from '../daemon/health.ts';
import type { Logger } from '../log/logger.ts';
import { CachedClusterView } from '../k8s/cached-cluster-view.ts';
import type { KubeRestClient } from '../k8s/kube-rest-client.ts';
import { KubernetesClusterView } from '../k8s/kubernetes-cluster-view.ts';
import { networkInformers } from '../k8s/network-informers.ts';
import { reviewAdmission } from './review-admission.ts';
import type { ServingCertificate } from './serving-certificate.ts';
import { WebhookServer } from './webhook-server.ts';

/** The real adapters, made by the composition root (src/bin/webhook-main.ts). */
export interface WebhookDeps {
  host: string;
  port: number;
  certificate: ServingCertificate;
  policy: PolicyContext;
  client: KubeRestClient;
  log: Logger;
  /** Called once listening (tests learn the port). */
  onListening?(port: number): void;
  certificateCheckMs?: number;
}

/**
 * `multinet webhook` as `start(signal)`: watch caches of the network definitions, the HTTPS
 * server, the certificate reload; resolves once `signal` aborted and the server has closed.
 */
export async function runWebhook(deps: WebhookDeps, signal: AbortSignal): Promise<void> {
  const { log, client } = deps;
  const background = new AbortController();
  const { nads, networks } = networkInformers(
    client,
    deps.policy.maxNetworkConfigBytes,
    log.child?.({ subsystem: 'cache' }) ?? log,
  );
  const view = new CachedClusterView({
    live: new KubernetesClusterView(client),
    client,
    pods: undefined,
    nads,
    networks,
    networkMissWindowMs: 0,
  });
  const readiness = (): Readiness => {
    const checks: Readiness['checks'] = {};
    for (const inf of [nads, networks])
      checks[`cache:${inf.resource}`] = { ok: inf.synced, ...(inf.disabled ? { detail: 'disabled' } : {}) };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };
  const tls = await deps.certificate.load();
  const server = new WebhookServer({
    host: deps.host,
    port: deps.port,
    tls,
    log,
    readiness,
    review: (request, reviewSignal) =>
      reviewAdmission(request, { policy: deps.policy, networks: view }, reviewSignal),
  });
  if (!deps.policy.policy)
    log.warn({}, "no tenantPolicy: every namespace's NADs are trusted (docs/security.md)");
  const running = [nads, networks].map((i) => i.start(background.signal));
  try {
    await server.listen();
    running.push(
      deps.certificate.watch(
        background.signal,
        (pair) => server.setCertificate(pair),
        log,
        deps.certificateCheckMs,
      ),
    );
    deps.onListening?.(server.port);
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    log.info({}, 'shutting down');
  } finally {
    await server.close();
    background.abort();
    await Promise.allSettled(running);
    client.close();
  }
}
