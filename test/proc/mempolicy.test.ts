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

describe('mbind, get_mempolicy of an address, migrate_pages, move_pages, set_mempolicy_home_node', () => {
  for (const arch of ARCHES) {
    it(`${arch}: per-mapping policies split and merge mappings, fork keeps them, every query and error as Linux's`, () => {
      // the oracle is native x86_64 for arm64 too: qemu-aarch64 7.2 has none of these calls
      const want = runLinux('x86_64', fixture('x86_64', 'numa'), []);
      expect(want.stdout).toContain('child: policy at page 0');
      expect(runElfrun(fixture(arch, 'numa'), [])).toEqual(want);
    });
  }
});
