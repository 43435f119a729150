// Calls Linux added after 6.1 that elfrun answers itself (fixture newcalls:
// fchmodat2, cachestat, map_shadow_stack, x86_64's uretprobe and uprobe;
// fixture mseal: mseal and what sealed mappings refuse), and
// AT_EMPTY_PATH calls on the file an fd names however the fd was made (fixture
// emptypath: a just-created file's fd once named its directory). Against the
// native run; qemu-aarch64 7.2 has none of the new calls, so arm64 is held to
// the x86_64 output, which is the same on every arch but for x86_64's own calls.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

function scratch<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'elfrun-newcalls-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!haveFixtures())('calls added after Linux 6.1', () => {
  const want = scratch((d) => runLinux('x86_64', fixture('x86_64', 'newcalls'), [d]));
  const x86only = /^(signal 4|uretprobe|uprobe)/;
  for (const arch of ARCHES) {
    it(`${arch}: newcalls as Linux`, () => {
      expect(want.status).toBe(0);
      expect(want.stdout).toContain('fchmodat2 nofollow, a symlink: ENOTSUP');
      const got = scratch((d) => runElfrun(fixture(arch, 'newcalls'), [d]));
      const expected = arch === 'x86_64' ? want.stdout : want.stdout.split('\n').filter((l) => !x86only.test(l)).join('\n');
      expect(got).toEqual({ ...want, stdout: expected });
    });

    it(`${arch}: mseal, and what a sealed mapping refuses (brk, shmdt and SHM_REMAP too), as Linux 6.18`, () => {
      const native = runLinux('x86_64', fixture('x86_64', 'mseal'), []);
      expect(native.stdout).toContain('munmap 0-8: EPERM; page 0 r--, page 7 rw-');
      // brk leaves a sealed heap as it is; shmdt returns 0 but leaves a sealed attach
      expect(native.stdout).toContain('brk shrink to 0 (over the seal): 3 pages; page 0 rw-, page 1 rw-, page 2 rw-');
      expect(native.stdout).toContain('shmdt half sealed: 0; page 0 none, page 1 rw-');
      expect(runElfrun(fixture(arch, 'mseal'), [])).toEqual(native);
    });

    it(`${arch}: AT_EMPTY_PATH acts on the fd's own file, on a host directory and on tmpfs`, () => {
      const native = scratch((d) => runLinux('x86_64', fixture('x86_64', 'emptypath'), [d]));
      expect(native.stdout).toContain('created fchmodat2 0: fstatat 0 same inode 1 | file mode 604');
      expect(scratch((d) => runElfrun(fixture(arch, 'emptypath'), [d]))).toEqual(native);
      expect(runElfrun(fixture(arch, 'emptypath'), ['/scratch'], { flags: ['--tmpfs', '/scratch'] })).toEqual(native);
    });
  }
});
