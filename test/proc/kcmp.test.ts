// kcmp(2): the kcmp fixture (a thread, a fork child and the caller itself:
// fds by description, address space, fd table, fs state, signal handlers,
// SEM_UNDO lists; ESRCH, EBADF, EINVAL, EPERM) against the native run and
// qemu-aarch64, and its trace against strace's (an unequal pair's 1 or 2
// is Linux's pointer order, which no test can hold elfrun to).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ARCHES, ELFRUN, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

const root = process.getuid?.() === 0;
const calls = (s: string): string[] =>
  s.split('\n').map((l) => l.replace(/^\[pid +\d+\] /, '').replace(/\d{3,}/g, 'N').replace(/ +/g, ' ').replace(/= [12]$/, '= 1 or 2')).filter((l) => l.startsWith('kcmp(')).sort();

describe.skipIf(!haveFixtures() || !root)('kcmp fixture', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: as Linux`, () => {
      const prog = fixture(arch, 'kcmp');
      const want = runLinux(arch, prog, []);
      expect(want.stdout).toContain('fork child SYSVSEM: different');
      const got = runElfrun(prog, []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
    });
  }
  it('x86_64: traced as strace -f traces it', () => {
    const prog = fixture('x86_64', 'kcmp');
    const st = spawnSync('strace', ['-f', '-e', 'trace=kcmp', prog], { encoding: 'latin1' });
    const el = spawnSync(ELFRUN, ['trace', '-f', '-e', 'trace=kcmp', prog], { encoding: 'latin1' });
    expect(calls(el.stderr)).toEqual(calls(st.stderr));
  });
});
