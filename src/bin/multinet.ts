#!/usr/bin/env node
/**
 * The multinet command. Called with CNI_COMMAND in the environment (as the runtime does) it is
 * the thin CNI plugin; otherwise it dispatches subcommands. Subcommands are imported lazily so
 * the plugin path loads only what it needs.
 */
import * as fs from 'node:fs';
import { isatty } from 'node:tty';
import { readStdinSync, writeAllSync } from '../shim/stdio-sync.ts';

const argv = process.argv.slice(2);
const sub = argv[0];

async function main(): Promise<number> {
  const help = argv.includes('--help') || argv.includes('-h');
  if (process.env['CNI_COMMAND'] !== undefined || (sub === 'cni' && !help)) {
    const [{ runThinPlugin }, { buildEngineDeps }, { stderrLogger }] = await Promise.all([
      import('../thin/run-thin-plugin.ts'),
      import('./engine-deps.ts'),
      import('../host/stderr-logger.ts'),
    ]);
    let stdin: Buffer;
    try {
      // Not process.stdin/stdout: under Bun (the shipped thin plugin) their stream machinery cost
      // about 9 ms per call; the answer is one synchronous write.
      stdin = isatty(0) ? Buffer.alloc(0) : readStdinSync(fs);
    } catch (err) {
      // Still a CNI answer: the runtime reads the error object from stdout (CNI spec §5).
      const details = err instanceof Error ? err.message : String(err);
      writeAllSync(
        fs,
        1,
        `${JSON.stringify({ code: 6, msg: 'multinet: cannot read the configuration on stdin', details })}\n`,
      );
      return 1;
    }
    const out = await runThinPlugin(process.env, stdin, async (config) =>
      buildEngineDeps(config, process.env, stderrLogger(config.adapters.logLevel, { component: 'multinet' })),
    );
    writeAllSync(fs, 1, out.stdout);
    // Through the stream the logger wrote to, so that its lines stay in order.
    if (out.stderr) process.stderr.write(out.stderr);
    return out.exitCode;
  }
  let args = argv;
  const plugin = await import('../cli/kubectl-plugin.ts');
  if (plugin.invokedAsKubectlPlugin(process.argv[1], process.execPath)) {
    const mapped = plugin.kubectlPluginArgv(argv, process.env);
    if ('error' in mapped) {
      process.stderr.write(mapped.error);
      return 2;
    }
    args = mapped.argv;
  }
  const { runCli } = await import('../cli/run-cli.ts');
  const stop = new AbortController();
  // The demo cleans up on Ctrl-C; the daemon handles its own signals (graceful shutdown).
  if (sub === 'demo')
    for (const sig of ['SIGINT', 'SIGTERM'] as const)
      process.once(sig, () => {
        stop.abort();
        // Give cleanup a moment, then leave with the conventional code.
        setTimeout(() => process.exit(130), 3000).unref();
      });
  return runCli(
    args,
    {
      signal: stop.signal,
      stdout: (s) => process.stdout.write(s),
      stderr: (s) => process.stderr.write(s),
      env: process.env,
      isTty: process.stdout.isTTY === true,
    },
    {
      daemon: async (rest, io) => (await import('./daemon-main.ts')).runDaemonMain(rest, io),
      gc: async (rest, io) => (await import('./gc-main.ts')).runGcMain(rest, io),
      webhook: async (rest, io) => (await import('./webhook-main.ts')).runWebhookMain(rest, io),
    },
  );
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`multinet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
