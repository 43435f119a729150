// syslog(2): the argument checks, the sizes and the permission checks as
// Linux makes them. Oracle: native x86_64 for both arches (qemu-aarch64 7.2
// checks the arguments itself, differently). What the log holds is not
// compared: the guest's log is elfrun's own and empty.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

const root = process.getuid?.() === 0;

describe.skipIf(!haveFixtures() || !root)('syslog', () => {
  for (const arch of ARCHES) {
    it(`${arch}: each type's checks, the buffer size, an unprivileged caller`, () => {
      const want = runLinux('x86_64', fixture('x86_64', 'klog'), []);
      expect(want.stdout).toContain('nobody: CONSOLE_LEVEL 0');
      expect(runElfrun(fixture(arch, 'klog'), [])).toEqual(want);
    });
  }
});
