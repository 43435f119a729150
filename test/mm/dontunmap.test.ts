// mremap(MREMAP_DONTUNMAP) of private anonymous memory: the dontunmap
// fixture (the move, the old range left mapped and empty, MREMAP_FIXED, the
// checks) against the native run. arm64 is held to it too: qemu-aarch64 7.2
// moves the pages but its own /proc/self/maps leaves the old range out.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

describe.skipIf(!haveFixtures())('mremap MREMAP_DONTUNMAP', () => {
  const want = (): string => runLinux('x86_64', fixture('x86_64', 'dontunmap'), []).stdout;
  for (const arch of ARCHES) {
    it(`${arch}: as Linux`, () => {
      const native = want();
      expect(native).toContain('old range reads zeros: yes');
      const got = runElfrun(fixture(arch, 'dontunmap'), []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(native);
    });
  }
});
