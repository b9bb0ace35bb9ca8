/**
 * Scenario 5: exec-to-exit of the shim alone, per way of shipping it. Two calls: VERSION (the
 * shim answers by itself: pure start-up) and ADD against a stub daemon on a unix socket that
 * answers at once (start-up + config read + one request). No namespaces, no delegates. The
 * candidates run interleaved, round after round, so drift on the machine hits all alike.
 */
import { createServer, type Server } from 'node:http';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from '../bench-context.ts';
import { cniEnv, execTimed } from '../exec-cni.ts';
import type { ShimCandidate } from '../results.ts';
import { buildShimCandidates, sizeOf, type ShimBuild } from '../shim-builds.ts';
import { median, round2 } from '../stats.ts';

const RESULT = { cniVersion: '1.0.0', interfaces: [], ips: [] };

/** One stub daemon per wire format: multinet's {exitCode, stdout} and Multus's {Result}. */
async function stub(socketPath: string, wire: 'multinet' | 'multus'): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (wire === 'multus') res.end(req.url === '/cni' ? JSON.stringify({ Result: RESULT }) : '');
      else
        res.end(
          JSON.stringify({ exitCode: 0, stdout: `${JSON.stringify({ ...RESULT, cniVersion: '0.4.0' })}\n` }),
        );
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return server;
}

export async function runShimStartup(
  ctx: BenchContext,
  opts: { iterations: number },
): Promise<{ iterations: number; candidates: ShimCandidate[] }> {
  const dir = await ctx.scene.tempDir('shim');
  const buildDir = join(dir, 'build');
  ctx.log('  building shim candidates...\n');
  const builds = await buildShimCandidates(buildDir, ctx.log);
  const multinetSock = join(dir, 'multinet.sock');
  const multusDir = join(dir, 'multus');
  await mkdir(multusDir, { recursive: true });
  const servers = [
    await stub(multinetSock, 'multinet'),
    await stub(join(multusDir, 'multus.sock'), 'multus'),
  ];
  try {
    const configs = {
      multinet: JSON.stringify({
        cniVersion: '0.4.0',
        name: 'multinet',
        type: 'multinet-shim',
        socketPath: multinetSock,
      }),
      multus: JSON.stringify({
        cniVersion: '0.4.0',
        name: 'multus-cni-network',
        type: 'multus-shim',
        daemonSocketDir: multusDir,
      }),
    };
    const pod = { namespace: 'bench', name: 'shim', uid: '00000000-0000-0000-0000-000000000000' };
    const candidates: ShimCandidate[] = builds.map((b) => ({
      id: b.id,
      label: b.label,
      available: b.command !== undefined,
      ...(b.why ? { why: b.why } : {}),
      ...(sizeOf(b) !== undefined ? { sizeBytes: sizeOf(b)! } : {}),
      version: [],
      addStub: [],
      errors: [],
    }));
    const once = async (b: ShimBuild, c: ShimCandidate, command: 'VERSION' | 'ADD') => {
      const env = {
        ...cniEnv(
          { command, containerId: 'shim-bench', netns: '/run/netns/none', pod, networks: [] },
          '/usr/lib/cni',
        ),
        ...b.env,
      };
      const r = await execTimed(b.command!, env, configs[b.wire]);
      if (r.code === 0) (command === 'VERSION' ? c.version : c.addStub).push(round2(r.ms));
      else if (c.errors.length < 5)
        c.errors.push(`${command}: exit ${r.code}: ${(r.stdout + r.stderr).trim().slice(0, 300)}`);
    };
    for (let i = 0; i < opts.iterations; i++) {
      for (const [k, b] of builds.entries()) {
        if (!b.command) continue;
        await once(b, candidates[k]!, 'VERSION');
        await once(b, candidates[k]!, 'ADD');
      }
    }
    for (const c of candidates)
      ctx.log(
        c.available
          ? `  ${c.id}: VERSION ${median(c.version).toFixed(1)} ms, ADD(stub) ${median(c.addStub).toFixed(1)} ms${c.errors.length ? `, errors: ${c.errors[0]}` : ''}\n`
          : `  ${c.id}: unavailable (${c.why})\n`,
      );
    return { iterations: opts.iterations, candidates };
  } finally {
    for (const s of servers) await new Promise((r) => s.close(r));
    await rm(join(buildDir), { recursive: true, force: true });
  }
}
