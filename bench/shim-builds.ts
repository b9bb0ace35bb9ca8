/**
 * The candidate ways of shipping multinet's TypeScript shim, built into a cache directory before
 * scenario 5, beside Multus's Go shim. A candidate that cannot be built here is reported as
 * unavailable with the reason; it never fails the run. Bun and postject come from npm, pinned,
 * installed into node_modules/.cache (git-ignored), never into the project's dependencies.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../test/support/control-plane.ts';
import { execTimed } from './exec-cni.ts';
import { MULTINET_SHIM } from './implementations/multinet.ts';
import { MULTUS_BIN_DIR } from './implementations/multus.ts';

const run = promisify(execFile);
/**
 * How the shipped executables are compiled: package.json's bun:compile (`npx --yes bun@V build
 * --compile FLAGS...`), read from there so the candidates are built as build:shim-bin builds.
 */
const SHIPPED_COMPILE = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts['bun:compile']!;
export const BUN_VERSION = /\bbun@([\w.-]+)/.exec(SHIPPED_COMPILE)![1]!;
const BUN_SHIPPED_FLAGS = SHIPPED_COMPILE.split(' ').filter(
  (w) => w.startsWith('--') && w !== '--compile' && w !== '--yes',
);
export const POSTJECT_VERSION = '1.0.0-alpha.6';
export const TOOLS_DIR = join(REPO_ROOT, 'node_modules/.cache/multinet-bench');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface ShimBuild {
  id: string;
  label: string;
  command?: string[];
  env?: Record<string, string>;
  /** The shipped artifact(s), for the size column. */
  files?: string[];
  why?: string;
  /** 'multus' stubs answer in Multus's wire format, 'multinet' in ours. */
  wire: 'multinet' | 'multus';
}

/**
 * Bun and postject, installed together (npm prunes what a later install does not name) into a
 * cache directory with its own package.json; reinstalled only when a pin changes.
 */
async function npmTools(log: (s: string) => void): Promise<{ bun: string; postject: string }> {
  const bin = (name: string) => join(TOOLS_DIR, 'node_modules/.bin', name);
  const specs = [`bun@${BUN_VERSION}`, `postject@${POSTJECT_VERSION}`];
  const stamp = join(TOOLS_DIR, '.installed');
  const want = specs.join(' ');
  const have = existsSync(stamp) ? readFileSync(stamp, 'utf8') : '';
  if (have !== want || !existsSync(bin('bun')) || !existsSync(bin('postject'))) {
    log(`  installing ${want} from npm into ${TOOLS_DIR}\n`);
    await mkdir(TOOLS_DIR, { recursive: true });
    await writeFile(join(TOOLS_DIR, 'package.json'), '{ "private": true }\n');
    await run('npm', ['install', '--prefix', TOOLS_DIR, '--no-audit', '--no-fund', ...specs], {
      timeout: 180_000, // a registry that does not answer must not hold the run
    });
    await writeFile(stamp, want);
  }
  return { bun: bin('bun'), postject: bin('postject') };
}

const size = (files: string[]): number => files.reduce((n, f) => n + statSync(f).size, 0);
export const sizeOf = (b: ShimBuild): number | undefined =>
  b.files && b.files.every((f) => existsSync(f)) ? size(b.files) : undefined;

async function attempt(
  id: string,
  label: string,
  fn: () => Promise<Omit<ShimBuild, 'id' | 'label' | 'wire'>>,
): Promise<ShimBuild> {
  try {
    return { id, label, wire: 'multinet', ...(await fn()) };
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    return { id, label, wire: 'multinet', why: (e.stderr?.trim() || e.message || String(err)).slice(0, 400) };
  }
}

