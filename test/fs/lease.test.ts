// Leases (fcntl F_SETLEASE/F_GETLEASE) between the guest's processes: the
// checks, breaks by another process's open and truncate, the holder's
// signal, F_GETLEASE during a break and the breaker's wait, on a host and a
// tmpfs directory, compared with Linux (native x86_64, qemu-aarch64); the
// lease commands traced as strace -f shows them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ARCHES, ELFRUN, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-lease-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('leases', () => {
  for (const arch of ARCHES) {
    it(`${arch}: as Linux, on a host directory`, () => {
      const want = runLinux(arch, fixture(arch, 'lease'), [dir]);
      expect(want.stdout).toContain("another's read open, the holder downgrades: ok, waited yes");
      expect(runElfrun(fixture(arch, 'lease'), [dir])).toEqual(want);
    });
  }
  it('x86_64: the same on a tmpfs directory', () => {
    const want = runLinux('x86_64', fixture('x86_64', 'lease'), [dir]);
    expect(runElfrun(fixture('x86_64', 'lease'), [dir], { flags: ['--tmpfs', dir] })).toEqual(want);
  });
  it('x86_64: F_SETLEASE and F_GETLEASE traced as strace -f shows them', () => {
    const prog = fixture('x86_64', 'lease');
    const lines = (s: string): string[] => [...new Set(s.split('\n').filter((l) => l.includes('LEASE')).map((l) => l.replace(/^\[pid +\d+\] /, '').replace(/ +/g, ' ')))].sort();
    const st = spawnSync('strace', ['-f', '-e', 'trace=fcntl', prog, dir], { encoding: 'latin1' });
    const el = spawnSync(ELFRUN, ['trace', '-f', '-e', 'trace=fcntl', prog, dir], { encoding: 'latin1' });
    expect(lines(st.stderr)).toContain('fcntl(5, F_GETLEASE) = 0x1 (F_WRLCK)');
    expect(lines(el.stderr)).toEqual(lines(st.stderr));
  });
});
