// elfrun trace: strace's format, compared with strace of the native run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, ELFRUN, fixture } from '../helpers/oracle.js';

let dir = '';
const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elfrun-trace-'));
  writeFileSync(join(dir, 'f.txt'), 'some text\nsecond line\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pids = (s: string): string => s.replace(/\b\d{3,7}\b/g, 'PID');

function strace(args: string[]): string {
  const r = spawnSync('strace', ['-o', join(dir, 'native.trace'), ...args], { cwd: dir, env });
  if (r.error) throw r.error;
  return readFileSync(join(dir, 'native.trace'), 'utf8');
}

function elfrunTrace(traceArgs: string[], prog: string, args: string[]): { trace: string; stdout: string } {
  const r = spawnSync(ELFRUN, ['trace', '-o', join(dir, 'elfrun.trace'), ...traceArgs, prog, ...args], { cwd: dir, env });
  return { trace: readFileSync(join(dir, 'elfrun.trace'), 'utf8'), stdout: r.stdout.toString() };
}

describe('elfrun trace', () => {
  for (const arch of ARCHES) {
    it(`file syscalls of cat on ${arch} match strace's lines`, () => {
      const set = ['-e', 'trace=openat,read,write,close,sendfile,fstat,exit_group'];
      // the native x86_64 run is the oracle for both: busybox cat makes the same calls on arm64
      const want = strace([...set, '-s', '64', fixture('x86_64', 'busybox'), 'cat', 'f.txt', 'missing.txt']);
      const got = elfrunTrace([...set, '-s', '64'], fixture(arch, 'busybox'), ['cat', 'f.txt', 'missing.txt']);
      expect(got.trace).toBe(want);
      expect(got.stdout).toBe('some text\nsecond line\n');
    });

    it(`signals and deaths on ${arch} match strace's lines`, () => {
      const set = ['-e', 'trace=kill,getpid'];
      const script = 'kill -USR1 $$';
      const want = strace(['-f', ...set, fixture('x86_64', 'busybox'), 'sh', '-c', script]);
      const got = elfrunTrace(['-f', ...set], fixture(arch, 'busybox'), ['sh', '-c', script]);
      expect(pids(got.trace)).toBe(pids(want));
    });
  }

  for (const arch of ARCHES) {
    it(`-y shows the file behind each fd on ${arch}, as strace -y does`, () => {
      const set = ['-y', '-e', 'trace=openat,close,read,write,fcntl']; // no dup2: arm64 has only dup3
      const script = 'cat f.txt > out.txt; exec 3<f.txt; cat <&3 2>/dev/null >/dev/null; echo done';
      const want = strace(['-f', ...set, fixture('x86_64', 'busybox'), 'sh', '-c', script]);
      const got = elfrunTrace(['-f', ...set], fixture(arch, 'busybox'), ['sh', '-c', script]);
      expect(want).toContain(`3<${dir}/f.txt>`);
      expect(pids(got.trace)).toBe(pids(want));
    });
  }

  it('run --strace traces to stderr and leaves stdout to the guest', () => {
    const r = spawnSync(ELFRUN, ['run', '--strace', fixture('x86_64', 'busybox'), 'echo', 'hi'], { env });
    expect(r.stdout.toString()).toBe('hi\n');
    expect(r.stderr.toString()).toMatch(/^write\(1, "hi\\n", 3\) += 3$/m);
    expect(r.stderr.toString()).toMatch(/^\+\+\+ exited with 0 \+\+\+$/m);
  });
});
