// F_GETPIPE_SZ / F_SETPIPE_SZ on elfrun's pipes (bash sizes its here-document
// pipes with them), compared with Linux: native x86_64, qemu-aarch64 for arm64.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

describe('pipe capacity (fcntl F_GETPIPE_SZ/F_SETPIPE_SZ)', () => {
  for (const arch of ARCHES) {
    it(`${arch}: rounding, limits, EBUSY, EBADF and the capacity a writer fills`, () => {
      const want = runLinux(arch, fixture(arch, 'pipesz'), []);
      expect(want.stdout).toContain('default: 65536');
      expect(runElfrun(fixture(arch, 'pipesz'), [])).toEqual(want);
    });
  }
});
