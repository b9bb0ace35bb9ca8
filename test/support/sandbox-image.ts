/**
 * The sandbox image containerd's CRI needs before it can run a pod (there is no registry here):
 * test/fixtures/pause.c built with `gcc -static`, packed as an OCI image-layout tarball whose
 * index names it `registry.k8s.io/pause:3.6`, ready for `ctr -n k8s.io images import`. The
 * tarball is cached in .tmp/ (git-ignored), keyed by the source and this recipe.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './control-plane.ts';

const run = promisify(execFile);
export const SANDBOX_IMAGE = 'registry.k8s.io/pause:3.6';
/** Bump when the packing below changes, so a stale cached tarball is not reused. */
const RECIPE = 'oci-layout-v1';
const PAUSE_SOURCE = join(REPO_ROOT, 'test/fixtures/pause.c');
const CACHE_DIR = join(REPO_ROOT, '.tmp/sandbox-image');

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Path of the image tarball, built on first use. */
export async function buildSandboxImage(): Promise<string> {
  const source = await readFile(PAUSE_SOURCE);
  const tarball = join(CACHE_DIR, `pause-${sha256(`${RECIPE}\0${source.toString()}`).slice(0, 16)}.tar`);
  if (existsSync(tarball)) return tarball;
  await mkdir(CACHE_DIR, { recursive: true });
  const work = await mkdtemp(join(CACHE_DIR, 'build-'));
  try {
    await packLayout(work);
    // Atomic: a concurrent run sees either no tarball or a whole one.
    await rename(join(work, 'image.tar'), tarball);
    return tarball;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function packLayout(work: string): Promise<void> {
  const rootfs = join(work, 'rootfs');
  const layout = join(work, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(rootfs);
  await mkdir(blobs, { recursive: true });
  await run('gcc', ['-static', '-Os', '-s', '-o', join(rootfs, 'pause'), PAUSE_SOURCE]);
  // Reproducible layer: fixed owner and mtime.
  const tarFlags = ['--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--sort=name'];
  await run('tar', [...tarFlags, '-C', rootfs, '-cf', join(work, 'layer.tar'), 'pause']);
  const layer = await readFile(join(work, 'layer.tar'));
  const config = Buffer.from(
    JSON.stringify({
      architecture: goArch(),
      os: 'linux',
      config: { Entrypoint: ['/pause'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: descriptor('application/vnd.oci.image.config.v1+json', config),
      layers: [descriptor('application/vnd.oci.image.layer.v1.tar', layer)],
    }),
  );
  for (const blob of [layer, config, manifest]) await writeFile(join(blobs, sha256(blob)), blob);
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        ...descriptor('application/vnd.oci.image.manifest.v1+json', manifest),
        platform: { architecture: goArch(), os: 'linux' },
        annotations: {
          'io.containerd.image.name': SANDBOX_IMAGE,
          'org.opencontainers.image.ref.name': SANDBOX_IMAGE.split(':').pop()!,
        },
      },
    ],
  };
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  await run('tar', [
    ...tarFlags,
    '-C',
    layout,
    '-cf',
    join(work, 'image.tar'),
    'oci-layout',
    'index.json',
    'blobs',
  ]);
}

function descriptor(mediaType: string, blob: Buffer): { mediaType: string; digest: string; size: number } {
  return { mediaType, digest: `sha256:${sha256(blob)}`, size: blob.length };
}

/** The OCI architecture name of this machine (containerd matches it against the platform). */
function goArch(): string {
  const arch: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    s390x: 's390x',
    ppc64: 'ppc64le',
  };
  return arch[process.arch] ?? process.arch;
}
