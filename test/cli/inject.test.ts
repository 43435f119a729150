// Fault injection (--inject, and -e inject= / -e fault= of elfrun trace) in
// strace's syntax, compared with `strace -e inject=` of the native run: the
// traced calls (INJECTED marks included), the program's own output, and the
// exit status. The native x86_64 run is the oracle for both arches: busybox
// makes the same calls on arm64.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, ELFRUN, fixture, haveFixtures } from '../helpers/oracle.js';

let dir = '';
const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elfrun-inject-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const haveStrace = spawnSync('strace', ['-V']).status === 0;

/** trace lines without pids, exits and SIGCHLD (strace -qq prints no exits; elfrun does) */
const calls = (s: string): string[] =>
  s
    .split('\n')
    .filter((l) => l !== '' && !/\+\+\+ (exited|killed)/.test(l) && !l.includes('SIGCHLD'))
    .map((l) => l.replace(/^\[pid +\d+\] /, '').replace(/^\d+ +/, ''));

interface Outcome {
  trace: string[];
  stdout: string;
  stderr: string;
  status: number | null;
}

function native(expr: string[], args: string[]): Outcome {
  const out = join(dir, 'native.trace');
  const r = spawnSync('strace', ['-f', '-qq', '-o', out, ...expr, fixture('x86_64', 'busybox'), ...args], { cwd: dir, env, encoding: 'utf8' });
  return { trace: calls(readFileSync(out, 'utf8')), stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function elfrun(arch: (typeof ARCHES)[number], expr: string[], args: string[]): Outcome {
  const out = join(dir, 'elfrun.trace');
  const r = spawnSync(ELFRUN, ['trace', '-f', '-o', out, ...expr, fixture(arch, 'busybox'), ...args], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { trace: calls(readFileSync(out, 'utf8')), stdout: r.stdout, stderr: r.stderr, status: r.status };
}

const cases: Array<{ what: string; expr: string[]; args: string[] }> = [
  {
    what: 'error= with when=N, counted per process',
    expr: ['-e', 'trace=chdir', '-e', 'inject=chdir:error=ENOENT:when=2'],
    args: ['sh', '-c', '(cd /; cd /); (cd /; cd /); echo $?'],
  },
  {
    what: 'error= with signal=, when=N+',
    expr: ['-e', 'trace=chdir', '-e', 'inject=chdir:error=EACCES:signal=USR1:when=2+'],
    args: ['sh', '-c', 'trap "echo got USR1" USR1; cd /; cd /; cd /; echo $?'],
  },
  {
    what: 'retval=',
    expr: ['-e', 'trace=getppid', '-e', 'inject=getppid:retval=4242'],
    args: ['sh', '-c', 'echo $PPID'],
  },
  {
    what: 'a later injection for a syscall replaces an earlier one; FIRST..LAST+',
    expr: ['-e', 'trace=chdir', '-e', 'inject=chdir:error=EPERM:when=1', '-e', 'inject=chdir:error=ENOENT:when=2..3+'],
    args: ['sh', '-c', 'cd /; cd /; cd /; cd /; true'],
  },
  {
    what: 'fault= defaults to ENOSYS; a set of several syscalls',
    expr: ['-e', 'trace=chdir,getppid', '-e', 'fault=chdir,getppid:when=1'],
    args: ['sh', '-c', 'cd /tmp; cd /; pwd'],
  },
];

describe.skipIf(!haveStrace || !haveFixtures())('fault injection against strace -e inject=', () => {
  for (const arch of ARCHES)
    for (const c of cases)
      it(`${c.what} (${arch})`, () => {
        const want = native(c.expr, c.args);
        const got = elfrun(arch, c.expr, c.args);
        expect(got.trace).toEqual(want.trace);
        expect(got.stdout).toBe(want.stdout);
        expect(got.stderr).toBe(want.stderr);
        expect(got.status).toBe(want.status);
      });

  it('delay_enter holds the call (and only the injected ones)', () => {
    const t0 = Date.now();
    const r = spawnSync(ELFRUN, ['run', '--inject', 'chdir:delay_enter=300ms:when=2', fixture('x86_64', 'busybox'), 'sh', '-c', 'cd /; cd /; echo done'], { env, encoding: 'utf8' });
    expect(r.stdout).toBe('done\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('bad specs are one line and exit 1', () => {
    for (const spec of ['nosuch:error=EPERM', 'chdir:error=EBOGUS', 'chdir:when=0:error=EPERM', 'chdir', 'chdir:frobnicate=1']) {
      const r = spawnSync(ELFRUN, ['run', '--inject', spec, fixture('x86_64', 'busybox'), 'true'], { env, encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^elfrun: --inject [^\n]+\n$/);
    }
  });
});
