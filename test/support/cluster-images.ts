/**
 * The images a cluster runs, built from local files (there is no registry here):
 * - the toolbox: Debian's busybox-static with every applet linked (sh, ip, ping, and
 *   `httpd -f -p 8080` as its command: the 2018 pod's port);
 * - multinet's own image, as deploy/Containerfile lays it out (/opt/multinet with dist/,
 *   production node_modules, deploy/; /usr/local/bin/multinet), on the machine's /usr/bin/node
 *   and its shared libraries instead of the node:20-bookworm-slim base, with busybox for sh/ip.
 * Each is an OCI layout tarball under .tmp/images/, rebuilt only when its inputs change.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './control-plane.ts';
import { packOciImage } from './oci-image.ts';

const run = promisify(execFile);
export const TOOLBOX_IMAGE = 'multinet.local/toolbox:1';
/** The name deploy/thick and deploy/thin use, so the shipped manifests run unedited. */
export const MULTINET_IMAGE = 'ghcr.io/multinet/multinet:0.1.0';
export const IMAGE_DIR = join(REPO_ROOT, '.tmp/images');
const BUSYBOX = '/bin/busybox';
/** util-linux and iproute2 programs multinet runs (setpriv --pdeathsig, flock), as on the host. */
const HOST_PROGRAMS = ['/usr/bin/setpriv', '/usr/bin/flock', '/usr/bin/nsenter', '/bin/ip'];
/** Bump when a recipe below changes. */
const RECIPE = 'v2';

/** Symlinks every busybox applet (`busybox --list-full`: bin/sh, sbin/ip, ...) into `rootfs`. */
async function installBusybox(rootfs: string): Promise<void> {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} missing: apt-get install busybox-static`);
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await cp(BUSYBOX, join(rootfs, 'bin/busybox'));
  const { stdout } = await run(BUSYBOX, ['--list-full']);
  for (const applet of stdout.split('\n').filter(Boolean)) {
    const path = join(rootfs, applet);
    if (existsSync(path)) continue;
    await mkdir(dirname(path), { recursive: true });
    await symlink(relative(dirname(path), join(rootfs, 'bin/busybox')), path);
  }
  for (const d of ['tmp', 'etc', 'proc', 'sys', 'dev', 'run', 'var/run']) {
    await mkdir(join(rootfs, d), { recursive: true });
  }
  await chmod(join(rootfs, 'tmp'), 0o1777);
}

async function keyOf(parts: string[]): Promise<string> {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 16);
}

async function cached(
  name: string,
  key: string,
  build: (rootfs: string) => Promise<void>,
  image: Parameters<typeof packOciImage>[1],
): Promise<string> {
  const tarball = join(IMAGE_DIR, `${name}-${key}.tar`);
  if (existsSync(tarball)) return tarball;
  await mkdir(IMAGE_DIR, { recursive: true });
  // Older builds of the same image: keep only the current one.
  for (const f of await readdir(IMAGE_DIR)) {
    if (f.startsWith(`${name}-`) && f.endsWith('.tar')) await rm(join(IMAGE_DIR, f), { force: true });
  }
  const rootfs = await mkdtemp(join(IMAGE_DIR, `.${name}-rootfs-`));
  try {
    await build(rootfs);
    await packOciImage(rootfs, image, tarball);
    return tarball;
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

export async function buildToolboxImage(): Promise<string> {
  const bb = await stat(BUSYBOX).catch(() => undefined);
  const key = await keyOf([RECIPE, String(bb?.size), String(bb?.mtimeMs)]);
  return cached('toolbox', key, installBusybox, {
    name: TOOLBOX_IMAGE,
    cmd: ['httpd', '-f', '-p', '8080'],
  });
}

/** Files under `dir` as "path size mtime" lines: a cheap key for "dist/ changed". */
async function treeStamp(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const s = await stat(path);
    out.push(`${relative(dir, path)} ${s.size} ${s.mtimeMs}`);
  }
  return out.sort();
}

/** The shared libraries of a dynamically linked program (`ldd` paths, loader included). */
async function sharedLibraries(bin: string): Promise<string[]> {
  const { stdout } = await run('ldd', [bin]);
  return [...stdout.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
}

/** multinet's image from the built repository (npm run build, build:shim-bin, build:daemon, build:thin). */
export async function buildMultinetImage(opts: { name?: string } = {}): Promise<string> {
  const name = opts.name ?? MULTINET_IMAGE;
  const dist = join(REPO_ROOT, 'dist');
  for (const f of ['bin/multinet.js', 'multinet.mjs', 'multinet-cni.cjs']) {
    if (!existsSync(join(dist, f)))
      throw new Error(
        `dist/${f} missing: run npm run build && npm run build:daemon && npm run build:thin && npm run build:shim-bin`,
      );
  }
  const node = await run('sh', ['-c', 'command -v node']).then((r) => r.stdout.trim());
  const lock = await stat(join(REPO_ROOT, 'package-lock.json'));
  const key = await keyOf([RECIPE, name, node, String(lock.mtimeMs), ...(await treeStamp(dist))]);
  return cached(
    'multinet',
    key,
    async (rootfs) => {
      await installBusybox(rootfs);
      const app = join(rootfs, 'opt/multinet');
      await mkdir(app, { recursive: true });
      await cp(join(REPO_ROOT, 'package.json'), join(app, 'package.json'));
      await cp(dist, join(app, 'dist'), { recursive: true });
      await cp(join(REPO_ROOT, 'deploy'), join(app, 'deploy'), { recursive: true });
      // Production dependencies only, as `npm prune --omit=dev` leaves them.
      const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT });
      const copied: string[] = [];
      const paths = stdout.split('\n').filter((p) => p.startsWith(join(REPO_ROOT, 'node_modules/')));
      for (const path of paths.sort()) {
        if (copied.some((c) => path.startsWith(`${c}/`))) continue; // came with its parent
        await cp(path, join(app, relative(REPO_ROOT, path)), { recursive: true, dereference: false });
        copied.push(path);
      }
      // Node, and what deploy/Containerfile installs from Debian (util-linux: setpriv, flock,
      // nsenter; iproute2: ip) over busybox's applets of those names, with their libraries.
      for (const program of [node, ...HOST_PROGRAMS]) {
        for (const file of [program, ...(await sharedLibraries(program))]) {
          await rm(join(rootfs, file), { force: true });
          await mkdir(dirname(join(rootfs, file)), { recursive: true });
          await cp(file, join(rootfs, file), { dereference: true });
        }
      }
      if (!node.startsWith('/usr/bin/')) await symlink(node, join(rootfs, 'usr/bin/node'));
      await chmod(join(app, 'dist/bin/multinet.js'), 0o755);
      await mkdir(join(rootfs, 'usr/local/bin'), { recursive: true });
      await symlink('/opt/multinet/dist/bin/multinet.js', join(rootfs, 'usr/local/bin/multinet'));
    },
    { name, workingDir: '/opt/multinet' },
  );
}
