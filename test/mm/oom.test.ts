// --max-memory when a program touches more than the cap (fixture oomtouch):
// malloc'd memory is committed at mmap, so malloc fails (ENOMEM) short of the
// cap; MAP_NORESERVE memory is charged as it is touched, and touching past the
// cap has the OOM killer kill the largest guest with SIGKILL, one line on
// elfrun's stderr in the kernel's words; a fork's copy of such memory too (the
// child, the later of two equals, goes). Natively the oracle is a memory
// cgroup with the same limit, when this machine lets the test make one: there
// the same programs are killed with SIGKILL (Linux overcommits malloc too),
// and oom_score_adj chooses the same victim.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { ARCHES, ELFRUN, fixture, haveFixtures } from '../helpers/oracle.js';

const CAP = 256 << 20;

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(argv: string[], before = ''): Run {
  const r = before === ''
    ? spawnSync(argv[0]!, argv.slice(1), { encoding: 'latin1', timeout: 120_000 })
    : spawnSync('sh', ['-c', `${before}; exec "$@"`, 'sh', ...argv], { encoding: 'latin1', timeout: 120_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const elfrun = (arch: (typeof ARCHES)[number], args: string[], name = 'oomtouch'): Run =>
  run([ELFRUN, 'run', '--max-memory', String(CAP), fixture(arch, name), ...args]);

/** rmdir a cgroup: EBUSY while a killed process is still going away */
function removeCgroup(dir: string): void {
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || i === 100) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

/** A cgroup v1 or v2 directory with memory limited to CAP, or null if none can be made here. */
function memcg(): { dir: string; join: string; done: () => void } | null {
  for (const [base, file] of [['/sys/fs/cgroup/memory', 'memory.limit_in_bytes'], ['/sys/fs/cgroup', 'memory.max']] as const) {
    if (!existsSync(`${base}/cgroup.procs`)) continue;
    const dir = `${base}/elfrun-oomtest-${process.pid}`;
    try {
      mkdirSync(dir);
    } catch {
      continue;
    }
    try {
      writeFileSync(`${dir}/${file}`, String(CAP));
      return { dir, join: `echo $$ > ${dir}/cgroup.procs`, done: () => removeCgroup(dir) };
    } catch {
      rmdirSync(dir);
    }
  }
  return null;
}

const ADJ_OUT = "child oom_score_adj set\nparent touched 248 MiB\nchild killed by signal 9\n";

const OOM_LINE = /^elfrun: Memory cgroup out of memory \(--max-memory\): Killed process \d+ \(oomtouch[-a-z]*\) total-vm:\d+kB, anon-rss:\d+kB, file-rss:\d+kB, shmem-rss:0kB, UID:\d+ pgtables:0kB oom_score_adj:0\n$/;

describe.skipIf(!haveFixtures())('--max-memory: touching more than the cap', () => {
  it('natively, in a memory cgroup of the same limit: every case ends in SIGKILL', () => {
    const cg = memcg();
    if (cg === null) return; // no cgroup to be had: the kernel's mm/memcontrol.c and oom_kill.c are the oracle
    try {
      for (const name of ['oomtouch', 'oomtouch-glibc']) {
        const m = run([fixture('x86_64', name), 'malloc', '1024'], cg.join);
        expect(m.signal, name).toBe('SIGKILL');
        const n = run([fixture('x86_64', name), 'noreserve', '1024'], cg.join);
        expect(n.stdout).toMatch(/^mmap MAP_NORESERVE: ok\n/);
        expect(n.signal, name).toBe('SIGKILL');
        // oom_score_adj 1000 makes a 20 MiB child the victim of its parent's 248 MiB
        expect(run([fixture('x86_64', name), 'adj', '248'], cg.join).stdout).toBe(ADJ_OUT);
        // fork: one of the two is killed (which one, each run decides)
        const f = run([fixture('x86_64', name), 'fork', '150', 'noreserve'], cg.join);
        expect(f.stdout.includes('child killed by signal 9') || f.signal === 'SIGKILL', JSON.stringify(f)).toBe(true);
      }
    } finally {
      cg.done();
    }
  });

  for (const arch of ARCHES)
    for (const name of arch === 'x86_64' ? ['oomtouch', 'oomtouch-glibc'] : ['oomtouch'])
      describe(`${arch} ${name}`, () => {
        it('malloc+memset: malloc fails short of the cap (committed at mmap)', () => {
          const r = elfrun(arch, ['malloc', '1024'], name);
          expect(r).toEqual({ status: 1, signal: null, stdout: 'malloc failed after 192 MiB\n', stderr: '' });
        });

        it('MAP_NORESERVE and touching it all: the OOM kill, logged', () => {
          const r = elfrun(arch, ['noreserve', '1024'], name);
          expect(r.signal).toBe('SIGKILL');
          expect(r.stdout).toBe('mmap MAP_NORESERVE: ok\n');
          expect(r.stderr).toMatch(OOM_LINE);
          // what was resident when it was killed: about the cap
          const rss = Number(/anon-rss:(\d+)kB/.exec(r.stderr)![1]) * 1024;
          expect(rss).toBeGreaterThan(CAP - (8 << 20));
          expect(rss).toBeLessThanOrEqual(CAP);
        });

        it('MAP_NORESERVE within the cap: nothing is killed', () => {
          expect(elfrun(arch, ['noreserve', '200'], name)).toEqual({ status: 0, signal: null, stdout: 'mmap MAP_NORESERVE: ok\ntouched 200 MiB\n', stderr: '' });
        });

        it('a fork of 150 MiB of MAP_NORESERVE memory: the child is killed, the parent goes on', () => {
          const r = elfrun(arch, ['fork', '150', 'noreserve'], name);
          expect(r.stdout).toBe('parent filled 150 MiB\nchild killed by signal 9\nparent wrote all 150 MiB again\n');
          expect(r.status).toBe(0);
          expect(r.stderr).toMatch(OOM_LINE);
        });

        it('oom_score_adj 1000 makes a child of 20 MiB the victim of its parent\'s touching', () => {
          const r = elfrun(arch, ['adj', '248'], name);
          expect(r.stdout).toBe(ADJ_OUT);
          expect(r.status).toBe(0);
          expect(r.stderr).toMatch(/^elfrun: Memory cgroup out of memory \(--max-memory\): Killed process \d+ \(oomtouch[-a-z]*\) total-vm:\d+kB, anon-rss:2\d{4}kB, .* oom_score_adj:1000\n$/);
        });

        it('a fork of 150 MiB of malloc memory: fork fails with ENOMEM (its copy is committed)', () => {
          const r = elfrun(arch, ['fork', '150'], name);
          expect(r.status).toBe(1);
          expect(r.stdout).toMatch(/^parent filled 150 MiB\nfork: (Out of memory|Cannot allocate memory)\n$/);
        });
      });
});
