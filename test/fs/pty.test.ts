// The guest's own pseudo-terminals against Linux's: the ptys fixture
// (posix_openpt, grantpt, unlockpt, ptsname, the line discipline, controlling
// terminals, poll and epoll, TIOCGPTPEER, hangup) under elfrun prints what
// it prints natively (x86_64, musl and glibc) and under qemu-aarch64; the
// ptyedit fixture's editing keys and TIOCSTI likewise, and ptyquirks' corners
// of n_tty (NUL with VEOL 0, ^J in raw mode with ECHOCTL, INLCR).
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
    it('ptyedit: the editing keys of canonical mode (tabs, ECHOPRT, ECHOKE, ^R, ^W, ^V, ^O) and TIOCSTI, as n_tty', () => {
      const want = runLinux(arch, fixture(arch, 'ptyedit'), []);
      expect(want.stdout).toContain('unprivileged, another terminal: -1 Operation not permitted');
      const got = runElfrun(fixture(arch, 'ptyedit'), []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
    });
    it('ptyquirks: NUL with VEOL 0, ^J and CR echoed in raw mode with ECHOCTL, INLCR, as n_tty', () => {
      const want = runLinux(arch, fixture(arch, 'ptyquirks'), []);
      expect(want.stdout).toContain('raw echo (9): x ^ J y ^M ^J ^ A ^I');
      const got = runElfrun(fixture(arch, 'ptyquirks'), []);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });
    // the oracle is native x86_64 for both arches: qemu-aarch64 7.2 does not pass TIOCPKT on
    it('ptypkt: packet mode, tty_nr and tpgid of a process with a pty', () => {
      const want = runLinux('x86_64', fixture('x86_64', 'ptypkt'), []);
      expect(want.stdout).toContain('status 4');
      const got = runElfrun(fixture(arch, 'ptypkt'), []);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });
  });
}
