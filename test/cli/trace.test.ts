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

// pids, and the inodes of the sockets and pipes the test runner gives as stdio
// (different for each run; 8 digits once a host has made ten million sockets)
const pids = (s: string): string => s.replace(/(socket|pipe):\[\d+\]/g, '$1:[N]').replace(/\b\d{3,7}\b/g, 'PID');

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
    it(`wait4 and waitid on ${arch}: statuses (stopped, continued, killed) and siginfo as strace shows them`, () => {
      const set = ['-e', 'trace=wait4,waitid'];
      // the parent's calls (no -f), without the signal lines and the waits
      // they interrupted: when a SIGCHLD comes relative to a wait is the
      // scheduler's business (natively, too, it varies from run to run)
      const calls = (s: string): string =>
        pids(s.split('\n').filter((l) => !l.startsWith('---') && !/= \? ERESTART/.test(l)).join('\n').replace(/0x[0-9a-f]+/g, 'ADDR'));
      const want = strace([...set, fixture('x86_64', 'jobctl')]);
      const got = elfrunTrace(set, fixture(arch, 'jobctl'), []);
      expect(want).toContain('[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WSTOPPED');
      expect(want).toContain('waitid(P_PID, ');
      expect(calls(got.trace)).toBe(calls(want));
    });

    it(`-y shows the file behind each fd on ${arch}, as strace -y does`, () => {
      const set = ['-y', '-e', 'trace=openat,close,read,write,fcntl']; // no dup2: arm64 has only dup3
      const script = 'cat f.txt > out.txt; exec 3<f.txt; cat <&3 2>/dev/null >/dev/null; echo done';
      const want = strace(['-f', ...set, fixture('x86_64', 'busybox'), 'sh', '-c', script]);
      const got = elfrunTrace(['-f', ...set], fixture(arch, 'busybox'), ['sh', '-c', script]);
      expect(want).toContain(`3<${dir}/f.txt>`);
      expect(pids(got.trace)).toBe(pids(want));
    });
  }

  it('--json gives one object per line, the same calls and results as the text trace', () => {
    const args = ['-f', '-e', 'trace=openat,read,write,close,exit_group', fixture('x86_64', 'busybox'), 'sh', '-c', 'cat f.txt missing.txt; echo $?'];
    const text = spawnSync(ELFRUN, ['trace', '-o', join(dir, 't.txt'), ...args], { cwd: dir, env });
    const json = spawnSync(ELFRUN, ['trace', '--json', '-o', join(dir, 't.json'), ...args], { cwd: dir, env });
    expect(json.stdout.toString()).toBe(text.stdout.toString());
    const objs = readFileSync(join(dir, 't.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const calls = objs.filter((o) => 'syscall' in o).map((o) => `${o.syscall as string} = ${o.ret === null ? '?' : o.errno ? `-1 ${o.errno as string}` : String(o.ret)}`);
    const lines = readFileSync(join(dir, 't.txt'), 'utf8').split('\n').filter((l) => /^\d+ +\w+\(/.test(l));
    const fromText = lines.map((l) => /^\d+ +(\w+)\(.*\) += (\?|-?\d+(?: E[A-Z]+)?)/.exec(l)!).map((m) => `${m[1]} = ${m[2]}`);
    expect(calls).toEqual(fromText);
    expect(objs.filter((o) => 'exited' in o).length).toBe(2);
  });

  it('--timeline writes a valid trace-event file: a track per process, a slice per syscall and wait', () => {
    const file = join(dir, 'timeline.json');
    const r = spawnSync(ELFRUN, ['run', '--timeline', file, fixture('x86_64', 'busybox'), 'sh', '-c', 'ls / | wc -l >/dev/null; sleep 0.02; exit 3'], { cwd: dir, env });
    expect(r.status).toBe(3);
    expect(r.stderr.toString()).toBe(''); // a timeline alone prints no trace
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: Array<Record<string, unknown>> };
    const ev = doc.traceEvents;
    for (const e of ev) {
      expect(typeof e.name).toBe('string');
      expect(['X', 'i', 'M']).toContain(e.ph);
      expect(Number.isInteger(e.pid) && Number.isInteger(e.tid)).toBe(true);
      if (e.ph === 'X') expect((e.ts as number) >= 0 && (e.dur as number) >= 0).toBe(true);
    }
    const pids = new Set(ev.map((e) => e.pid));
    const forks = ev.filter((e) => e.cat === 'process' && /^(clone|fork|vfork)/.test(String(e.name)));
    expect(pids.size).toBeGreaterThanOrEqual(3); // sh, ls, wc (and sleep, unless the shell runs it itself)
    expect(forks.length).toBe(pids.size - 1);
    for (const pid of pids) expect(ev.some((e) => e.ph === 'M' && e.name === 'process_name' && e.pid === pid)).toBe(true);
    // syscall slices of one thread never overlap; each wait lies inside its syscall
    const byTid = new Map<unknown, Array<Record<string, number>>>();
    for (const e of ev.filter((x) => x.cat === 'syscall')) byTid.set(e.tid, [...(byTid.get(e.tid) ?? []), e as unknown as Record<string, number>]);
    for (const slices of byTid.values()) {
      slices.sort((a, b) => a.ts - b.ts);
      for (let i = 1; i < slices.length; i++) expect(slices[i].ts).toBeGreaterThanOrEqual(slices[i - 1].ts + slices[i - 1].dur);
    }
    expect(ev.filter((e) => e.cat === 'wait').map((e) => e.name)).toEqual(expect.arrayContaining(['blocked in wait4', 'blocked in clock_nanosleep']));
    expect(ev.filter((e) => e.cat === 'process' && String(e.name).startsWith('exited with')).length).toBe(pids.size);
  });

  it('run --strace traces to stderr and leaves stdout to the guest', () => {
    const r = spawnSync(ELFRUN, ['run', '--strace', fixture('x86_64', 'busybox'), 'echo', 'hi'], { env });
    expect(r.stdout.toString()).toBe('hi\n');
    expect(r.stderr.toString()).toMatch(/^write\(1, "hi\\n", 3\) += 3$/m);
    expect(r.stderr.toString()).toMatch(/^\+\+\+ exited with 0 \+\+\+$/m);
  });
});
