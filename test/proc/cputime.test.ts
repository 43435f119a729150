// CPU time: what getrusage, times, wait4's rusage and /proc/<pid>/stat report
// is the guest's own time in the emulator, user and system apart (values differ from a native run,
// so the checks are on shape and consistency, the formats on Linux's).
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const LOOP = 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done';

describe('CPU time accounting', () => {
  for (const arch of ARCHES) {
    it(`${arch}: times, /proc/self/stat and time(1) see the guest's user time`, () => {
      const bb = fixture(arch, 'busybox');
      const script = `${LOOP}; times; set -- $(cut -d" " -f14-17 /proc/$$/stat); echo "stat $1 $2 $3 $4"; sh -c '${LOOP}'; times`;
      const r = runElfrun(bb, ['sh', '-c', script]);
      const native = runLinux('x86_64', fixture('x86_64', 'busybox'), ['sh', '-c', script]);
      const shape = (s: string): string => s.replace(/\d+m\d+\.\d+s/g, 'T').replace(/stat \d+ \d+ \d+ \d+/, 'stat N N N N');
      expect(shape(r.stdout)).toBe(shape(native.stdout));
      const lines = r.stdout.trim().split('\n');
      const secs = (s: string): number => Number(/(\d+)m([\d.]+)s/.exec(s)![1]) * 60 + Number(/(\d+)m([\d.]+)s/.exec(s)![2]);
      expect(secs(lines[0])).toBeGreaterThan(0); // the shell's own user time
      expect(secs(lines[4].split(' ')[0])).toBeGreaterThan(0); // its reaped child's
      const [, utime] = /stat (\d+) (\d+) (\d+) (\d+)/.exec(lines[2])!;
      expect(Number(utime)).toBeGreaterThan(0);
      const t = runElfrun(bb, ['time', '-f', '%U %S %e', bb, 'sh', '-c', LOOP]);
      const [user, sys, real] = t.stderr.trim().split(' ').map(Number);
      expect(user).toBeGreaterThan(0);
      // a shell loop of builtins makes few syscalls: mostly user time, as natively
      expect(sys).toBeLessThan(user);
      expect(user).toBeLessThanOrEqual(real + 0.02);
    });
  }
});
