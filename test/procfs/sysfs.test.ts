// The guest's /sys: its CPU and THP files agree with the host's (the guest
// runs on the host's processors and memory), statfs types per mount, and
// /proc/self/mountinfo agrees with /proc/mounts. The oracle is native
// x86_64 busybox for both arches (qemu-aarch64 would read the same host files).
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const same = [
  'cat /sys/devices/system/cpu/online /sys/devices/system/cpu/possible /sys/devices/system/cpu/present',
  'ls /sys/devices/system/cpu | grep -E "^cpu[0-9]+$"',
  'ls /sys/devices/system/cpu/cpu0/topology',
  'cat /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/transparent_hugepage/hpage_pmd_size',
  'nproc',
  'stat -f -c "%t %n" /sys /proc / /dev/shm',
  'stat -c "%A %n" /sys/devices/system/cpu/online /sys/kernel/mm/transparent_hugepage/enabled',
].join('; ');

for (const arch of ARCHES) {
  describe(`/sys on ${arch}`, () => {
    it('shows the host CPUs and THP settings as the host does', () => {
      const want = runLinux('x86_64', fixture('x86_64', 'busybox'), ['sh', '-c', same]);
      const got = runElfrun(fixture(arch, 'busybox'), ['sh', '-c', same]);
      expect(got.stdout).toBe(want.stdout);
      expect(got.stderr).toBe(want.stderr);
    });
    it('is read-only, with an empty cgroup2 at /sys/fs/cgroup that /proc/self/cgroup names', () => {
      const got = runElfrun(fixture(arch, 'busybox'), ['sh', '-c', 'echo 0 > /sys/devices/system/cpu/online; stat -f -c %t /sys/fs/cgroup; ls -A /sys/fs/cgroup | wc -l; cat /proc/self/cgroup']);
      // EROFS (a read-only sysfs, as in a container), CGROUP2_SUPER_MAGIC
      expect(got.stderr).toMatch(/Read-only file system/);
      expect(got.stdout).toBe('63677270\n0\n0::/\n');
    });
    it('has no block devices, with the directories lsblk reads (/sys/dev/block, /sys/block) present and empty', () => {
      const got = runElfrun(fixture(arch, 'busybox'), ['sh', '-c', 'ls -A /sys/block /sys/dev/block /sys/dev/char | wc -l; ls /sys/dev']);
      expect(got.stdout).toBe('5\nblock\nchar\n');
    });
    it('mountinfo lists the mounts /proc/mounts lists, each with a parent that is listed', () => {
      const script = [
        'awk \'{print $5}\' /proc/self/mountinfo > /tmp/.mi.$$; awk \'{print $2}\' /proc/mounts | cmp - /tmp/.mi.$$ && echo same points; rm -f /tmp/.mi.$$',
        'awk \'{ids[$1]=1; par[NR]=$2} END {bad=0; for (i=2; i<=NR; i++) if (!(par[i] in ids)) bad++; print bad " orphans"}\' /proc/self/mountinfo',
        'awk \'{for (i=7; $i != "-"; i++); if (NF - i != 3) bad++} END {print bad+0 " malformed"}\' /proc/self/mountinfo',
        'grep -E " /(sys|sys/fs/cgroup|proc) " /proc/self/mountinfo | cut -d" " -f5,9',
      ].join('; ');
      const got = runElfrun(fixture(arch, 'busybox'), ['sh', '-c', script]);
      expect(got.stdout).toBe('same points\n0 orphans\n0 malformed\n/proc proc\n/sys sysfs\n/sys/fs/cgroup cgroup2\n');
    });
  });
}
