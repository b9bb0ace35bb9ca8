/**
 * The shim ⇄ daemon protocol: one `POST /cni` per CNI call over the unix socket. Imported by
 * the shim, so it must stay free of imports.
 *
 * Request: `{ env: { CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH },
 * config: "<stdin text>" }`. Only the CNI_* variables are forwarded: the runtime's other
 * environment (which may hold secrets) stays in the shim.
 *
 * Answer: `{ exitCode, stdout }` — exactly what the plugin must print and exit with. HTTP 200
 * when the daemon ran the call (success or CNI error alike); 503 when it did not start it
 * (saturated or shutting down: the body is a code-11 error, and the shim may retry a DEL);
 * 400 for a body that is not a request.
 */
export const CNI_PATH_ENDPOINT = '/cni';

export const FORWARDED_ENV = [
  'CNI_COMMAND',
  'CNI_CONTAINERID',
  'CNI_NETNS',
  'CNI_IFNAME',
  'CNI_ARGS',
  'CNI_PATH',
] as const;

export interface DaemonCniRequest {
  env: Record<string, string>;
  config: string;
}

export interface DaemonCniAnswer {
  exitCode: number;
  stdout: string;
}

/** Request bodies are a CNI config and six variables: anything bigger is refused. */
export const MAX_REQUEST_BYTES = 4 << 20;
