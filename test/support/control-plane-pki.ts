// Certificates for a throw-away control plane, made with the openssl CLI: a CA, the apiserver's
// serving certificate (SANs 127.0.0.1 and localhost), an admin client certificate in
// system:masters, and the service-account signing key. ECDSA P-256 keys: generated in
// milliseconds, unlike RSA. Random serials, because the leaves are issued in parallel.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  /** Key pair for service-account tokens: the apiserver signs with the private, verifies with the public. */
  serviceAccountKey: string;
  serviceAccountPub: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr || e.message}`);
  }
}

/** Extensions every leaf certificate starts with (add extendedKeyUsage and SANs). */
export const LEAF_EXTENSIONS =
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Issues `<dir>/<name>.crt` and `.key` signed by the CA of `ca` (subject like `/O=group/CN=name`). */
export async function issue(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
  ca: Pick<Pki, 'caCert' | 'caKey'>,
): Promise<void> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await openssl(['req', ...EC, '-keyout', key, '-out', csr, '-subj', subject]);
  const serial = `0x${randomBytes(8).toString('hex')}`;
  const signing = ['-CA', ca.caCert, '-CAkey', ca.caKey, '-set_serial', serial, '-days', '365', '-sha256'];
  await openssl(['x509', '-req', '-in', csr, ...signing, '-extfile', ext, '-out', join(dir, `${name}.crt`)]);
}

/** Writes the whole PKI into `dir` (created, private to its owner); `extraSans` go into the apiserver's certificate. */
export async function createPki(dir: string, extraSans: string[] = []): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pki: Pki = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'service-account.key'),
    serviceAccountPub: join(dir, 'service-account.pub'),
  };
  const caExtensions = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];
  await openssl(
    ['req', '-x509', ...EC, '-keyout', pki.caKey, '-out', pki.caCert, '-days', '365']
      .concat(['-subj', '/CN=multinet-test-ca'])
      .concat(caExtensions.flatMap((e) => ['-addext', e])),
  );
  const leaf = LEAF_EXTENSIONS;
  const sans = ['IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc']
    .concat(extraSans)
    .join(',');
  const ecParams = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  await Promise.all([
    issue(
      dir,
      'apiserver',
      '/CN=kube-apiserver',
      `${leaf}extendedKeyUsage=serverAuth\nsubjectAltName=${sans}\n`,
      pki,
    ),
    issue(dir, 'admin', '/O=system:masters/CN=multinet-admin', `${leaf}extendedKeyUsage=clientAuth\n`, pki),
    (async () => {
      await openssl(['genpkey', ...ecParams, '-out', pki.serviceAccountKey]);
      await openssl(['pkey', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPub]);
    })(),
  ]);
  return pki;
}
