// pipe2(O_DIRECT), packet mode: the pipepacket fixture (a packet per write,
// a page at most; a read takes one packet and drops the rest of it; 16
// packets fill a new pipe, POLLOUT follows; F_SETFL's O_DIRECT after plain
// bytes, where small writes merge into the last page as Linux's do) against
// the native run and qemu-aarch64.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

describe.skipIf(!haveFixtures())('pipe2 O_DIRECT', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: as Linux`, () => {
      const prog = fixture(arch, 'pipepacket');
      const want = runLinux(arch, prog, []);
      expect(want.stdout).toContain('one-byte packets until full: 16');
      const got = runElfrun(prog, []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
    });
  }
});
