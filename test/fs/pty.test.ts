// The guest's own pseudo-terminals against Linux's: the ptys fixture
// (posix_openpt, grantpt, unlockpt, ptsname, the line discipline, controlling
// terminals, poll and epoll, TIOCGPTPEER, hangup) under elfrun prints what
// it prints natively (x86_64, musl and glibc) and under qemu-aarch64.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

for (const arch of ARCHES) {
  describe(`ptys on ${arch}`, () => {
    const progs = arch === 'x86_64' ? ['ptys', 'ptys-glibc'] : ['ptys'];
    for (const prog of progs) {
      it(`${prog}: /dev/ptmx and /dev/pts, canonical and raw reads, echo, ^C, resize, poll, hangup`, () => {
        const want = runLinux(arch, fixture(arch, prog), []);
        expect(want.stdout).toContain('child3: SIGHUP 1');
        const got = runElfrun(fixture(arch, prog), []);
        expect(got.stdout).toBe(want.stdout);
        expect(got.status).toBe(want.status);
      });
    }
  });
}
