/**
 * The dependency rule of docs/architecture.md "Layers", as `npm run lint` enforces it: the repo's
 * own eslint.config.js (scripts/eslint-layer-rule.js) run through ESLint's Node API on snippets
 * placed in the folders they would live in. Each refused case is one of the violations the
 * codebase once had (issue #12, item 3); each allowed one is a port or a leaf the layers share.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: REPO_ROOT, overrideConfigFile: join(REPO_ROOT, 'eslint.config.js') });

/** The layer rule's messages for `code` as if it were the file `filePath` of the repo. */
async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, filePath) });
  return result!.messages.filter((m) => m.ruleId === 'layers/layers').map((m) => m.message);
}

async function refused(filePath: string, code: string, why: RegExp): Promise<void> {
  const errors = await layerErrors(filePath, code);
  assert.equal(errors.length, 1, `${filePath}: ${code}\n${errors.join('\n')}`);
  assert.match(errors[0]!, why);
}

async function allowed(filePath: string, code: string): Promise<void> {
  assert.deepEqual(await layerErrors(filePath, code), [], `${filePath}: ${code}`);
}

describe('the layer rule in npm run lint', () => {
  it('spec/ imports only the leaves: not the engine, not cni/', async () => {
    await refused(
      'src/spec/x.ts',
      "import { planForRequest } from '../engine/plan-attachments.ts';\nexport const p = planForRequest;\n",
      /src\/spec\/ may not import src\/engine\/ .*it imports json\/, names\//,
    );
    await refused(
      'src/spec/x.ts',
      "import { parseNetworkConfig } from '../cni/network-config.ts';\nexport const p = parseNetworkConfig;\n",
      /src\/spec\/ may not import src\/cni\//,
    );
    await allowed(
      'src/spec/x.ts',
      "import { pluginTypeProblem } from '../names/plugin-type.ts';\nexport const p = pluginTypeProblem;\n",
    );
  });

  it('nothing but bin/ imports bin/, also lazily (the old cli ⇄ bin cycle)', async () => {
    await refused(
      'src/cli/x.ts',
      "export const daemon = async () => (await import('../bin/daemon-main.ts')).runDaemonMain;\n",
      /nothing imports src\/bin\/ but src\/bin\//,
    );
    await refused(
      'test/e2e/x.test.ts',
      "import { buildEngineDeps } from '../../src/bin/engine-deps.ts';\nexport const b = buildEngineDeps;\n",
      /nothing imports src\/bin\//,
    );
    await allowed(
      'src/bin/x.ts',
      "import { runDaemonMain } from './daemon-main.ts';\nexport const r = runDaemonMain;\n",
    );
  });

  it('config/ and k8s/ do not import the engine; the logger is a leaf', async () => {
    await refused(
      'src/config/x.ts',
      "import { isForeignConfig } from '../engine/conf-source.ts';\nexport const f = isForeignConfig;\n",
      /src\/config\/ may not import src\/engine\//,
    );
    await refused(
      'src/k8s/x.ts',
      "import type { EngineDeps } from '../engine/engine-deps.ts';\nexport type D = EngineDeps;\n",
      /src\/k8s\/ may not import src\/engine\//,
    );
    await allowed(
      'src/k8s/x.ts',
      "import type { Logger } from '../log/logger.ts';\nexport type L = Logger;\n",
    );
  });

  it('adapters import the ports they implement as types only, never engine code', async () => {
    await refused(
      'src/host/x.ts',
      "import { runPodNetworkRequest } from '../engine/engine.ts';\nexport const r = runPodNetworkRequest;\n",
      /src\/host\/ may not import src\/engine\/ .*types only from engine\//,
    );
    await allowed(
      'src/host/x.ts',
      "import type { PlanStore } from '../engine/attachment-plan.ts';\nexport type S = PlanStore;\n",
    );
    await refused(
      'src/engine/x.ts',
      "import { KubernetesClusterView } from '../k8s/kubernetes-cluster-view.ts';\nexport const k = KubernetesClusterView;\n",
      /src\/engine\/ may not import src\/k8s\//,
    );
    await allowed(
      'src/engine/x.ts',
      "import type { ClusterView } from '../k8s/cluster-view.ts';\nexport type V = ClusterView;\n",
    );
  });

  it('runDaemon gets its adapters: daemon/ builds no informer and no file store', async () => {
    await refused(
      'src/daemon/x.ts',
      "import { Informer } from '../k8s/informer.ts';\nexport const i = Informer;\n",
      /src\/daemon\/ may not import src\/k8s\//,
    );
    await refused(
      'src/daemon/x.ts',
      "import { FilePlanStore } from '../host/file-plan-store.ts';\nexport const s = FilePlanStore;\n",
      /src\/daemon\/ may not import src\/host\//,
    );
  });

  it('the shim imports the wire contract and CNI versions only', async () => {
    await refused(
      'src/shim/x.ts',
      "import { toCniError } from '../engine/to-cni-error.ts';\nexport const t = toCniError;\n",
      /src\/shim\/ may not import src\/engine\/ .*it imports wire\/, cni\/versions\.ts/,
    );
    await allowed(
      'src/shim/x.ts',
      "import { FORWARDED_ENV } from '../wire/daemon-wire.ts';\nexport const f = FORWARDED_ENV;\n",
    );
  });

  it('the pure layers touch no file, socket or process and import no package', async () => {
    await refused(
      'src/engine/x.ts',
      "import { readFile } from 'node:fs/promises';\nexport const r = readFile;\n",
      /src\/engine\/ is a pure layer: no node:fs\/promises/,
    );
    await refused(
      'src/config/x.ts',
      "import { watch } from 'node:fs';\nexport const w = watch;\n",
      /pure layer: no node:fs/,
    );
    await refused(
      'src/spec/x.ts',
      "import YAML from 'yaml';\nexport const y = YAML;\n",
      /pure layer: no package/,
    );
    await allowed('src/spec/x.ts', "import { isIP } from 'node:net';\nexport const i = isIP;\n");
    await allowed(
      'src/host/x.ts',
      "import { readFile } from 'node:fs/promises';\nexport const r = readFile;\n",
    );
  });

  it('product code never imports test/; unit tests beside it may', async () => {
    const code =
      "import { MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';\nexport const m = MemoryPlanStore;\n";
    await refused('src/engine/x.ts', code, /product code \(src\/\) never imports test\//);
    await allowed('src/engine/x.test.ts', code);
  });

  it('a new folder of src/ must be given a row in the table first', async () => {
    await refused(
      'src/newlayer/x.ts',
      "import { parseNetworkConfig } from '../cni/network-config.ts';\nexport const p = parseNetworkConfig;\n",
      /is in no layer: give src\/newlayer a row in eslint.config.js/,
    );
  });
});
