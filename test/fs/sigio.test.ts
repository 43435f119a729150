// Signal-driven I/O (O_ASYNC, F_SETOWN/F_SETOWN_EX/F_SETSIG, FIOASYNC and the
// socket owner ioctls) over pipes, socketpairs, TCP, a pty, inotify and
// eventfd, a FIFO, an AF_UNIX listener, a process group and sigio_perm,
// compared with Linux: native x86_64, qemu-aarch64 for arm64; the
// fcntl calls and the signals traced as strace -f shows them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ARCHES, ELFRUN, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

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
  it('x86_64: the same in a tmpfs directory (inotify events, FIFO and socket of elfrun\'s own file system)', () => {
    const want = runLinux('x86_64', fixture('x86_64', 'sigio'), [dir]);
    expect(runElfrun(fixture('x86_64', 'sigio'), [dir], { flags: ['--tmpfs', dir] })).toEqual(want);
  });
});

/** the distinct fcntl calls and O_ASYNC signals of a trace, pids as N */
const traced = (s: string): string[] => [
  ...new Set(
    s
      .split('\n')
      .map((l) => l.replace(/^\[pid +\d+\] /, '').replace(/pid=\d+/g, 'pid=N').replace(/F_SETOWN, -?\d+/, 'F_SETOWN, N').replace(/ +/g, ' '))
      .filter((l) => l.startsWith('fcntl(') || /^--- SIG(IO|RT_8) /.test(l)),
  ),
].sort();

describe('signal-driven I/O traced', () => {
  it('x86_64: as strace -f shows the fcntl commands and the signals', () => {
    const prog = fixture('x86_64', 'sigio');
    const st = spawnSync('strace', ['-f', '-e', 'trace=fcntl', prog, dir], { encoding: 'latin1' });
    const el = spawnSync(ELFRUN, ['trace', '-f', '-e', 'trace=fcntl', prog, dir], { encoding: 'latin1' });
    const want = traced(st.stderr);
    expect(want).toContain('fcntl(3, F_SETSIG, SIGRT_8) = 0');
    expect(traced(el.stderr)).toEqual(want);
  });
});
