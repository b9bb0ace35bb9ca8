import type { ClusterView, NetworkObject, PodInfo } from './cluster-view.ts';
import { ClusterUnavailableError } from './cluster-view.ts';

/**
 * Stands in when the API connection cannot even be set up (kubeconfig unreadable, token file
 * gone): every call fails as "unavailable", so ADD reports why while DEL still works from the cache.
 */
export class UnavailableClusterView implements ClusterView {
  constructor(private readonly reason: string) {}

  private fail(): never {
    throw new ClusterUnavailableError(`no API connection: ${this.reason}`);
  }

  async getPod(): Promise<PodInfo | undefined> {
    return this.fail();
  }

  async getNetworkObject(): Promise<NetworkObject | undefined> {
    return this.fail();
  }

  async writeNetworkStatus(): Promise<void> {
    this.fail();
  }

  async writeNetworksReady(): Promise<void> {
    this.fail();
  }

  async recordEvent(): Promise<void> {
    this.fail();
  }
}
