// process_vm_readv / process_vm_writev: the procvm fixture (several iovecs
// on both sides, copies cut short by an unmapped remote or local page,
// EFAULT, ESRCH, EINVAL for flags and past IOV_MAX, nothing to copy, EPERM)
// against the native x86_64 run, and its trace against strace's.
// qemu-aarch64 has no process_vm_readv/writev (ENOSYS), so the arm64 build
// is held to the native x86_64 run: the fixture prints nothing arch-bound.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ARCHES, ELFRUN, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

const root = process.getuid?.() === 0;
// the call past IOV_MAX shows the stack behind its iovec array, which is each run's own
const calls = (s: string): string[] =>
  s
    .split('\n')
    .map((l) => l.replace(/^\[pid +\d+\] /, '').replace(/0x[0-9a-f]+/g, 'ADDR').replace(/^(process_vm_\w+)\(\d+/, '$1(PID').replace(/ +/g, ' '))
    .filter((l) => l.startsWith('process_vm_') && !l.includes(', 1025, '));

describe.skipIf(!haveFixtures() || !root)('procvm fixture', () => {
  const want = runLinux('x86_64', fixture('x86_64', 'procvm'), []);
  it('the native run covers every case', () => {
    expect(want.stdout).toContain('readv into an unmapped remote page: 4106');
    expect(want.stdout).toContain('child sees secret: WRITTEN-BY-PARENT');
  });
  for (const arch of ARCHES) {
    it(`${arch}: as native x86_64 Linux`, () => {
      const got = runElfrun(fixture(arch, 'procvm'), []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
    });
  }
  it('x86_64: traced as strace -f traces it', () => {
    const prog = fixture('x86_64', 'procvm');
    const trace = ['-f', '-e', 'trace=process_vm_readv,process_vm_writev', prog];
    const st = spawnSync('strace', trace, { encoding: 'latin1' });
    const el = spawnSync(ELFRUN, ['trace', ...trace], { encoding: 'latin1' });
    expect(calls(st.stderr).length).toBeGreaterThan(10);
    expect(calls(el.stderr)).toEqual(calls(st.stderr));
  });
});
