import { existsSync } from 'node:fs';
import { runCommand } from '../../host/commands.ts';
import { DIST_MULTINET, DIST_SHIM } from './demo-scene.ts';

const NEEDS: { what: string; present: () => boolean; pkg: string }[] = [
  {
    what: 'reference CNI plugins',
    present: () => existsSync('/usr/lib/cni/macvlan'),
    pkg: 'containernetworking-plugins',
  },
  {
    what: 'iproute2',
    present: () => existsSync('/usr/sbin/ip') || existsSync('/sbin/ip') || existsSync('/bin/ip'),
    pkg: 'iproute2',
  },
  {
    what: 'nsenter/unshare',
    present: () => existsSync('/usr/bin/nsenter') && existsSync('/usr/bin/unshare'),
    pkg: 'util-linux',
  },
  {
    what: 'ping',
    present: () => existsSync('/usr/bin/ping') || existsSync('/bin/ping'),
    pkg: 'iputils-ping',
  },
];

/** Installs what the demo needs from Debian when it can (root + apt), else says exactly what is missing. */
export async function checkDemoPrerequisites(step: (what: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the demo creates network namespaces: run it as root');
  const missing = NEEDS.filter((n) => !n.present());
  if (missing.length > 0) {
    const pkgs = missing.map((m) => m.pkg);
    if (!existsSync('/usr/bin/apt-get'))
      throw new Error(
        `missing: ${missing.map((m) => m.what).join(', ')} (Debian packages: ${pkgs.join(' ')})`,
      );
    step(`installing ${pkgs.join(' ')} with apt-get`);
    await runCommand(['apt-get', 'update', '-qq'], { timeoutMs: 300_000 });
    const r = await runCommand(['apt-get', 'install', '-y', '-qq', ...pkgs], {
      timeoutMs: 600_000,
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        DEBIAN_FRONTEND: 'noninteractive',
      },
    });
    if (r.code !== 0) throw new Error(`apt-get install ${pkgs.join(' ')} failed: ${r.stderr.trim()}`);
  }
  for (const f of [DIST_MULTINET, DIST_SHIM])
    if (!existsSync(f))
      throw new Error(`${f} is not built: run "npm run build" (scripts/demo.sh does it for you)`);
  step('prerequisites: root, iproute2, reference CNI plugins, built multinet and shim');
}