export async function buildShimCandidates(dir: string, log: (s: string) => void): Promise<ShimBuild[]> {
  await mkdir(dir, { recursive: true });
  const node = process.execPath;
  const bundle = MULTINET_SHIM;
  const builds: ShimBuild[] = [
    {
      id: 'multus-go',
      label: 'Multus multus-shim (Go)',
      command: [join(MULTUS_BIN_DIR, 'multus-shim')],
      files: [join(MULTUS_BIN_DIR, 'multus-shim')],
      wire: 'multus',
    },
    {
      id: 'node-bundle',
      label: 'node + bundled JS',
      command: [node, bundle],
      files: [bundle],
      wire: 'multinet',
    },
  ];

  // Node 22's module compile cache; node 20 has no such variable, so say so rather than time a no-op.
  const hasCompileCache = Number(process.versions.node.split('.')[0]) >= 22;
  builds.push(
    hasCompileCache
      ? {
          id: 'node-compile-cache',
          label: 'node + NODE_COMPILE_CACHE',
          command: [node, bundle],
          env: { NODE_COMPILE_CACHE: join(dir, 'compile-cache') },
          files: [bundle],
          wire: 'multinet',
        }
      : {
          id: 'node-compile-cache',
          label: 'node + NODE_COMPILE_CACHE',
          why: `node ${process.versions.node} has no NODE_COMPILE_CACHE (node >= 22.1)`,
          wire: 'multinet',
        },
  );

  builds.push(
    await attempt('node-v8-cache', 'node + V8 code cache (vm.Script cachedData)', async () => {
      const loader = join(dir, 'shim-v8-cache.cjs');
      const cache = join(dir, 'shim.v8cache');
      await writeFile(
        loader,
        [
          '"use strict";',
          '// Runs the bundled shim from V8 code cache made by its first run (what NODE_COMPILE_CACHE does on node 22).',
          'const fs = require("node:fs"), vm = require("node:vm");',
          `const file = ${JSON.stringify(bundle)}, cacheFile = ${JSON.stringify(cache)};`,
          'let cachedData; try { cachedData = fs.readFileSync(cacheFile); } catch {}',
          'const script = new vm.Script(fs.readFileSync(file, "utf8"), { filename: file, cachedData });',
          'script.runInThisContext();',
          'if (!cachedData || script.cachedDataRejected) process.once("exit", () => { try { fs.writeFileSync(cacheFile, script.createCachedData()); } catch {} });',
          '',
        ].join('\n'),
      );
      const first = await execTimed([node, loader], { CNI_COMMAND: 'VERSION' }, '{}'); // makes the cache
      if (first.code !== 0 || !existsSync(cache))
        throw new Error(`first run: ${first.stdout}${first.stderr}`);
      return { command: [node, loader], files: [bundle, loader, cache] };
    }),
  );

  builds.push(
    await attempt('node-snapshot', 'node + startup snapshot (--snapshot-blob)', async () => {
      const entry = join(dir, 'snapshot-entry.cjs');
      const blob = join(dir, 'shim-snapshot.blob');
      await writeFile(
        entry,
        [
          '"use strict";',
          'const fs = require("node:fs"), v8 = require("node:v8");',
          `const main = new Function(fs.readFileSync(${JSON.stringify(bundle)}, "utf8").replace(/^#!.*/, ""));`,
          'v8.startupSnapshot.setDeserializeMainFunction(() => main());',
          '',
        ].join('\n'),
      );
      await run(node, ['--snapshot-blob', blob, '--build-snapshot', entry], { cwd: dir });
      return { command: [node, '--snapshot-blob', blob], files: [blob] };
    }),
  );

  const tools = await npmTools(log).catch((e: Error) => e);
  const postject = tools instanceof Error ? tools : tools.postject;
  for (const codeCache of [false, true]) {
    const id = codeCache ? 'node-sea-code-cache' : 'node-sea';
    const label = codeCache ? 'Node single executable + code cache' : 'Node single executable (SEA)';
    builds.push(
      await attempt(id, label, async () => {
        if (postject instanceof Error) throw postject;
        const cfg = join(dir, `${id}.json`);
        const blob = join(dir, `${id}.blob`);
        const exe = join(dir, id);
        await writeFile(
          cfg,
          JSON.stringify({
            main: bundle,
            output: blob,
            disableExperimentalSEAWarning: true,
            ...(codeCache ? { useCodeCache: true } : {}),
          }),
        );
        await run(node, ['--experimental-sea-config', cfg], { cwd: dir });
        await copyFile(node, exe);
        await chmod(exe, 0o755);
        await run(postject, [exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { timeout: 120_000 });
        return { command: [exe], files: [exe] };
      }),
    );
  }

  const bun = tools instanceof Error ? tools : tools.bun;
  builds.push(
    await attempt('bun-run', 'bun + bundled JS', async () => {
      if (bun instanceof Error) throw bun;
      return { command: [bun, bundle], files: [bundle] };
    }),
  );
  builds.push(
    await attempt('bun-compile', 'bun build --compile', async () => {
      if (bun instanceof Error) throw bun;
      const exe = join(dir, 'multinet-shim-bun');
      await run(
        bun,
        [
          'build',
          '--compile',
          '--minify',
          ...BUN_SHIPPED_FLAGS,
          join(REPO_ROOT, 'src/bin/multinet-shim.ts'),
          '--outfile',
          exe,
        ],
        {
          cwd: REPO_ROOT,
          timeout: 120_000,
        },
      );
      return { command: [exe], files: [exe] };
    }),
  );
  // The shipped shim's one request is a raw socket write (src/shim/raw-unix-post.ts); these are
  // the same shim with node:http's client instead (bench/shim-http-entry.ts), for comparison.
  const httpEntry = join(REPO_ROOT, 'bench/shim-http-entry.ts');
  const httpBundle = join(dir, 'multinet-shim-http.js');
  builds.push(
    await attempt('node-bundle-http', 'node + bundled JS, node:http client', async () => {
      await run(
        join(REPO_ROOT, 'node_modules/.bin/esbuild'),
        [
          httpEntry,
          '--bundle',
          '--platform=node',
          '--target=node20',
          '--format=iife',
          '--minify',
          '--legal-comments=none',
          `--outfile=${httpBundle}`,
        ],
        { cwd: REPO_ROOT, timeout: 60_000 },
      );
      return { command: [node, httpBundle], files: [httpBundle] };
    }),
  );
  builds.push(
    await attempt('bun-compile-node-net', 'bun build --compile, node:net socket', async () => {
      if (bun instanceof Error) throw bun;
      const exe = join(dir, 'multinet-shim-bun-node-net');
      await run(bun, ['build', '--compile', '--minify', ...BUN_SHIPPED_FLAGS, httpEntry, '--outfile', exe], {
        cwd: REPO_ROOT,
        timeout: 120_000,
      });
      return { command: [exe], files: [exe], env: { MULTINET_BENCH_SHIM_POST: 'node-net' } };
    }),
  );
  // The same executable with the shipped raw write through Bun's socket, printing through
  // process.stdout as the shipped shim did before it wrote synchronously and exited.
  builds.push(
    await attempt('bun-compile-stdout-stream', 'bun build --compile, process.stdout stream', async () => {
      const exe = join(dir, 'multinet-shim-bun-node-net');
      if (!existsSync(exe)) throw new Error('the node:net build above failed');
      return { command: [exe], files: [exe], env: { MULTINET_BENCH_SHIM_POST: 'raw' } };
    }),
  );
  builds.push(
    await attempt('bun-compile-http', 'bun build --compile, node:http client', async () => {
      if (bun instanceof Error) throw bun;
      const exe = join(dir, 'multinet-shim-bun-http');
      await run(bun, ['build', '--compile', '--minify', httpEntry, '--outfile', exe], {
        cwd: REPO_ROOT,
        timeout: 120_000,
      });
      return { command: [exe], files: [exe] };
    }),
  );
  return builds;
}
