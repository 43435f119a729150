// Signal-driven I/O (O_ASYNC, F_SETOWN/F_SETOWN_EX/F_SETSIG, FIOASYNC and the
// socket owner ioctls) over pipes, socketpairs, TCP, a pty, inotify and
// eventfd, a FIFO, an AF_UNIX listener, a process group and sigio_perm,
// compared with Linux: native x86_64, qemu-aarch64 for arm64; the
// fcntl calls and the signals traced as strace -f shows them; python3's
// fcntl module (Debian's python3, dynamic) using all three under elfrun.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
    // without TCP, whose extra signals (a FIN's, an ACK's) depend on the host's timing
    const st = spawnSync('strace', ['-f', '-e', 'trace=fcntl', prog, dir, 'notcp'], { encoding: 'latin1' });
    const el = spawnSync(ELFRUN, ['trace', '-f', '-e', 'trace=fcntl', prog, dir, 'notcp'], { encoding: 'latin1' });
    const want = traced(st.stderr);
    expect(want).toContain('fcntl(3, F_SETSIG, SIGRT_8) = 0');
    expect(traced(el.stderr)).toEqual(want);
  });
});

const PY = `import fcntl, os, signal, sys, time
got = []
signal.signal(signal.SIGIO, lambda s, f: got.append(s))
def settle():
    for _ in range(100):
        if got: break
        time.sleep(0.01)
    time.sleep(0.05)
r, w = os.pipe()
fcntl.fcntl(r, fcntl.F_SETOWN, os.getpid())
fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC)
os.write(w, b'x')
settle()
print('pipe: SIGIO', len(got), 'owner is us', fcntl.fcntl(r, fcntl.F_GETOWN) == os.getpid())
got.clear()
d = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(d, fcntl.F_NOTIFY, fcntl.DN_CREATE | fcntl.DN_DELETE | fcntl.DN_MULTISHOT)
p = os.path.join(sys.argv[1], 'py-new')
open(p, 'w').close()
settle()
print('dnotify create: SIGIO', len(got))
got.clear()
f = os.open(p, os.O_RDONLY)
print('lease', fcntl.fcntl(f, fcntl.F_SETLEASE, fcntl.F_WRLCK), fcntl.fcntl(f, fcntl.F_GETLEASE))
try:
    os.open(p, os.O_RDONLY | os.O_NONBLOCK)
except OSError as e:
    print('a second open:', e.errno)
settle()
print('lease break: SIGIO', len(got), 'lease now', fcntl.fcntl(f, fcntl.F_GETLEASE))
fcntl.fcntl(f, fcntl.F_SETLEASE, fcntl.F_UNLCK)
got.clear()
os.unlink(p)
settle()
print('dnotify delete: SIGIO', len(got))
`;

describe('python3 fcntl', () => {
  const py = '/usr/bin/python3';
  it.runIf(existsSync(py))('O_ASYNC on a pipe, F_NOTIFY and a lease break, as natively', () => {
    const script = join(dir, 'sigio.py');
    writeFileSync(script, PY);
    const native = join(dir, 'py-native');
    const guest = join(dir, 'py-guest');
    mkdirSync(native);
    mkdirSync(guest);
    const want = spawnSync(py, [script, native], { encoding: 'latin1' });
    expect(want.stdout).toContain('lease break: SIGIO 1 lease now 0');
    expect(runElfrun(py, [script, guest]).stdout).toBe(want.stdout);
  });
});
