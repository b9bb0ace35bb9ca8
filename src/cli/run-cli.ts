import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeCause } from '../engine/engine-error.ts';
import { FileConfSource } from '../host/file-conf-source.ts';
import { parseManifestDocuments } from '../local/manifest-documents.ts';
import { COMMAND_USAGE, wantsHelp } from './command-usage.ts';

export interface CliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  env: Record<string, string | undefined>;
  isTty: boolean;
  /** Aborted on Ctrl-C / SIGTERM, so long-running commands can clean up. */
  signal?: AbortSignal;
}

/**
 * Commands whose composition root is in src/bin (they build real adapters): the bin hands them
 * in, so cli/ never imports bin/.
 */
export interface CliEntries {
  daemon?(args: string[], io: CliIo): Promise<number>;
  gc?(args: string[], io: CliIo): Promise<number>;
  webhook?(args: string[], io: CliIo): Promise<number>;
}

const USAGE = `usage: multinet <command> [options]    ("multinet <command> --help" for one command)

commands:
  cni                        run as the CNI plugin (thin mode; also when CNI_COMMAND is set)
  daemon --config FILE       run the node daemon (thick mode; docs/daemon.md)
  webhook --tls-cert FILE --tls-key FILE [--listen HOST:PORT] [--config FILE] [--kubeconfig FILE]
                             serve the validating admission webhook (docs/webhook.md)
  validate [--config FILE] FILE...
                             check NetworkAttachmentDefinition / Network / Pod manifests offline
                             (with multinet's config: also against its tenantPolicy)
  explain --pod POD.yaml --nads FILE|DIR... [--default-network FILE|NAD] [--config FILE] [-o json]
  explain NAMESPACE/POD [--kubeconfig FILE] [--default-network FILE|NAD] [--config FILE] [-o json]
                             print the attachment plan for a pod (a manifest, or live from the API
                             server with its NADs) without running anything
  install --type thick|thin --bin-dir DIR [--source FILE] [--cni-conf-dir DIR] [--host-cni-conf-dir DIR]
          [--kubeconfig FILE] [--cluster-network FILE | --conf FILE] [--watch]
                             install the shim (thick) or plugin (thin) into the host's CNI bin dir atomically
  demo [--keep] [--state DIR] [-o json]
                             two pods with several networks on this machine (root); "demo down" removes a kept scene
  status [NAMESPACE/POD] [--kubeconfig FILE | --local DIR] [-o json]
                             attachments per pod from network-status, and requested networks missing
  gc --config FILE [--dry-run] [--kubeconfig FILE] [-o json]
                             on a node (root): report leaked plans, result caches and host-local
                             reservations; without --dry-run release them (DEL, CNI GC)
`;

async function readFiles(paths: string[]): Promise<{ path: string; content: string }[]> {
  return Promise.all(paths.map(async (path) => ({ path, content: await readFile(path, 'utf8') })));
}

const MANIFEST_FILE = /\.(ya?ml|json)$/;

/**
 * Manifest files: each path is a file, or a directory whose *.yaml, *.yml and *.json files are
 * read in name order (not recursively), as `--nads nads/` suggests. A file system error is said
 * in words with the path, never as a bare errno line.
 */
async function readManifestFiles(paths: string[]): Promise<{ path: string; content: string }[]> {
  const out: { path: string; content: string }[] = [];
  for (const path of paths) {
    try {
      if ((await stat(path)).isDirectory()) {
        const names = (await readdir(path)).filter((n) => MANIFEST_FILE.test(n)).sort();
        if (names.length === 0) throw new Error(`${path}: a directory with no .yaml, .yml or .json file`);
        out.push(...(await readFiles(names.map((n) => join(path, n)))));
      } else out.push(...(await readFiles([path])));
    } catch (err) {
      throw new Error(fileProblem(path, err), { cause: err });
    }
  }
  return out;
}

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  ELOOP: 'too many symbolic links',
};

