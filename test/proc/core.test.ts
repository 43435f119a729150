// Core files: a guest killed by SIGSEGV with RLIMIT_CORE unlimited leaves
// `core` in its working directory, which Debian's gdb-multiarch reads as it
// reads the core Linux writes for the same program: the signal, the
// backtrace, both threads, memory (a global string, a counter the crashing
// function set) and the siginfo. x86_64 is compared with the native core;
// arm64 (qemu-aarch64 writes its cores elsewhere, by its own rules) with the
// same gdb answers, addresses aside.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELFRUN, fixture, haveFixtures } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-core-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
const haveGdb = spawnSync('gdb-multiarch', ['--version']).status === 0;
const nativeCores = (() => {
  try {
    return spawnSync('cat', ['/proc/sys/kernel/core_pattern'], { encoding: 'utf8' }).stdout.trim() === 'core';
  } catch {
    return false;
  }
})();

/** Run `cmd` in a fresh directory with `ulimit -c LIMIT`; the directory. */
function crash(name: string, cmd: string[], limit = 'unlimited'): string {
  const d = join(dir, name);
  mkdirSync(d);
  spawnSync('sh', ['-c', `ulimit -c ${limit}; exec "$@"`, 'sh', ...cmd], { cwd: d, env, timeout: 60_000 });
  return d;
}

const GDB = ['-ex', 'bt', '-ex', 'info threads', '-ex', 'x/s &message', '-ex', 'p *(long *)&counter', '-ex', 'p $_siginfo.si_signo', '-ex', 'p $_siginfo._sifields._sigfault.si_addr'];

/** gdb's answers, without what differs from run to run (pids, the host's thread library notices) */
function gdb(prog: string, core: string): string {
  const r = spawnSync('gdb-multiarch', ['-batch', '-nx', ...GDB, prog, core], { encoding: 'utf8', timeout: 60_000 });
  return (r.stdout + r.stderr)
    .split('\n')
    .filter((l) => l !== '' && !/^\[New |^\[Thread debugging|^Using host libthread_db|^warning: /.test(l))
    .map((l) => l.replace(/LWP \d+/g, 'LWP N').replace(/Thread 0x[0-9a-f]+/g, 'Thread T'))
    .join('\n');
}

describe.skipIf(!haveFixtures() || !haveGdb)('core files', () => {
  it.skipIf(!nativeCores)('x86_64: gdb reads elfrun\'s core as it reads Linux\'s', () => {
    const prog = fixture('x86_64', 'coredump');
    const n = crash('native', [prog]);
    const e = crash('elfrun', [ELFRUN, 'run', prog]);
    expect(existsSync(join(e, 'core'))).toBe(true);
    const want = gdb(prog, join(n, 'core'));
    expect(want).toContain('Program terminated with signal SIGSEGV');
    expect(gdb(prog, join(e, 'core'))).toBe(want);
  });

  it('arm64: the same answers (signal, backtrace, threads, memory, siginfo)', () => {
    const prog = fixture('arm64', 'coredump');
    const e = crash('elfrun-arm64', [ELFRUN, 'run', prog]);
    const got = gdb(prog, join(e, 'core'));
    const noAddr = (s: string): string[] =>
      s
        .split('\n')
        .map((l) =>
          l
            .replace(/0x[0-9a-f]+/g, 'ADDR')
            .replace(/fixtures\/(x86_64|arm64)\//, 'fixtures/ARCH/')
            // glibc's threads are named through libthread_db, musl's by LWP
            .replace(/Thread T \((LWP N)\)/g, '$1')
            .replace(/ in (__syscall_cp_c|__lll_lock_wait) \(\)/, ' in LOCK_WAIT ()')
            .replace(/\s+/g, ' '),
        );
    const x86 = fixture('x86_64', 'coredump');
    const want = nativeCores ? gdb(x86, join(crash('native-for-arm64', [x86]), 'core')) : null;
    expect(got).toContain('Program terminated with signal SIGSEGV, Segmentation fault.');
    expect(got).toMatch(/#0 +0x[0-9a-f]+ in crash_here \(\)\n#1 .* in middle \(\)\n#2 .* in middle \(\)\n#3 .* in middle \(\)\n#4 .* in main \(\)/);
    if (want !== null) expect(noAddr(got).filter((l) => !/^ *Id +Target/.test(l))).toEqual(noAddr(want).filter((l) => !/^ *Id +Target/.test(l)));
  });

  it('no core without RLIMIT_CORE; --core-dir; RLIMIT_CORE bounds the size', () => {
    const prog = fixture('x86_64', 'coredump');
    const none = crash('none', [ELFRUN, 'run', prog], '0');
    expect(existsSync(join(none, 'core'))).toBe(false);
    const elsewhere = join(dir, 'cores');
    mkdirSync(elsewhere);
    const cwd = crash('coredir', [ELFRUN, 'run', '--core-dir', elsewhere, prog]);
    expect(existsSync(join(cwd, 'core'))).toBe(false);
    expect(existsSync(join(elsewhere, 'core'))).toBe(true);
    // ulimit -c counts 512-byte blocks: a dump cut at 30 blocks still counts as
    // dumped (the shell says "core dumped"), as Linux's does
    const script = 'ulimit -c 30; ./coredump; echo status $?';
    const small = join(dir, 'small');
    mkdirSync(small);
    spawnSync('cp', [prog, join(small, 'coredump')]);
    const got = spawnSync(ELFRUN, ['run', fixture('x86_64', 'busybox'), 'sh', '-c', script], { cwd: small, env, encoding: 'utf8', timeout: 60_000 });
    const size = statSync(join(small, 'core')).size;
    expect(size).toBeLessThan(statSync(join(elsewhere, 'core')).size);
    expect(size).toBeGreaterThan(0);
    rmSync(join(small, 'core'));
    const want = spawnSync(fixture('x86_64', 'busybox'), ['sh', '-c', script], { cwd: small, env, encoding: 'utf8' });
    expect(got.stdout + got.stderr).toBe(want.stdout + want.stderr);
  });
});
