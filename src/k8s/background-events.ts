import type { Logger } from '../log/logger.ts';
import type {
  ClusterView,
  EventRecorder,
  NetworkObject,
  NetworksReadyCondition,
  PodInfo,
  PodRef,
} from './cluster-view.ts';

/**
 * Sends Events off the ADD path. Events are informational (the network-status annotation is
 * the record), so a long-lived daemon answers the runtime without waiting for them, as client-go's
 * event recorder does for Multus. The queue is bounded: past `max` pending events new ones are
 * dropped and counted, never allowed to grow the daemon. Thin mode does not use this: its process
 * exits after the call.
 */
export class BackgroundEvents implements ClusterView {
  private pending = 0;
  private chain: Promise<void> = Promise.resolve();
  dropped = 0;

  constructor(
    private readonly inner: ClusterView,
    private readonly log: Logger,
    private readonly max = 1000,
  ) {}

  getPod(namespace: string, name: string, signal?: AbortSignal): Promise<PodInfo | undefined> {
    return this.inner.getPod(namespace, name, signal);
  }

  getNetworkObject(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<NetworkObject | undefined> {
    return this.inner.getNetworkObject(namespace, name, signal);
  }

  writeNetworkStatus(
    pod: PodRef,
    statusJson: string,
    signal?: AbortSignal,
    ready?: NetworksReadyCondition,
  ): Promise<void> {
    return this.inner.writeNetworkStatus(pod, statusJson, signal, ready);
  }

  writeNetworksReady(pod: PodRef, ready: NetworksReadyCondition, signal?: AbortSignal): Promise<void> {
    return this.inner.writeNetworksReady(pod, ready, signal);
  }

  recordEvent(...args: Parameters<EventRecorder['recordEvent']>): Promise<void> {
    if (this.pending >= this.max) {
      this.dropped++;
      return Promise.resolve();
    }
    this.pending++;
    // One at a time, in order: a burst must not open hundreds of API requests at once.
    this.chain = this.chain
      .then(() => this.inner.recordEvent(...args))
      .catch((err: unknown) =>
        this.log.warn(
          { pod: `${args[0].namespace}/${args[0].name}`, reason: args[2], err: String(err) },
          'event not recorded',
        ),
      )
      .finally(() => void this.pending--);
    return Promise.resolve();
  }

  /** Resolves once every queued event has been sent or has failed (graceful shutdown). */
  flush(): Promise<void> {
    return this.chain;
  }
}
