// elfrun compare: identical runs, deliberate differences, golden round trips,
// unavailable oracles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELFRUN, fixture } from '../helpers/oracle.js';

let dir = '';
const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
const compare = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): { out: string; err: string; status: number | null } => {
  const r = spawnSync(ELFRUN, ['compare', ...args], { cwd: dir, env: { ...env, ...extraEnv } });
  return { out: r.stdout.toString(), err: r.stderr.toString(), status: r.status };
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elfrun-compare-'));
  mkdirSync(join(dir, 'tree'));
  writeFileSync(join(dir, 'tree', 'a.txt'), 'alpha\n');
  writeFileSync(join(dir, 'in.txt'), 'line 1\nline 2\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('elfrun compare', () => {
  it('reports identical runs (native oracle, x86_64)', () => {
    const r = compare([fixture('x86_64', 'busybox'), 'ls', '-l', '/etc/passwd']);
    expect(r.out).toBe('identical (x86_64, oracle native): stdout, stderr and exit status match\n');
    expect(r.status).toBe(0);
  });

  it('reports identical runs (qemu oracle, arm64), with stdin', () => {
    const r = compare(['--stdin', 'in.txt', fixture('arm64', 'busybox'), 'wc', '-l']);
    expect(r.out).toBe('identical (arm64, oracle qemu): stdout, stderr and exit status match\n');
    expect(r.status).toBe(0);
  });

  it('shows a unified diff when stdout differs, and --normalize-arch hides the arch', () => {
    const golden = join(dir, 'uname.json');
    expect(compare(['--record', golden, fixture('x86_64', 'busybox'), 'uname', '-m']).status).toBe(0);
    const r = compare(['--oracle', `golden:${golden}`, fixture('arm64', 'busybox'), 'uname', '-m']);
    expect(r.status).toBe(1);
    expect(r.out).toContain('--- stdout (golden');
    expect(r.out).toMatch(/^-x86_64\n\+aarch64\n/m);
    expect(compare(['--oracle', `golden:${golden}`, '--normalize-arch', fixture('arm64', 'busybox'), 'uname', '-m']).status).toBe(0);
  });

  it('reports different exit statuses, as JSON too', () => {
    const golden = join(dir, 'true.json');
    compare(['--record', golden, fixture('x86_64', 'busybox'), 'true']);
    const r = compare(['--json', '--oracle', `golden:${golden}`, fixture('x86_64', 'busybox'), 'false']);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.out);
    expect(report.identical).toBe(false);
    expect(report.status.oracle).not.toBe(report.status.elfrun);
  });

  it('a golden round trip is identical', () => {
    const golden = join(dir, 'seq.json');
    compare(['--record', golden, fixture('x86_64', 'busybox'), 'seq', '3']);
    expect(compare(['--oracle', `golden:${golden}`, fixture('x86_64', 'busybox'), 'seq', '3']).status).toBe(0);
  });

  it('compares the files left in a sandbox copy', () => {
    const r = compare(['--sandbox-copy', join(dir, 'tree'), fixture('x86_64', 'busybox'), 'sh', '-c', 'echo b > b.txt; chmod 600 a.txt; mkdir d']);
    expect(r.out).toBe('identical (x86_64, oracle native): stdout, stderr and exit status match\n');
  });

  it('says clearly when an oracle is unavailable', () => {
    const native = compare(['--oracle', 'native', fixture('arm64', 'busybox'), 'true']);
    expect(native.status).toBe(2);
    expect(native.err).toMatch(/^elfrun: compare: the native oracle needs a x86_64 program/);
    const nodeOnly = join(dir, 'node-only');
    mkdirSync(nodeOnly, { recursive: true });
    if (!existsSync(join(nodeOnly, 'node'))) symlinkSync(process.execPath, join(nodeOnly, 'node'));
    const noQemu = compare(['--oracle', 'qemu', fixture('arm64', 'busybox'), 'true'], { PATH: nodeOnly });
    expect(noQemu.status).toBe(2);
    expect(noQemu.err).toBe("elfrun: compare: qemu-aarch64 is not installed (Debian's qemu-user package provides it)\n");
  });
});
