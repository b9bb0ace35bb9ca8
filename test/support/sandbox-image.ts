/**
 * The sandbox image containerd's CRI needs before it can run a pod (there is no registry here):
 * test/fixtures/pause.c built with `gcc -static`, packed as an OCI image-layout tarball whose
 * index names it `registry.k8s.io/pause:3.6`, ready for `ctr -n k8s.io images import`. The
 * tarball is cached in .tmp/ (git-ignored), keyed by the source and this recipe.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './control-plane.ts';
import { packOciImage } from './oci-image.ts';

const run = promisify(execFile);
export const SANDBOX_IMAGE = 'registry.k8s.io/pause:3.6';
/** Bump when the packing below changes, so a stale cached tarball is not reused. */
const RECIPE = 'oci-layout-v2';
const PAUSE_SOURCE = join(REPO_ROOT, 'test/fixtures/pause.c');
const CACHE_DIR = join(REPO_ROOT, '.tmp/sandbox-image');

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Path of the image tarball, built on first use. */
export async function buildSandboxImage(): Promise<string> {
  const source = await readFile(PAUSE_SOURCE);
  const tarball = join(CACHE_DIR, `pause-${sha256(`${RECIPE}\0${source.toString()}`).slice(0, 16)}.tar`);
  if (existsSync(tarball)) return tarball;
  await mkdir(CACHE_DIR, { recursive: true });
  const rootfs = await mkdtemp(join(CACHE_DIR, 'rootfs-'));
  try {
    await run('gcc', ['-static', '-Os', '-s', '-o', join(rootfs, 'pause'), PAUSE_SOURCE]);
    await packOciImage(rootfs, { name: SANDBOX_IMAGE, entrypoint: ['/pause'] }, tarball);
    return tarball;
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}
