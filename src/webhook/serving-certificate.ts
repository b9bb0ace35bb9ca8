import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../log/logger.ts';

export interface CertificatePair {
  cert: Buffer;
  key: Buffer;
}

/** How often the files are compared with what is served (a renewed Secret appears within ~1 min). */
export const CERTIFICATE_CHECK_MS = 30_000;

/**
 * The webhook's serving certificate and key, read from files (a mounted kubernetes.io/tls
 * Secret: tls.crt, tls.key). The kubelet updates a Secret volume by swapping a symlink, so the
 * files are simply re-read and compared; a new pair is used only once it loads as a TLS context
 * (a certificate written before its key is not served half-renewed).
 */
export class ServingCertificate {
  private current: CertificatePair | undefined;

  constructor(
    readonly certFile: string,
    readonly keyFile: string,
  ) {}

  /** Reads and checks the pair; throws naming the file and what is wrong. */
  async load(): Promise<CertificatePair> {
    const read = async (path: string, what: string) => {
      try {
        return await readFile(path);
      } catch (err) {
        throw new Error(`cannot read the ${what} ${path}: ${(err as Error).message}`, { cause: err });
      }
    };
    const pair = { cert: await read(this.certFile, 'certificate'), key: await read(this.keyFile, 'key') };
    try {
      createSecureContext(pair);
    } catch (err) {
      throw new Error(
        `${this.certFile} and ${this.keyFile} are not a PEM certificate and its private key: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.current = pair;
    return pair;
  }

  /** Until `signal` aborts: calls `onChange` with each new valid pair. */
  async watch(
    signal: AbortSignal,
    onChange: (pair: CertificatePair) => void,
    log: Logger,
    intervalMs = CERTIFICATE_CHECK_MS,
  ): Promise<void> {
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, intervalMs);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      if (signal.aborted) return;
      const before = this.current;
      try {
        const pair = await this.load();
        if (before && pair.cert.equals(before.cert) && pair.key.equals(before.key)) continue;
        onChange(pair);
        log.info({ cert: this.certFile }, 'serving certificate reloaded');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'keeping the serving certificate in use');
      }
    }
  }
}
