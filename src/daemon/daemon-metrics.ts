import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { STAGES, type StageTimer } from './stage-timer.ts';

/** What the gauges read when scraped (kept as callbacks so metrics never hold the objects). */
export interface MetricsSources {
  inFlight(): number;
  caches(): { resource: string; size: number; synced: boolean }[];
  defaultNetworkReady(): boolean;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Stages are often well under a millisecond. */
const STAGE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/**
 * The daemon's Prometheus metrics (names in docs/daemon.md), on a private registry so tests can
 * create several daemons in one process.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'command' | 'outcome'>;
  private readonly requestSeconds: Histogram<'command'>;
  private readonly delegateSeconds: Histogram<'plugin' | 'command' | 'outcome'>;
  private readonly apiRequests: Counter<'verb' | 'resource' | 'code'>;
  private readonly liveReads: Counter<'kind'>;
  private readonly stageSeconds: Histogram<'command' | 'stage'>;
  private readonly stageDelegateSeconds: Histogram<'command' | 'plugin'>;
  private readonly checks: Counter<'outcome'>;
  private readonly checkFailures: Counter<'network'>;
  private readonly degraded: Gauge;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'multinet_cni_requests_total',
      help: 'CNI requests handled by the daemon, by command and outcome (success, error, rejected).',
      labelNames: ['command', 'outcome'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'multinet_cni_request_duration_seconds',
      help: 'Time from receiving a CNI request to answering it, by command.',
      labelNames: ['command'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.stageSeconds = new Histogram({
      name: 'multinet_cni_request_stage_seconds',
      help: 'Time one CNI request spent in each stage (queue, parse, plan, planRead, planWrite, delegates, resultCache, status, answer), by command.',
      labelNames: ['command', 'stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.stageDelegateSeconds = new Histogram({
      name: 'multinet_cni_request_delegate_seconds',
      help: 'Each delegate plugin process a CNI request ran, spawn to exit (the delegates stage, one by one), by command and plugin binary.',
      labelNames: ['command', 'plugin'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.delegateSeconds = new Histogram({
      name: 'multinet_delegate_duration_seconds',
      help: 'Time to run one delegate network list, by its plugin types, command and outcome.',
      labelNames: ['plugin', 'command', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.apiRequests = new Counter({
      name: 'multinet_kube_api_requests_total',
      help: 'Requests to the Kubernetes API server, by verb, resource and HTTP status (0 = no answer).',
      labelNames: ['verb', 'resource', 'code'],
      registers,
    });
    this.liveReads = new Counter({
      name: 'multinet_cache_live_reads_total',
      help: 'Reads that missed the watch caches and went to the API server, by kind (pod, network).',
      labelNames: ['kind'],
      registers,
    });
    this.checks = new Counter({
      name: 'multinet_check_runs_total',
      help: 'Attachments CHECKed by the periodic CHECK, by outcome (success, failure, skipped: config older than 0.4.0).',
      labelNames: ['outcome'],
      registers,
    });
    this.checkFailures = new Counter({
      name: 'multinet_check_failures_total',
      help: 'Periodic CHECKs that failed (drift), by network (namespace/name of the NAD, or the default network).',
      labelNames: ['network'],
      registers,
    });
    this.degraded = new Gauge({
      name: 'multinet_check_degraded_attachments',
      help: 'Attachments whose CHECK failed in the last periodic round.',
      registers,
    });
    new Gauge({
      name: 'multinet_cni_requests_in_flight',
      help: 'CNI requests being worked on now.',
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    });
    new Gauge({
      name: 'multinet_cache_objects',
      help: 'Objects held in each watch cache.',
      labelNames: ['resource'],
      registers,
      collect() {
        for (const c of sources.caches()) this.set({ resource: c.resource }, c.size);
      },
    });
    new Gauge({
      name: 'multinet_cache_synced',
      help: '1 once the watch cache completed its first list.',
      labelNames: ['resource'],
      registers,
      collect() {
        for (const c of sources.caches()) this.set({ resource: c.resource }, c.synced ? 1 : 0);
      },
    });
    new Gauge({
      name: 'multinet_default_network_ready',
      help: '1 when the default (primary) network config is known and ADD can be served.',
      registers,
      collect() {
        this.set(sources.defaultNetworkReady() ? 1 : 0);
      },
    });
  }

  observeRequest(command: string, outcome: 'success' | 'error' | 'rejected', seconds: number): void {
    this.requests.inc({ command, outcome });
    if (outcome !== 'rejected') this.requestSeconds.observe({ command }, seconds);
  }

  observeDelegate(plugin: string, command: string, outcome: 'success' | 'error', seconds: number): void {
    this.delegateSeconds.observe({ plugin, command, outcome }, seconds);
  }

  /** Every stage once per request (0 when unused), so a stage's sum / count is its mean per request. */
  observeStages(command: string, timer: StageTimer): void {
    for (const stage of STAGES) this.stageSeconds.observe({ command, stage }, timer.ms[stage] / 1000);
    const d = timer.delegateMs;
    for (let i = 0; i + 1 < d.length; i += 2)
      this.stageDelegateSeconds.observe({ command, plugin: String(d[i]) }, Number(d[i + 1]) / 1000);
  }

  /** One attachment's periodic CHECK. */
  observeCheck(network: string, outcome: 'success' | 'failure' | 'skipped'): void {
    this.checks.inc({ outcome });
    if (outcome === 'failure') this.checkFailures.inc({ network });
  }

  observeDegraded(attachments: number): void {
    this.degraded.set(attachments);
  }

  observeLiveRead(kind: string): void {
    this.liveReads.inc({ kind });
  }

  /** KubeRestClient's RequestObserver. */
  observeApiRequest(verb: string, path: string, status: number): void {
    this.apiRequests.inc({ verb: apiVerb(verb, path), resource: apiResource(path), code: String(status) });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Kubernetes' own verbs: GET of a collection is `list`, of an object `get`. */
export function apiVerb(method: string, path: string): string {
  const m = method.toUpperCase();
  if (m === 'WATCH') return 'watch';
  if (m === 'GET') return isCollection(path) ? 'list' : 'get';
  return m.toLowerCase();
}

const RESOURCES = ['pods', 'events', 'network-attachment-definitions', 'networks'];

/** The resource (and subresource) a request path names, e.g. "pods/status". */
export function apiResource(path: string): string {
  const parts = path
    .split('?')[0]!
    .split('/')
    .filter((p) => p !== '');
  const i = parts.findIndex((p) => RESOURCES.includes(p));
  if (i < 0) return 'other';
  const sub = parts[i + 2];
  return sub ? `${parts[i]}/${sub}` : parts[i]!;
}

function isCollection(path: string): boolean {
  const parts = path
    .split('?')[0]!
    .split('/')
    .filter((p) => p !== '');
  const i = parts.findIndex((p) => RESOURCES.includes(p));
  return i >= 0 && i === parts.length - 1;
}
