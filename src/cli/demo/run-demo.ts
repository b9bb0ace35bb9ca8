import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mustRun, runCommand } from '../../host/commands.ts';
import { parseNetworkStatus } from '../../spec/network-status.ts';
import { DEMO_PREFIX, DemoScene, demoPaths, podNs, PODS, teardownDemo } from './demo-scene.ts';
import { checkDemoPrerequisites } from './demo-prerequisites.ts';

export interface DemoOptions {
  state: string;
  keep: boolean;
  json: boolean;
  color: boolean;
  out: (s: string) => void;
  signal: AbortSignal;
}

interface PodView {
  pod: string;
  interfaces: { ifname: string; state: string; addresses: string[] }[];
  networkStatus: ReturnType<typeof parseNetworkStatus>;
}

export interface DemoReport {
  ok: boolean;
  pods: PodView[];
  ping: {
    from: string;
    to: string;
    address: string;
    via: string;
    transmitted: number;
    received: number;
    ok: boolean;
  };
  leftovers: {
    podInterfaces: string[];
    ipamAllocations: string[];
    cacheFiles: string[];
    namespaces: string[];
  } | null;
  kept: boolean;
}

const paint = (on: boolean, code: string, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

function table(rows: string[][], indent = '    '): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map(
      (r) =>
        indent +
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
    )
    .join('\n');
}

async function podView(scene: DemoScene, pod: string): Promise<PodView> {
  const links = JSON.parse(await mustRun(['ip', '-j', '-n', podNs(pod), 'addr'])) as {
    ifname: string;
    operstate: string;
    addr_info?: { local: string; prefixlen: number; scope?: string }[];
  }[];
  const status = await scene.networkStatus(pod);
  return {
    pod,
    interfaces: links.map((l) => ({
      ifname: l.ifname,
      state: l.operstate,
      addresses: (l.addr_info ?? [])
        .filter((a) => a.scope !== 'link')
        .map((a) => `${a.local}/${a.prefixlen}`),
    })),
    networkStatus: status ? parseNetworkStatus(status) : [],
  };
}

async function filesUnder(dir: string, keep: (name: string) => boolean = () => true): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p, keep)));
    else if (keep(e.name)) out.push(p);
  }
  return out;
}

/** The demo: two pods with several networks on this machine, through the production path. */
export async function runDemo(o: DemoOptions): Promise<DemoReport> {
  const say = (s: string) => {
    if (!o.json) o.out(`${s}\n`);
  };
  const step = (what: string) => say(`  ${paint(o.color, '32', '✓')} ${what}`);
  say(paint(o.color, '1', 'multinet demo: two pods, several networks, no cluster'));
  await checkDemoPrerequisites(step);
  const paths = demoPaths(o.state);
  await teardownDemo(paths);
  const scene = new DemoScene(paths);
  const abort = () => void teardownDemo(paths);
  o.signal.addEventListener('abort', abort, { once: true });
  try {
    await scene.up(step);
    for (const pod of PODS) {
      const r = await scene.cni('ADD', pod);
      if (r.code !== 0) throw new Error(`ADD ${pod} failed: ${r.stdout.trim() || r.stderr.trim()}`);
      step(`ADD ${pod} through the shim`);
    }
    const pods: PodView[] = [];
    for (const pod of PODS) {
      const v = await podView(scene, pod);
      pods.push(v);
      say(`\n${paint(o.color, '1', pod)}   (ip -br addr, inside the pod)`);
      say(table(v.interfaces.map((i) => [i.ifname, i.state, i.addresses.join(' ')])));
      say('  network-status:');
      say(
        table([
          ['INTERFACE', 'NETWORK', 'IPS', 'MAC', 'DEFAULT'],
          ...v.networkStatus.map((s) => [
            s.interface ?? '',
            s.name,
            (s.ips ?? []).join(','),
            s.mac ?? '',
            s.default ? 'yes' : '',
          ]),
        ]),
      );
    }
    const target = pods[1]!.interfaces.find((i) => i.ifname === 'net1')?.addresses[0]?.split('/')[0] ?? '';
    const ping = await runCommand([
      'ip',
      'netns',
      'exec',
      podNs('pod-a'),
      'ping',
      '-c',
      '3',
      '-i',
      '0.2',
      '-W',
      '1',
      '-I',
      'net1',
      target,
    ]);
    const m = /(\d+) packets transmitted, (\d+) received/.exec(ping.stdout);
    const pingResult = {
      from: 'pod-a',
      to: 'pod-b',
      address: target,
      via: 'net1',
      transmitted: Number(m?.[1] ?? 0),
      received: Number(m?.[2] ?? 0),
      ok: ping.code === 0,
    };
    say(
      `\nping pod-a → pod-b over net1 (${target}): ${pingResult.received}/${pingResult.transmitted} received ${pingResult.ok ? paint(o.color, '32', 'OK') : paint(o.color, '31', 'FAILED')}`,
    );
    if (o.keep) {
      say(`\n--keep: the scene stays. Explore with: ip netns exec ${podNs('pod-a')} ip addr`);
      say('Remove it with: multinet demo down');
      return { ok: pingResult.ok, pods, ping: pingResult, leftovers: null, kept: true };
    }
    for (const pod of PODS) {
      const r = await scene.cni('DEL', pod);
      if (r.code !== 0) throw new Error(`DEL ${pod} failed: ${r.stdout.trim() || r.stderr.trim()}`);
    }
    say('\nDEL both pods through the shim; checking that nothing is left:');
    const podInterfaces: string[] = [];
    for (const pod of PODS) {
      const links = JSON.parse(await mustRun(['ip', '-j', '-n', podNs(pod), 'link'])) as { ifname: string }[];
      podInterfaces.push(...links.filter((l) => l.ifname !== 'lo').map((l) => `${pod}:${l.ifname}`));
    }
    const ipamAllocations = await filesUnder(
      paths.hostLocal,
      (n) => n !== 'lock' && !n.startsWith('last_reserved_ip'),
    );
    const cacheFiles = await filesUnder(paths.cache);
    await teardownDemo(paths);
    const ns = await runCommand(['ip', '-j', 'netns', 'list']);
    const namespaces = (ns.stdout.trim() ? (JSON.parse(ns.stdout) as { name: string }[]) : [])
      .map((n) => n.name)
      .filter((n) => n.startsWith(`${DEMO_PREFIX}-`));
    const leftovers = { podInterfaces, ipamAllocations, cacheFiles, namespaces };
    const show = (l: string[]) =>
      l.length === 0 ? paint(o.color, '32', 'none') : paint(o.color, '31', l.join(', '));
    say(
      table([
        ['pod interfaces', show(podInterfaces)],
        ['IPAM allocations', show(ipamAllocations)],
        ['cache files', show(cacheFiles)],
        ['namespaces', show(namespaces)],
      ]),
    );
    const ok = pingResult.ok && Object.values(leftovers).every((l) => l.length === 0);
    say(`\n${ok ? paint(o.color, '32', 'demo OK') : paint(o.color, '31', 'demo FAILED')}`);
    return { ok, pods, ping: pingResult, leftovers, kept: false };
  } catch (err) {
    if (!o.keep || o.signal.aborted) await teardownDemo(paths);
    if (o.signal.aborted) throw new Error('interrupted: everything the demo made has been removed');
    throw err;
  } finally {
    o.signal.removeEventListener('abort', abort);
  }
}
