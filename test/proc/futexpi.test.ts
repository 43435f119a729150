// The futex operations beyond wait and wake (the futexpi fixture): FUTEX_WAKE_OP's
// operations and comparisons, PI futexes (lock, trylock, unlock, hand-over, a
// dying owner with and without a robust list), requeue-PI, futex_waitv, the
// futex2 calls (futex_wait, futex_wake, futex_requeue), the
// errors of each, and waiters that left a futex taking no later wake-up; the
// C libraries' PI mutexes (pimutex);
// against the native run and qemu-aarch64, and the calls' trace against strace's.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ARCHES, ELFRUN, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

const SECTIONS = ['wakeop', 'counts', 'left', 'pi', 'requeuepi', 'waitv', 'futex2'];
// qemu-aarch64 7.2 has no futex_waitv or futex2 calls and does not walk robust lists: for those
// sections the oracle is the x86_64 run (the output is the same on every arch)
const QEMU_WRONG = new Set(['pi', 'waitv', 'futex2']);

describe.skipIf(!haveFixtures())('futexpi fixture', () => {
  for (const arch of ARCHES) {
    for (const s of SECTIONS) {
      it.skipIf(arch === 'arm64' && !haveQemu())(`${arch} ${s}: as Linux`, () => {
        const oracleArch = arch === 'arm64' && QEMU_WRONG.has(s) ? 'x86_64' : arch;
        const want = runLinux(oracleArch, fixture(oracleArch, 'futexpi'), [s], { timeout: 60_000 });
        expect(want.status).toBe(0);
        const got = runElfrun(fixture(arch, 'futexpi'), [s], { timeout: 60_000 });
        expect(got).toEqual(want);
      });
    }
  }

  // the C libraries' own PI mutexes (musl's and glibc's PTHREAD_PRIO_INHERIT, robust and not, with a condition variable)
  // (arm64's is glibc's too: qemu-aarch64 7.2 walks no robust list, and glibc asserts there, so the
  // oracle is the x86_64 glibc build's native run)
  for (const [arch, name, oracle] of [['x86_64', 'pimutex', 'pimutex'], ['x86_64', 'pimutex-glibc', 'pimutex-glibc'], ['arm64', 'pimutex', 'pimutex-glibc']] as const) {
    it(`${arch} ${name}: as Linux`, () => {
      const want = runLinux('x86_64', fixture('x86_64', oracle), [], { timeout: 60_000 });
      expect(want.stdout).toContain('counter: 8000');
      expect(runElfrun(fixture(arch, name), [], { timeout: 120_000 })).toEqual(want);
    });
  }

  // the calls whose text and result do not depend on timing: FUTEX_WAKE_OP's, and futex_waitv's that fail
  const calls = (s: string): string[] => [
    ...new Set(
      s
        .split('\n')
        .map((l) => l.replace(/^\[pid +\d+\] /, '').replace(/0x[0-9a-f]{6,}/g, 'ADDR').replace(/tv_sec=\d+, tv_nsec=\d+/g, 'T'))
        .filter((l) => (/^futex\(.*FUTEX_WAKE_OP/.test(l) || /^futex_waitv\(.* = -1 E/.test(l)) && !/unfinished|resumed/.test(l)),
    ),
  ].sort();
  for (const s of ['wakeop', 'waitv']) {
    it(`x86_64 ${s}: traced as strace -f traces it`, () => {
      const prog = fixture('x86_64', 'futexpi');
      const st = spawnSync('strace', ['-f', '-e', 'trace=futex,futex_waitv', prog, s], { encoding: 'latin1', timeout: 60_000 });
      const el = spawnSync(ELFRUN, ['trace', '-f', '-e', 'trace=futex,futex_waitv', prog, s], { encoding: 'latin1', timeout: 60_000 });
      const want = calls(st.stderr);
      expect(want.length).toBeGreaterThan(10);
      expect(calls(el.stderr)).toEqual(want);
    });
  }
});
