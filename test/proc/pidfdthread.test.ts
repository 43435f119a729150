// pidfd_open(PIDFD_THREAD): the pidfdthread fixture (F_GETFL's O_EXCL,
// fdinfo's Pid, pidfd_send_signal to the thread with SI_TKILL, poll before
// and after the thread ends, ESRCH then, ENOENT for a thread's id without
// the flag, waitid's ECHILD) against the native run and qemu-aarch64.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

describe.skipIf(!haveFixtures())('pidfd_open PIDFD_THREAD', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: as Linux`, () => {
      const prog = fixture(arch, 'pidfdthread');
      const want = runLinux(arch, prog, []);
      expect(want.stdout).toContain('revents: POLLIN|POLLHUP');
      const got = runElfrun(prog, []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
    });
  }
});