function fileProblem(path: string, err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in ERRNO_WORDS) return `cannot read ${path}: ${ERRNO_WORDS[code]}`;
  if (typeof code === 'string') return `cannot read ${path} (${code})`;
  return describeCause(err);
}

async function validate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { config: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length === 0) {
    io.stderr(COMMAND_USAGE['validate']!);
    return 2;
  }
  const { runValidate } = await import('./validate-command.ts');
  let options: Record<string, unknown> | undefined;
  const files = [];
  for (const path of positionals) {
    try {
      files.push(...(await readManifestFiles([path])));
    } catch (err) {
      io.stdout(`${describeCause(err)}\n`);
      return 1;
    }
  }
  try {
    if (values.config) options = await readOptions(values.config);
  } catch (err) {
    io.stdout(`${values.config}: ${describeCause(err)}\n`);
    return 1;
  }
  const { lines, exitCode } = runValidate(files, options ? { options } : {});
  for (const l of lines) io.stdout(`${l}\n`);
  return exitCode;
}

async function readOptions(path: string): Promise<Record<string, unknown>> {
  const { multinetOptionsFromText } = await import('./multinet-options.ts');
  const [file] = await readFiles([path]);
  return multinetOptionsFromText(file!.content, path);
}

/** `NAMESPACE/NAME` of a pod in the API server, as opposed to a manifest path (a path that exists is a file). */
const LIVE_POD = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;

function isLivePodRef(arg: string): boolean {
  return LIVE_POD.test(arg) && !MANIFEST_FILE.test(arg) && !existsSync(arg);
}

async function explain(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      pod: { type: 'string' },
      nads: { type: 'string', multiple: true },
      'default-network': { type: 'string' },
      output: { type: 'string', short: 'o' },
      ifname: { type: 'string' },
      config: { type: 'string' },
      kubeconfig: { type: 'string' },
      'pod-resources': { type: 'string' },
    },
    allowPositionals: true,
  });
  const target = values.pod ?? positionals[0];
  if (!target || positionals.length > (values.pod ? 0 : 1)) {
    io.stderr(COMMAND_USAGE['explain']!);
    return 2;
  }
  const { explainClusterPod, explainPod, formatExplanation } = await import('./explain-command.ts');
  const devices = await import('./explain-devices.ts');
  try {
    const def = values['default-network'];
    const opts = {
      ...(def
        ? {
            defaultNetwork:
              def.includes('/') && !def.startsWith('/') && !def.startsWith('.') ? def : absolute(def),
          }
        : {}),
      ...(values.ifname ? { runtimeIfName: values.ifname } : {}),
      ...(values.config ? { options: await readOptions(values.config) } : {}),
      confs: new FileConfSource(),
      ...(values['pod-resources']
        ? { podResources: await devices.kubeletPodResources(absolute(values['pod-resources'])) }
        : {}),
    };
    let attachments;
    if (isLivePodRef(target)) {
      if (values.nads)
        throw new Error(
          `${target} is read from the API server with its NetworkAttachmentDefinitions; --nads is for a Pod manifest (--pod FILE)`,
        );
      const kubeconfig = values.kubeconfig ?? io.env['KUBECONFIG'];
      if (!kubeconfig)
        throw new Error(
          `${target} names a pod in the API server: give --kubeconfig FILE (or set KUBECONFIG), or --pod FILE for a manifest`,
        );
      const [namespace, name] = target.split('/') as [string, string];
      const { withApiCluster } = await import('./api-cluster.ts');
      attachments = await withApiCluster(kubeconfig, io.env, (cluster, server, client) =>
        explainClusterPod(
          cluster,
          { namespace, name },
          { ...opts, draSources: devices.apiDraSources(client) },
          `the API server ${server}`,
        ),
      );
    } else {
      const [podFile] = await readManifestFiles([target]);
      const pods = parseManifestDocuments(podFile!.content, podFile!.path).filter((o) => o['kind'] === 'Pod');
      if (pods.length !== 1) throw new Error(`${target}: expected exactly one Pod, found ${pods.length}`);
      const objects = [];
      for (const f of await readManifestFiles(values.nads ?? []))
        objects.push(...parseManifestDocuments(f.content, f.path));
      attachments = await explainPod({
        pod: pods[0]!,
        objects,
        ...opts,
        draSources: devices.manifestDraSources(objects),
      });
    }
    if (values.output === 'json') io.stdout(`${JSON.stringify({ attachments }, null, 2)}\n`);
    else io.stdout(formatExplanation(attachments));
    // What the tenant policy would refuse is reported in the plan, and the command fails.
    return attachments.some((a) => a.refused !== undefined) ? 1 : 0;
  } catch (err) {
    io.stderr(`multinet explain: ${describeCause(err)}\n`);
    return 1;
  }
}

