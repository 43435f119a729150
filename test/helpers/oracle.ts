// Run a program under elfrun and under Linux (natively for x86_64 guests,
// qemu-user for arm64 guests, which forwards syscalls to the real kernel).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ELFRUN = join(ROOT, 'bin/elfrun');
export const ARCHES = ['x86_64', 'arm64'] as const;
export type TestArch = (typeof ARCHES)[number];

export const fixture = (arch: TestArch, name: string): string => join(ROOT, 'fixtures', arch, name);

export interface RunResult {
  stdout: string;
  stderr: string;
  status: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunOpts {
  input?: string | Buffer;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeout?: number;
  /** Run the native side with a working /dev/null (see linuxDev). */
  standardDev?: boolean;
  /** Run the native side in an empty network namespace of its own, `lo` up (what elfrun's --net none is). */
  privateNet?: boolean;
}

/**
 * argv run in a new network namespace (unshare -n, which needs root or user
 * namespaces) whose `lo` is brought up, as elfrun's --net none starts: only
 * lo, with 127.0.0.1/8 and ::1.
 */
export function linuxNetns(argv: string[]): string[] {
  return ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...argv];
}
let netnsOk: boolean | undefined;
export const canUnshareNet = (): boolean =>
  (netnsOk ??= spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { timeout: 10_000 }).status === 0);

function result(r: SpawnSyncReturns<Buffer>): RunResult {
  if (r.error) throw r.error;
  return { stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), status: r.status, signal: r.signal };
}

const baseEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ELFRUN_QUIET_UNICORN: '1' });

/**
 * Some containers give the host a /dev/null that is not Linux's (mode 0000
 * instead of devtmpfs's 0666, so only root can open it). elfrun's /dev is its
 * own and has Linux's modes, so a native reference taken on such a host is
 * the container's, not Linux's. Where the host's node is not 0666 and a
 * private mount namespace is available, the native side gets a real 1:3 node
 * with mode 0666 bound over /dev/null for that one run; the program is exec'd
 * in place, so its pid and everything else are unchanged.
 */
export function linuxDev(argv: string[]): string[] {
  if ((statSync('/dev/null').mode & 0o777) === 0o666 || !canFixDev()) return argv;
  const fix = 'd=$(mktemp -d) && mknod -m 666 "$d/null" c 1 3 && mount --bind "$d/null" /dev/null && exec "$@"';
  return ['unshare', '-m', 'sh', '-c', fix, 'sh', ...argv];
}

let devFixable: boolean | undefined;
function canFixDev(): boolean {
  devFixable ??= spawnSync('unshare', ['-m', 'sh', '-c', 'd=$(mktemp -d) && mknod -m 666 "$d/null" c 1 3 && mount --bind "$d/null" /dev/null && echo x >/dev/null'], { timeout: 10_000 }).status === 0;
  return devFixable;
}

/** The oracle: Linux itself. */
export function runLinux(arch: TestArch, prog: string, args: string[], o: RunOpts = {}): RunResult {
  const env = o.env ?? baseEnv();
  const opts = { input: o.input ?? '', cwd: o.cwd ?? ROOT, env, timeout: o.timeout ?? 60_000 };
  const argv = arch === 'x86_64' ? [prog, ...args] : ['qemu-aarch64', prog, ...args];
  const [cmd, ...rest] = o.privateNet ? linuxNetns(argv) : o.standardDev ? linuxDev(argv) : argv;
  if (cmd === prog) return result(spawnSync(prog, args, { ...opts, argv0: prog }));
  return result(spawnSync(cmd!, rest, opts));
}

export function runElfrun(prog: string, args: string[], o: RunOpts & { flags?: string[] } = {}): RunResult {
  const env = o.env ?? baseEnv();
  return result(
    spawnSync(ELFRUN, ['run', ...(o.flags ?? []), prog, ...args], {
      input: o.input ?? '',
      cwd: o.cwd ?? ROOT,
      env,
      timeout: o.timeout ?? 120_000,
    }),
  );
}

/** A checkout under /tmp is hidden from a guest given `--tmpfs /tmp`: those cases cannot run from it. */
export const checkoutInTmp = ROOT === '/tmp' || ROOT.startsWith('/tmp/');

export const haveQemu = (): boolean => spawnSync('qemu-aarch64', ['--version']).status === 0;
export const haveFixtures = (): boolean => existsSync(fixture('x86_64', 'busybox')) && existsSync(fixture('arm64', 'busybox'));
