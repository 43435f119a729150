// The *at xattr calls (Linux 6.13): the xattrat fixture (dirfd-relative
// paths, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH with an fd and with AT_FDCWD,
// struct xattr_args's size rules, bad flags and pointers) on a host
// directory and on tmpfs, against the host kernel on the same kind of file
// system. qemu-aarch64 7.2 does not know these calls, so the arm64 build is
// compared with the native x86_64 run: the output is arch-neutral (the
// syscall numbers and struct xattr_args are the same on both arches).
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, checkoutInTmp, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-xattrat-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TMPFS_MAGIC = 0x01021994;
const hostTmpfs = existsSync('/dev/shm') && statfsSync('/dev/shm').type === TMPFS_MAGIC;
const native = (where: string): string => runLinux('x86_64', fixture('x86_64', 'xattrat'), [where]).stdout;

describe.skipIf(!haveFixtures())('xattrat fixture', () => {
  let onHost: string | undefined;
  let onTmpfs: string | undefined;
  for (const arch of ARCHES) {
    it(`${arch}: on a host directory, as the host kernel`, () => {
      onHost ??= native(dir);
      // the host kernel has the calls (6.13+): a run that gets ENOSYS is no oracle
      expect(onHost).toContain('set f user.a: 0');
      const got = runElfrun(fixture(arch, 'xattrat'), [dir]);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(onHost);
    });

    it.skipIf(!hostTmpfs || checkoutInTmp)(`${arch}: on tmpfs, as the host's tmpfs`, () => {
      onTmpfs ??= native('/dev/shm');
      expect(onTmpfs).toContain('set f user.a: 0');
      const got = runElfrun(fixture(arch, 'xattrat'), ['/tmp'], { flags: ['--tmpfs', '/tmp'], cwd: '/' });
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(onTmpfs);
    });
  }
});
