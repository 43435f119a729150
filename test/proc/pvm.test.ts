// process_vm_readv/writev and kcmp between guest processes. Oracle: native
// x86_64 for both arches (the output is arch-neutral; qemu-aarch64 7.2 does
// not run the fixture's raw clone of a child on a stack of its own).
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

describe.skipIf(!haveFixtures())('process_vm_readv/writev, kcmp', () => {
  for (const arch of ARCHES) {
    it(`${arch}: partial copies at a hole or read-only page, the errors, and which resources fork and clone share`, () => {
      const want = runLinux('x86_64', fixture('x86_64', 'pvm'), []);
      expect(want.stdout).toContain('CLONE_FILES|CLONE_FS: VM differ FILES same FS same');
      expect(runElfrun(fixture(arch, 'pvm'), [])).toEqual(want);
    });
  }
});
