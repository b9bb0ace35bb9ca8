// The apiserver's audit log, kept small on purpose: only the resources multinet touches, at
// Metadata level, one event per request (RequestReceived omitted). Tests count multinet's API
// requests per CNI ADD from it.
import { readFile, writeFile } from 'node:fs/promises';

export interface AuditEvent {
  kind: 'Event';
  apiVersion: string;
  level: string;
  auditID: string;
  /** ResponseComplete for ordinary requests; a watch also logs ResponseStarted. */
  stage: string;
  requestURI: string;
  verb: string;
  user: { username: string; groups?: string[]; uid?: string };
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: {
    resource?: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
    apiVersion?: string;
    subresource?: string;
  };
  responseStatus?: { code?: number; status?: string; reason?: string; message?: string };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    resources:
      - group: ""
        resources: [pods, pods/status, events]
      - group: events.k8s.io
        resources: [events]
      - group: k8s.cni.cncf.io
        resources: [network-attachment-definitions]
      - group: kubernetes.cni.cncf.io
        resources: [networks]
  - level: None
`;

export async function writeAuditPolicy(path: string): Promise<void> {
  await writeFile(path, POLICY);
}

/** Every event in the audit log so far (missing file = none yet). */
export async function readAuditLog(path: string): Promise<AuditEvent[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const events: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as AuditEvent);
    } catch {
      // the last line may be half written while the apiserver is running
    }
  }
  return events;
}

/**
 * Polls the audit log until `predicate` holds for the events (the apiserver may write an event
 * just after it answered the request). Returns the events; throws with a summary on timeout.
 */
export async function waitForAuditLog(
  path: string,
  predicate: (events: AuditEvent[]) => boolean,
  timeoutMs = 5_000,
): Promise<AuditEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await readAuditLog(path);
    if (predicate(events)) return events;
    if (Date.now() > deadline) {
      const tail = events
        .slice(-10)
        .map((e) => `${e.verb} ${e.requestURI} ${e.user.username} ${e.responseStatus?.code}`);
      throw new Error(`audit log condition not met in ${timeoutMs} ms; last events:\n${tail.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
