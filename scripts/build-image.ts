// The image half of scripts/build-image.sh (run that: it builds dist/ first).
import { copyFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildMultinetImage, MULTINET_IMAGE } from '../test/support/cluster-images.ts';

const args = process.argv.slice(2);
const opt = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const name = opt('--name') ?? MULTINET_IMAGE;
const started = Date.now();
const tarball = await buildMultinetImage({ name });
const out = opt('--out');
if (out) await copyFile(tarball, resolve(out));
const size = (await stat(tarball)).size / 2 ** 20;
console.log(
  `${name}: ${out ? resolve(out) : tarball} (${size.toFixed(0)} MiB, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
);
console.log(`import on a node: ctr -n k8s.io images import ${out ? resolve(out) : tarball}`);
