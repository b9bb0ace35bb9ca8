import { accessSync, constants } from 'node:fs';

/**
 * Ties a delegate's lifetime to the process that starts it. Node has no prctl, so each delegate
 * starts as `setpriv --pdeathsig TERM -- /bin/sh -c SUPERVISOR`: util-linux's setpriv (≥ 2.33)
 * arms PR_SET_PDEATHSIG and execs a tiny POSIX sh that runs the plugin in the background and
 * waits for it. When multinet dies (SIGKILL, OOM, the runtime's timeout killing the thin
 * plugin), the kernel sends the supervisor SIGTERM, and its trap SIGKILLs its whole process
 * group: the plugin and everything the plugin started (IPAM, helpers) stop before they can
 * allocate for a pod whose DEL may already have run.
 *
 * PR_SET_PDEATHSIG fires when the *thread* that forked the child ends. Node's child_process
 * (libuv's uv_spawn) forks from the thread that calls spawn(): the main event-loop thread, which
 * lives as long as the process. (Spawning delegates from a worker thread would break this.)
 * The death signal cannot be armed before fork returns, so the supervisor checks, after arming,
 * that its parent is still the expected pid; if the parent died in between, it ends at once.
 * The supervisor must lead its own process group (spawn it detached), or its kill reaches nothing.
 */
const SUPERVISOR = [
  // -$$: the group the supervisor leads (the runner starts it detached); never a caller's group.
  "trap 'kill -KILL -$$' TERM",
  'ppid_of() { ppid=$2; }',
  'read -r stat </proc/$$/stat',
  'ppid_of ${stat##*) }',
  '[ "$ppid" = "$1" ] || { kill -KILL -$$; exit 1; }',
  'shift',
  // An asynchronous list gets /dev/null as stdin unless redirected explicitly: keep the config.
  'exec 3<&0',
  '"$@" <&3 3<&- &',
  'wait $!',
  'rc=$?',
  // Report the plugin's death by a signal as such (the caller names the signal in its error).
  'if [ "$rc" -gt 128 ]; then trap - TERM; kill -s "$((rc - 128))" $$; fi',
  'exit "$rc"',
].join('\n');

const SYSTEM_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

/**
 * A util-linux tool (setpriv, flock) in the system directories, or undefined when missing. Not
 * looked up in PATH: the runtime's environment chooses PATH, the node chooses these.
 */
export function findSystemTool(name: string, dirs: readonly string[] = SYSTEM_DIRS): string | undefined {
  for (const d of dirs) {
    try {
      accessSync(`${d}/${name}`, constants.X_OK);
      return `${d}/${name}`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** The node's setpriv, or undefined when util-linux is not installed. */
export function findSetpriv(): string | undefined {
  return findSystemTool('setpriv');
}

/** The argv that runs `command` under the supervisor, bound to the life of `parentPid`. */
export function supervisedArgv(setpriv: string, parentPid: number, command: readonly string[]): string[] {
  return [
    setpriv,
    '--pdeathsig',
    'TERM',
    '--',
    '/bin/sh',
    '-c',
    SUPERVISOR,
    'multinet-delegate',
    String(parentPid),
    ...command,
  ];
}
