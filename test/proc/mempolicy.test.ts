// NUMA policy on one memory node and the capability bounding set query, as
// libnuma and procps make them. Oracle: native x86_64 for both arches
// (qemu-aarch64 7.2 answers ENOSYS for the mempolicy calls).
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

describe('set_mempolicy/get_mempolicy, PR_CAPBSET_READ', () => {
  for (const arch of ARCHES) {
    it(`${arch}: as Linux answers on one node`, () => {
      const want = runLinux('x86_64', fixture('x86_64', 'mempolicy'), []);
      expect(want.stdout).toContain('mode 5 mask 1');
      expect(runElfrun(fixture(arch, 'mempolicy'), [])).toEqual(want);
    });
  }
});
