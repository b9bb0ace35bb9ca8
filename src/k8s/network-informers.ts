import type { Logger } from '../log/logger.ts';
import {
  LEGACY_NETWORK_API_VERSION,
  LEGACY_NETWORK_KIND,
  NAD_API_VERSION,
  NAD_KIND,
} from '../spec/well-known.ts';
import type { NetworkObject } from './cluster-view.ts';
import type { WatchClient } from './informer.ts';
import { Informer } from './informer.ts';
import { toCachedNetworkObject } from './informer-objects.ts';

/**
 * The watch caches of every NetworkAttachmentDefinition and 2018 Network (cluster-wide), as the
 * daemon and the admission webhook keep them: each object reduced to what resolving it needs, a
 * `spec.config` over `maxNetworkConfigBytes` kept as its size only. The legacy kind's informer
 * disables itself when its CRD is not installed.
 */
export function networkInformers(
  client: WatchClient,
  maxNetworkConfigBytes: number,
  log: Logger,
): { nads: Informer<NetworkObject>; networks: Informer<NetworkObject> } {
  // A string sent longer than 6 × the limit is over it however it was escaped (\uXXXX is the
  // longest escape): the informer never parses it (ListItemSplitter).
  const maxStringBytes = 6 * maxNetworkConfigBytes;
  const nads = new Informer<NetworkObject>(client, {
    resource: 'network-attachment-definitions',
    path: '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions',
    transform: (o) => toCachedNetworkObject(o, NAD_API_VERSION, NAD_KIND, maxNetworkConfigBytes),
    maxStringBytes,
    // Items are parsed one at a time, so a large page costs round trips less, not memory.
    pageSize: 500,
    log,
  });
  const networks = new Informer<NetworkObject>(client, {
    resource: 'networks',
    path: '/apis/kubernetes.cni.cncf.io/v1/networks',
    transform: (o) =>
      toCachedNetworkObject(o, LEGACY_NETWORK_API_VERSION, LEGACY_NETWORK_KIND, maxNetworkConfigBytes),
    maxStringBytes,
    pageSize: 500,
    optional: true,
    log,
  });
  return { nads, networks };
}
