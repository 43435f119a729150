// /proc/self/io: how the read and write counts move with each kind of call
// (fixtures/src/procio.c prints differences), against the native run on
// x86_64 and qemu-aarch64 on arm64.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

for (const arch of ARCHES) {
  describe.skipIf(arch === 'arm64' && !haveQemu())(`/proc/self/io on ${arch}`, () => {
    it('counts as Linux counts', () => {
      const want = runLinux(arch, fixture(arch, 'procio'), []);
      const got = runElfrun(fixture(arch, 'procio'), []);
      expect(want.status).toBe(0);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(0);
    });
  });
}
