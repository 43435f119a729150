// SIGCHLD's si_utime and si_stime (fixture chldtimes): the stop, continue and
// exit notifications of a child that computed carry its CPU times, as Linux's
// do_notify_parent and do_notify_parent_cldstop put them, and waitid's
// siginfo none; printed as orderings, against the native run and qemu-aarch64.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

describe.skipIf(!haveFixtures())('SIGCHLD carries the child CPU times', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: as Linux`, () => {
      const want = runLinux(arch, fixture(arch, 'chldtimes'), [], { timeout: 60_000 });
      expect(want.stdout).toContain('exited: code 1, utime at least 40 ticks: 1');
      expect(runElfrun(fixture(arch, 'chldtimes'), [], { timeout: 60_000 })).toEqual(want);
    });
  }
});
