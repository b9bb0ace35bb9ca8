import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiResource, apiVerb, DaemonMetrics } from './daemon-metrics.ts';
import { StageTimer } from './stage-timer.ts';

describe('daemon metrics', () => {
  it('names API requests with Kubernetes verbs and resources', () => {
    assert.equal(apiVerb('GET', '/api/v1/namespaces/a/pods/p'), 'get');
    assert.equal(apiVerb('GET', '/api/v1/pods'), 'list');
    assert.equal(apiVerb('WATCH', '/api/v1/pods'), 'watch');
    assert.equal(apiVerb('PATCH', '/api/v1/namespaces/a/pods/p/status'), 'patch');
    assert.equal(apiResource('/api/v1/namespaces/a/pods/p/status'), 'pods/status');
    assert.equal(
      apiResource('/apis/k8s.cni.cncf.io/v1/network-attachment-definitions'),
      'network-attachment-definitions',
    );
    assert.equal(apiResource('/api/v1/namespaces/a/events'), 'events');
    assert.equal(apiResource('/version'), 'other');
  });

  it('exposes requests, delegate latency, cache sizes and API counts', async () => {
    const m = new DaemonMetrics({
      inFlight: () => 3,
      caches: () => [{ resource: 'pods', size: 7, synced: true }],
      defaultNetworkReady: () => true,
    });
    m.observeRequest('ADD', 'success', 0.02);
    m.observeRequest('ADD', 'rejected', 0);
    m.observeDelegate('bridge', 'ADD', 'success', 0.013);
    m.observeApiRequest('PATCH', '/api/v1/namespaces/a/pods/p/status', 200);
    const text = await m.text();
    assert.match(text, /multinet_cni_requests_total\{command="ADD",outcome="success"\} 1/);
    assert.match(text, /multinet_cni_requests_total\{command="ADD",outcome="rejected"\} 1/);
    assert.match(
      text,
      /multinet_delegate_duration_seconds_count\{plugin="bridge",command="ADD",outcome="success"\} 1/,
    );
    assert.match(text, /multinet_cache_objects\{resource="pods"\} 7/);
    assert.match(text, /multinet_cni_requests_in_flight 3/);
    assert.match(
      text,
      /multinet_kube_api_requests_total\{verb="patch",resource="pods\/status",code="200"\} 1/,
    );
    assert.match(text, /process_resident_memory_bytes/);
  });

  it('observes every stage of a request once, so sum / count is the mean per request', async () => {
    const m = new DaemonMetrics({ inFlight: () => 0, caches: () => [], defaultNetworkReady: () => true });
    const timer = new StageTimer();
    timer.delegate('bridge', 12);
    timer.add('planWrite', 2);
    m.observeStages('DEL', timer);
    const text = await m.text();
    assert.match(text, /multinet_cni_request_stage_seconds_sum\{command="DEL",stage="delegates"\} 0\.012/);
    assert.match(text, /multinet_cni_request_stage_seconds_count\{command="DEL",stage="status"\} 1/);
  });

  it('observes each delegate process of a request by plugin binary', async () => {
    const m = new DaemonMetrics({ inFlight: () => 0, caches: () => [], defaultNetworkReady: () => true });
    const timer = new StageTimer();
    timer.delegate('bridge', 12);
    timer.delegate('macvlan', 3);
    timer.delegate('macvlan', 5);
    m.observeStages('ADD', timer);
    const text = await m.text();
    const line = (plugin: string, what: string) =>
      new RegExp(
        `multinet_cni_request_delegate_seconds_${what}\\{command="ADD",plugin="${plugin}"\\} ([0-9.]+)`,
      ).exec(text)?.[1];
    assert.equal(line('bridge', 'count'), '1');
    assert.equal(line('macvlan', 'count'), '2');
    assert.equal(Number(line('macvlan', 'sum')).toFixed(3), '0.008');
  });
});
