// dnotify (fcntl F_NOTIFY) on a host directory (events from the host's
// inotify) and on a tmpfs one (the VFS's own events), compared with Linux:
// native x86_64, qemu-aarch64 for arm64; F_NOTIFY traced as strace shows it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ARCHES, ELFRUN, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-dnotify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dnotify', () => {
  for (const arch of ARCHES) {
    it(`${arch}: DN_* events, one-shot and multishot, removal, ENOTDIR, on a host directory`, () => {
      const want = runLinux(arch, fixture(arch, 'dnotify'), [dir]);
      expect(want.stdout).toContain('rename within: 3 signal(s)');
      expect(runElfrun(fixture(arch, 'dnotify'), [dir])).toEqual(want);
    });
  }
  it('x86_64: the same on a tmpfs directory', () => {
    const want = runLinux('x86_64', fixture('x86_64', 'dnotify'), [dir]);
    expect(runElfrun(fixture('x86_64', 'dnotify'), [dir], { flags: ['--tmpfs', dir] })).toEqual(want);
  });
  it('x86_64: F_NOTIFY traced as strace shows it', () => {
    const prog = fixture('x86_64', 'dnotify');
    const lines = (s: string): string[] => [...new Set(s.split('\n').filter((l) => l.includes('F_NOTIFY')).map((l) => l.replace(/ +/g, ' ')))].sort();
    const st = spawnSync('strace', ['-e', 'trace=fcntl', prog, dir], { encoding: 'latin1' });
    const el = spawnSync(ELFRUN, ['trace', '-e', 'trace=fcntl', prog, dir], { encoding: 'latin1' });
    expect(lines(st.stderr)).toContain('fcntl(3, F_NOTIFY, DN_CREATE|DN_MULTISHOT) = 0');
    expect(lines(el.stderr)).toEqual(lines(st.stderr));
  });
});
