// Applying deploy/ manifests to the test control plane, and the two CRDs multinet reads. The
// CRDs come from deploy/crds/ when that folder defines them; the minimal definitions below only
// stand in for a CRD that deploy/crds/ does not (yet) define, so the harness works either way.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeClient, KubeObject } from './kube-client.ts';

export const NAD_CRD = 'network-attachment-definitions.k8s.cni.cncf.io';
export const NETWORK_CRD = 'networks.kubernetes.cni.cncf.io';

function crd(
  group: string,
  kind: string,
  plural: string,
  singular: string,
  shortNames: string[],
): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular, shortNames, listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: {
                  type: 'object',
                  properties: { config: { type: 'string' } },
                  'x-kubernetes-preserve-unknown-fields': true,
                },
              },
            },
          },
        },
      ],
    },
  };
}

/** Stand-ins, by CRD name, used only when deploy/crds/ lacks that CRD. */
export const FALLBACK_CRDS: Record<string, KubeObject> = {
  [NAD_CRD]: crd(
    'k8s.cni.cncf.io',
    'NetworkAttachmentDefinition',
    'network-attachment-definitions',
    'network-attachment-definition',
    ['net-attach-def'],
  ),
  [NETWORK_CRD]: crd('kubernetes.cni.cncf.io', 'Network', 'networks', 'network', []),
};

/** Every object in the *.yaml / *.yml files of `dir`, files in name order; a missing dir gives none. */
export async function loadManifests(dir: string): Promise<KubeObject[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const objects: KubeObject[] = [];
  for (const name of names) {
    for (const doc of parseAllDocuments(await readFile(join(dir, name), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${join(dir, name)}: ${doc.errors[0]?.message}`);
      const obj = doc.toJS() as KubeObject | null;
      if (obj) objects.push(obj);
    }
  }
  return objects;
}

/** Applies the objects in order (server-side apply). */
export async function applyAll(client: KubeClient, objects: KubeObject[]): Promise<void> {
  for (const obj of objects) {
    try {
      await client.apply(obj);
    } catch (err) {
      throw new Error(`applying ${obj.kind} ${obj.metadata?.name}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

type CrdStatus = { conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
type CrdSpec = { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };

/**
 * Waits until every named CRD reports Established and its resource answers a LIST from the watch
 * cache: right after Established the apiserver still answers 429 "storage is (re)initializing",
 * and clients without 429 retries (@kubernetes/client-node) would fail on it.
 * Returns when the last CRD became Established (ms since the epoch, second precision).
 */
export async function waitForCrdsServed(
  client: KubeClient,
  names: string[],
  timeoutMs = 20_000,
  signal?: AbortSignal,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const until = async (what: string, ready: () => Promise<boolean>): Promise<void> => {
    for (;;) {
      if (await ready().catch(() => false)) return;
      signal?.throwIfAborted();
      if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let lastEstablished = 0;
  for (const name of names) {
    const ref = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name };
    let path = '';
    await until(`CRD ${name} Established`, async () => {
      const obj = await client.get(ref);
      const spec = obj['spec'] as CrdSpec;
      path = `/apis/${spec.group}/${spec.versions.find((v) => v.served)?.name ?? 'v1'}/${spec.names.plural}`;
      const established = ((obj['status'] as CrdStatus | undefined)?.conditions ?? []).find(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      if (!established) return false;
      lastEstablished = Math.max(
        lastEstablished,
        Date.parse(established.lastTransitionTime ?? '') || Date.now(),
      );
      return true;
    });
    await until(`${name} storage`, async () => {
      await client.request('GET', path);
      return true;
    });
  }
  return lastEstablished;
}

/**
 * Applies deploy/crds/, adds the stand-in for each CRD it lacks, and waits until all are served.
 * Returns the time after which creating their objects is fast: the apiserver delays every create
 * by 2 s while a CRD is less than 2 s Established (apiextensions customresource_handler.go).
 */
export async function ensureCrds(
  client: KubeClient,
  crdDir: string,
  signal?: AbortSignal,
): Promise<{ names: string[]; fastCreatesAt: number }> {
  const objects = (await loadManifests(crdDir)).filter((o) => o.kind === 'CustomResourceDefinition');
  const defined = new Set(objects.map((o) => o.metadata?.name ?? ''));
  for (const [name, fallback] of Object.entries(FALLBACK_CRDS))
    if (!defined.has(name)) objects.push(fallback);
  await applyAll(client, objects);
  const names = objects.map((o) => o.metadata?.name ?? '');
  const established = await waitForCrdsServed(client, names, 20_000, signal);
  // The apiserver compares with the same truncated lastTransitionTime: 2 s after it is enough.
  return { names, fastCreatesAt: established + 2_100 };
}