function absolute(p: string): string {
  // A plain word is a NAD name; anything path-like is a file.
  if (!p.includes('/') && !p.includes('.')) return p;
  return p.startsWith('/') ? p : `${process.cwd()}/${p}`;
}

async function status(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      kubeconfig: { type: 'string' },
      local: { type: 'string' },
      output: { type: 'string', short: 'o' },
    },
    allowPositionals: true,
  });
  const only = positionals[0];
  if (positionals.length > 1 || (only !== undefined && !/^[^/]+\/[^/]+$/.test(only))) {
    io.stderr('usage: multinet status [NAMESPACE/POD] [--kubeconfig FILE | --local DIR] [-o json]\n');
    return 2;
  }
  const { readPodNetworkSources } = await import('./status-sources.ts');
  const { summarizePodNetworks, formatPodNetworks } = await import('./status-command.ts');
  try {
    const kubeconfig = values.kubeconfig ?? io.env['KUBECONFIG'];
    const sources = await readPodNetworkSources(
      values.local ? { local: values.local } : kubeconfig ? { kubeconfig } : {},
      only,
    );
    const summaries = summarizePodNetworks(sources);
    if (values.output === 'json') io.stdout(`${JSON.stringify({ pods: summaries }, null, 2)}\n`);
    else io.stdout(formatPodNetworks(summaries));
    return 0;
  } catch (err) {
    io.stderr(`multinet status: ${describeCause(err)}\n`);
    return 1;
  }
}

async function install(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      type: { type: 'string' },
      'bin-dir': { type: 'string' },
      source: { type: 'string' },
      'cni-conf-dir': { type: 'string' },
      'host-cni-conf-dir': { type: 'string' },
      kubeconfig: { type: 'string' },
      'cluster-network': { type: 'string' },
      conf: { type: 'string' },
      watch: { type: 'boolean', default: false },
      'kubectl-plugin': { type: 'string' },
    },
  });
  const pluginDir = values['kubectl-plugin'];
  if (pluginDir !== undefined) return installPlugin(pluginDir, values, io);
  const thinOnly = values.kubeconfig ?? values['cluster-network'] ?? values.conf;
  if (
    (values.type !== 'thick' && values.type !== 'thin') ||
    !values['bin-dir'] ||
    (values.type === 'thick' && thinOnly !== undefined) ||
    (values.watch && values.kubeconfig !== undefined)
  ) {
    io.stderr(COMMAND_USAGE['install']!);
    return 2;
  }
  const { runInstall, writeThinKubeconfig } = await import('./install-command.ts');
  const opts = {
    type: values.type,
    binDir: values['bin-dir'],
    ...(values.source ? { source: values.source } : {}),
    ...(values['cni-conf-dir'] ? { cniConfDir: values['cni-conf-dir'] } : {}),
    ...(values['host-cni-conf-dir'] ? { hostCniConfDir: values['host-cni-conf-dir'] } : {}),
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values['cluster-network'] ? { clusterNetwork: values['cluster-network'] } : {}),
    ...(values.conf ? { confFile: values.conf } : {}),
    env: io.env,
    log: (s: string) => io.stdout(`${s}\n`),
  } as const;
  try {
    await runInstall(opts);
    // Bound ServiceAccount tokens rotate: keep the host's copy fresh for the thin plugin.
    while (values.watch && values.type === 'thin' && !io.signal?.aborted) {
      await new Promise((r) => setTimeout(r, 60_000));
      if (await writeThinKubeconfig(opts)) io.stdout('refreshed the ServiceAccount token\n');
    }
    return 0;
  } catch (err) {
    io.stderr(`multinet install: ${describeCause(err)}\n`);
    return 1;
  }
}

