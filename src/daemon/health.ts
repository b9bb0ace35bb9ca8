import type { ServerResponse } from 'node:http';

/** What /readyz reports: ready only when every part is. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Shared by the socket and the metrics listener: GET /healthz and GET /readyz; false if neither. */
export function serveHealth(
  method: string | undefined,
  url: string | undefined,
  res: ServerResponse,
  readiness: () => Readiness,
): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = (url ?? '').split('?')[0];
  if (path === '/healthz') {
    writeJson(res, 200, { ok: true });
    return true;
  }
  if (path === '/readyz') {
    const r = readiness();
    writeJson(res, r.ready ? 200 : 503, r);
    return true;
  }
  return false;
}
