/**
 * Packs a directory tree as an OCI image-layout tarball (`oci-layout`, `index.json` naming the
 * image through `io.containerd.image.name`, one config, one uncompressed layer) that
 * `ctr -n k8s.io images import` takes: how every image of the tests and the cluster is made,
 * since nothing can be pulled here. The layer is reproducible (fixed owner and mtime, sorted).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface OciImageConfig {
  /** Full reference, e.g. `registry.k8s.io/pause:3.6`. */
  name: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const TAR_FLAGS = ['--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--sort=name'];

/** Writes `outTar` (atomically: a concurrent reader sees no file or a whole one) from `rootfs`. */
export async function packOciImage(rootfs: string, image: OciImageConfig, outTar: string): Promise<void> {
  await mkdir(dirname(outTar), { recursive: true });
  const work = await mkdtemp(join(dirname(outTar), '.pack-'));
  try {
    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const layerTmp = join(work, 'layer.tar');
    await run('tar', [...TAR_FLAGS, '-C', rootfs, '-cf', layerTmp, '.'], { maxBuffer: 1 << 24 });
    const layerDigest = await sha256File(layerTmp);
    const layerSize = (await stat(layerTmp)).size;
    await rename(layerTmp, join(blobs, layerDigest));
    const config = Buffer.from(
      JSON.stringify({
        architecture: ociArch(),
        os: 'linux',
        config: {
          ...(image.entrypoint ? { Entrypoint: image.entrypoint } : {}),
          ...(image.cmd ? { Cmd: image.cmd } : {}),
          Env: image.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          ...(image.workingDir ? { WorkingDir: image.workingDir } : {}),
        },
        rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
      }),
    );
    const layerDescriptor = {
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: `sha256:${layerDigest}`,
      size: layerSize,
    };
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: descriptor('application/vnd.oci.image.config.v1+json', config),
        layers: [layerDescriptor],
      }),
    );
    for (const blob of [config, manifest]) await writeFile(join(blobs, sha256(blob)), blob);
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const index = {
      schemaVersion: 2,
      manifests: [
        {
          ...descriptor('application/vnd.oci.image.manifest.v1+json', manifest),
          platform: { architecture: ociArch(), os: 'linux' },
          annotations: {
            'io.containerd.image.name': image.name,
            'org.opencontainers.image.ref.name': image.name.split(':').pop()!,
          },
        },
      ],
    };
    await writeFile(join(layout, 'index.json'), JSON.stringify(index));
    const tarTmp = join(work, 'image.tar');
    await run('tar', [...TAR_FLAGS, '-C', layout, '-cf', tarTmp, 'oci-layout', 'index.json', 'blobs']);
    await rename(tarTmp, outTar);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function descriptor(mediaType: string, blob: Buffer): { mediaType: string; digest: string; size: number } {
  return { mediaType, digest: `sha256:${sha256(blob)}`, size: blob.length };
}

/** The OCI architecture name of this machine (containerd matches it against the platform). */
export function ociArch(): string {
  const arch: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    s390x: 's390x',
    ppc64: 'ppc64le',
  };
  return arch[process.arch] ?? process.arch;
}
