// The LSM syscalls (Linux 6.8): the lsm fixture prints what holds whichever
// security modules the kernel has (the capability module listed, the sizes)
// and what a kernel whose modules keep no process attributes answers, with
// each call's errors; the host kernel is such a kernel (no SELinux, Smack
// or AppArmor), so its native run is the oracle. qemu-aarch64 7.2 does not
// know the calls, so the arm64 build is compared with the native x86_64
// run: the output is arch-neutral.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

describe.skipIf(!haveFixtures())('lsm fixture', () => {
  let want: string | undefined;
  for (const arch of ARCHES) {
    it(`${arch}: as the host kernel`, () => {
      want ??= runLinux('x86_64', fixture('x86_64', 'lsm'), []).stdout;
      // an oracle whose kernel has an LSM keeping attributes (or no such calls) would not say this
      expect(want).toContain('get current: EOPNOTSUPP');
      expect(want).toContain('capability listed: yes');
      const got = runElfrun(fixture(arch, 'lsm'), []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want);
    });
  }
});
