// /proc/self/fdinfo/N for each kind of fd (fixtures/src/procfdinfo.c),
// against the native x86_64 run for both arches (qemu-aarch64 would show
// the host's own fdinfo for its fds). Numbers that are the kernel's own are
// masked: mount ids, inode numbers and devices, eventfd's id, the timer's
// nanoseconds left, the locker's pid; epoll's lines are sorted (Linux lists
// them by kernel address); arm64's flags are shown with x86_64's bit for
// O_LARGEFILE.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

/** arm64's O_LARGEFILE (0400000, asm-generic) in x86_64's place (0100000), the only flag here whose bit differs */
const x86Flags = (l: string): string => l.replace(/^flags:\t0(\d+)$/, (_, o: string) => {
  const v = parseInt(o, 8);
  return `flags:\t0${(v & 0o400000 ? (v & ~0o400000) | 0o100000 : v).toString(8)}`;
});

function norm(out: string, arch: string): string {
  const lines = out
    .split('\n')
    .map((l) =>
      (arch === 'arm64' ? x86Flags(l) : l)
        .replace(/^(mnt_id|ino):\t\d+$/, '$1:\tN')
        .replace(/ino:[0-9a-f]+ sdev:[0-9a-f]+$/, 'ino:N sdev:N')
        .replace(/^eventfd-id: \d+$/, 'eventfd-id: N')
        .replace(/^it_value: \((\d+), \d+\)$/, 'it_value: ($1, N)')
        .replace(/^(lock:\t1: FLOCK {2}ADVISORY {2}READ) \d+ [0-9a-f]+:[0-9a-f]+:\d+/, '$1 PID DEV:INO'),
    );
  // epoll's tfd lines in a stable order
  const out2: string[] = [];
  for (let i = 0; i < lines.length; ) {
    if (!lines[i].startsWith('tfd:')) out2.push(lines[i++]);
    else {
      const run: string[] = [];
      while (i < lines.length && lines[i].startsWith('tfd:')) run.push(lines[i++]);
      out2.push(...run.sort());
    }
  }
  return out2.join('\n');
}

for (const arch of ARCHES) {
  describe(`fdinfo on ${arch}`, () => {
    it('shows each fd kind as Linux does', () => {
      const want = runLinux('x86_64', fixture('x86_64', 'procfdinfo'), []);
      const got = runElfrun(fixture(arch, 'procfdinfo'), []);
      expect(got.status).toBe(0);
      expect(norm(got.stdout, arch)).toBe(norm(want.stdout, 'x86_64'));
    });
  });
}
