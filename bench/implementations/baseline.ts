/**
 * Baseline: the same delegates (default network as eth0, then the pod's NADs as net1, net2 ...)
 * run directly, with no meta-plugin, by bench/baseline-worker.ts inside the node namespace.
 * overhead(implementation) = its time - this time, for the same pod shape.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BaselineAnswer, BaselineRequest } from '../baseline-worker.ts';
import { CLEAN_ENV, type CallOutcome, type CniInvocation } from '../exec-cni.ts';
import { PLUGIN_DIR, type BenchScene } from '../scene.ts';
import type { Implementation, RunningImplementation } from './implementation.ts';

const WORKER = fileURLToPath(new URL('../baseline-worker.ts', import.meta.url));

export const baseline: Implementation = {
  id: 'baseline',
  label: 'baseline (delegates only)',
  family: 'baseline',
  mode: 'direct',
  async start(scene: BenchScene): Promise<RunningImplementation> {
    const cacheDir = await scene.tempDir('baseline-cache');
    const child = spawn(
      'nsenter',
      [`--net=${scene.nodeNsPath}`, '--', process.execPath, '--import', 'tsx', WORKER, cacheDir, PLUGIN_DIR],
      { env: { ...CLEAN_ENV }, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    const pending = new Map<number, (a: BaselineAnswer) => void>();
    const lines = createInterface({ input: child.stdout });
    const ready = new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`baseline worker exited with ${code}`)));
      lines.on('line', (line) => {
        if (line === 'ready') return resolve();
        const a = JSON.parse(line) as BaselineAnswer;
        pending.get(a.id)?.(a);
        pending.delete(a.id);
      });
    });
    await ready;
    let seq = 0;
    const defaultConfig = JSON.stringify(scene.defaultNetworkConfig);
    return {
      call(inv: CniInvocation): Promise<CallOutcome> {
        if (inv.command === 'VERSION') return Promise.resolve({ ok: true, ms: 0 });
        const req: BaselineRequest = {
          id: ++seq,
          command: inv.command,
          containerId: inv.containerId,
          netns: inv.netns,
          args: [
            ['IgnoreUnknown', '1'],
            ['K8S_POD_NAMESPACE', inv.pod.namespace],
            ['K8S_POD_NAME', inv.pod.name],
            ['K8S_POD_INFRA_CONTAINER_ID', inv.containerId],
            ['K8S_POD_UID', inv.pod.uid],
          ],
          delegates: [
            { ifName: 'eth0', config: defaultConfig },
            ...inv.networks.map((n, i) => ({
              ifName: `net${i + 1}`,
              config: JSON.stringify(scene.delegateConfig(n)),
            })),
          ],
        };
        return new Promise((resolve) => {
          pending.set(req.id, (a) => resolve({ ok: a.ok, ms: a.ms, ...(a.error ? { error: a.error } : {}) }));
          child.stdin.write(`${JSON.stringify(req)}\n`);
        });
      },
      async stop() {
        process.off('exit', kill);
        const gone = new Promise((r) => child.once('exit', r));
        child.stdin.end();
        child.kill('SIGTERM');
        await gone;
      },
    };
  },
};
