// Process groups and sessions: zombies keep their group and session until
// reaped, setpgid's and setsid's errors, an orphaned group with a stopped
// member hung up (SIGHUP, SIGCONT). Compared with native x86_64 and with
// qemu-aarch64 for arm64.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

describe('process groups and sessions', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: pgrp fixture as on Linux`, () => {
      const want = runLinux(arch, fixture(arch, 'pgrp'), []);
      expect(want.stdout).toContain('setpgid(child, zombie\'s group): ok');
      expect(want.stdout).toContain('SIGHUP\nSIGCONT\nnot stopped by SIGTSTP');
      expect(runElfrun(fixture(arch, 'pgrp'), [])).toEqual(want);
    });
  }
});
