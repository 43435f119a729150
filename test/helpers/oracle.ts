// Run a program under elfrun and under Linux (natively for x86_64 guests,
// qemu-user for arm64 guests, which forwards syscalls to the real kernel).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
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
}

function result(r: SpawnSyncReturns<Buffer>): RunResult {
  if (r.error) throw r.error;
  return { stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), status: r.status, signal: r.signal };
}

const baseEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ELFRUN_QUIET_UNICORN: '1' });

/** The oracle: Linux itself. */
export function runLinux(arch: TestArch, prog: string, args: string[], o: RunOpts = {}): RunResult {
  const env = o.env ?? baseEnv();
  const opts = { input: o.input ?? '', cwd: o.cwd ?? ROOT, env, timeout: o.timeout ?? 60_000 };
  if (arch === 'x86_64') return result(spawnSync(prog, args, { ...opts, argv0: prog }));
  return result(spawnSync('qemu-aarch64', [prog, ...args], opts));
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

export const haveQemu = (): boolean => spawnSync('qemu-aarch64', ['--version']).status === 0;
export const haveFixtures = (): boolean => existsSync(fixture('x86_64', 'busybox')) && existsSync(fixture('arm64', 'busybox'));
