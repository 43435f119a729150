// statmount and listmount (Linux 6.8): the statmount fixture checks them
// against the same process's /proc/self/mountinfo, statfs and statx, then
// their errors; its output says what agrees, not what the table holds, so a
// native run on the host kernel (which has the calls) is the oracle for any
// table: elfrun's own, and one with the guest's own mounts (tmpfs, a bind
// mount made unbindable and read-only). qemu-aarch64 7.2 does not know the
// calls, so the arm64 build is compared with the native x86_64 run: the
// output is arch-neutral (same numbers, same structs on both arches).
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

describe.skipIf(!haveFixtures())('statmount fixture', () => {
  let want: string | undefined;
  const native = (): string => (want ??= runLinux('x86_64', fixture('x86_64', 'statmount'), []).stdout);

  for (const arch of ARCHES) {
    it(`${arch}: agrees with mountinfo as on the host kernel`, () => {
      // the host kernel has the calls: an oracle that got ENOSYS would say "no"
      expect(native()).toContain('statmount agrees with mountinfo, statfs and statx: yes');
      const got = runElfrun(fixture(arch, 'statmount'), []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(native());
    });

    it(`${arch}: with the guest's own mounts`, () => {
      const script =
        'mkdir -p /tmp/a /tmp/b /tmp/c && mount -t tmpfs -o nosuid,noexec,noatime,size=1m src /tmp/a && mount --bind /tmp/a /tmp/b && ' +
        'mount --make-unbindable /tmp/b && mount -o remount,bind,ro /tmp/b && mount -t tmpfs -o mode=700 x /tmp/c && exec "$0"';
      const got = runElfrun(fixture(arch, 'busybox'), ['sh', '-c', script, fixture(arch, 'statmount')], { flags: ['--tmpfs', '/tmp'], cwd: '/' });
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(native());
    });
  }
});
