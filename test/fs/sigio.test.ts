// Signal-driven I/O (O_ASYNC, F_SETOWN/F_SETOWN_EX/F_SETSIG, FIOASYNC and the
// socket owner ioctls) over pipes, socketpairs, TCP, a pty, inotify and
// eventfd, compared with Linux: native x86_64, qemu-aarch64 for arm64.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-sigio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signal-driven I/O', () => {
  for (const arch of ARCHES) {
    it(`${arch}: owners, their errors, and the signal each kind of file sends`, () => {
      const want = runLinux(arch, fixture(arch, 'sigio'), [dir]);
      expect(want.stdout).toContain('pipe read end, F_SETSIG rt, two writes: 2 signal(s)');
      expect(runElfrun(fixture(arch, 'sigio'), [dir])).toEqual(want);
    });
  }
});