async function installPlugin(
  dir: string,
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
): Promise<number> {
  const others = Object.keys(values).filter((k) => !['kubectl-plugin', 'source', 'watch'].includes(k));
  if (dir === '' || others.length > 0 || values['watch'] === true) {
    io.stderr(COMMAND_USAGE['install']!);
    return 2;
  }
  const { installKubectlPlugin } = await import('./install-command.ts');
  try {
    const source = typeof values['source'] === 'string' ? values['source'] : undefined;
    await installKubectlPlugin(dir, source, (s) => io.stdout(`${s}\n`));
    return 0;
  } catch (err) {
    io.stderr(`multinet install: ${describeCause(err)}\n`);
    return 1;
  }
}

async function demo(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      keep: { type: 'boolean', default: false },
      state: { type: 'string', default: '/run/multinet-demo' },
      output: { type: 'string', short: 'o' },
    },
    allowPositionals: true,
  });
  const { runDemo } = await import('./demo/run-demo.ts');
  const { demoPaths, teardownDemo } = await import('./demo/demo-scene.ts');
  if (positionals[0] === 'down') {
    for (const line of await teardownDemo(demoPaths(values.state))) io.stdout(`${line}\n`);
    return 0;
  }
  if (positionals.length > 0) {
    io.stderr('usage: multinet demo [--keep] [--state DIR] [-o json] | multinet demo down\n');
    return 2;
  }
  const json = values.output === 'json';
  try {
    const report = await runDemo({
      state: values.state,
      keep: values.keep,
      json,
      color: io.isTty && !json && io.env['NO_COLOR'] === undefined,
      out: io.stdout,
      signal: io.signal ?? new AbortController().signal,
    });
    if (json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return report.ok ? 0 : 1;
  } catch (err) {
    if (json) io.stdout(`${JSON.stringify({ ok: false, error: describeCause(err) }, null, 2)}\n`);
    io.stderr(`multinet demo: ${describeCause(err)}\n`);
    return 1;
  }
}

export async function runCli(argv: string[], io: CliIo, entries: CliEntries = {}): Promise<number> {
  const [sub, ...rest] = argv;
  const usage = sub !== undefined && Object.hasOwn(COMMAND_USAGE, sub) ? COMMAND_USAGE[sub] : undefined;
  if (usage && wantsHelp(rest)) {
    io.stdout(usage);
    return 0;
  }
  try {
    return await dispatch(sub, rest, io, entries);
  } catch (err) {
    // node:util parseArgs: an unknown option or a missing value is a usage error, not a crash.
    const code = (err as { code?: unknown }).code;
    if (usage && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`multinet ${sub}: ${describeCause(err)}\n${usage}`);
      return 2;
    }
    throw err;
  }
}

async function dispatch(
  sub: string | undefined,
  rest: string[],
  io: CliIo,
  entries: CliEntries,
): Promise<number> {
  switch (sub) {
    case 'validate':
      return validate(rest, io);
    case 'explain':
      return explain(rest, io);
    case 'status':
      return status(rest, io);
    case 'demo':
      return demo(rest, io);
    case 'install':
      return install(rest, io);
    case 'gc':
      if (!entries.gc) {
        io.stderr('multinet gc: not available in this entry point\n');
        return 2;
      }
      return entries.gc(rest, io);
    case 'daemon':
    case 'webhook': {
      const entry = entries[sub];
      if (!entry) {
        io.stderr(`multinet ${sub}: not available in this entry point\n`);
        return 2;
      }
      return entry(rest, io);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return sub === undefined ? 2 : 0;
    default:
      io.stderr(`multinet: unknown command "${sub}"\n${USAGE}`);
      return 2;
  }
}
