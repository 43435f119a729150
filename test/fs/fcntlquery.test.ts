// fcntl's newer commands: the fcntlquery fixture (F_DUPFD_QUERY,
// F_CREATED_QUERY, F_GET/SET_RW_HINT, EINVAL for removed and unknown
// commands) against the native run. arm64 is held to it too: qemu-aarch64
// 7.2 knows none of these commands (EINVAL for all).
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

describe.skipIf(!haveFixtures())('fcntl query and hint commands', () => {
  for (const arch of ARCHES) {
    it(`${arch}: as Linux`, () => {
      const want = runLinux('x86_64', fixture('x86_64', 'fcntlquery'), []).stdout;
      expect(want).toContain('CREATED_QUERY creator = 1');
      const got = runElfrun(fixture(arch, 'fcntlquery'), []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want);
    });
  }
});
