// setns(2) against the native run of the setns fixture inside new mount and
// UTS namespaces (unshare -m -u): joining another process's UTS namespace
// by /proc/<pid>/ns/uts and by pidfd, the namespaces the caller is already
// in (each kind as Linux treats that), the type checks, EPERM without
// CAP_SYS_ADMIN, and a thread's EINVAL/EUSERS. The oracle is the native
// x86_64 build for both arches: under qemu-aarch64 the program has qemu's
// own threads, so the mount and time namespaces answer as for a threaded
// process. The trace is compared with strace's.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ARCHES, ELFRUN, fixture, runElfrun } from '../helpers/oracle.js';

const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-m', '-u', 'true']).status === 0;
const native = (argv: string[]): ReturnType<typeof spawnSync> => spawnSync('unshare', ['-m', '-u', '--propagation', 'private', ...argv], { encoding: 'latin1' });

describe.skipIf(!canUnshare)('setns', () => {
  for (const arch of ARCHES) {
    it(`${arch}: as Linux`, () => {
      const want = native([fixture('x86_64', 'setns')]);
      const got = runElfrun(fixture(arch, 'setns'), []);
      expect(got.stdout).toBe(want.stdout);
      expect(got.stderr).toBe('');
      expect(got.status).toBe(0);
    });
  }
  const haveStrace = spawnSync('strace', ['-V']).status === 0;
  it.skipIf(!haveStrace)('traces as strace -f shows them', () => {
    const prog = fixture('x86_64', 'setns');
    const calls = (s: string): string[] =>
      s
        .split('\n')
        .map((l) => l.replace(/^\[pid +\d+\] /, '').replace(/ +=/, ' ='))
        .filter((l) => l.startsWith('setns('))
        .sort();
    const want = calls(String(native(['strace', '-f', '-e', 'trace=setns', prog]).stderr));
    const got = spawnSync(ELFRUN, ['trace', '-f', prog], { encoding: 'latin1', env: { ...process.env, ELFRUN_QUIET_UNICORN: '1' } });
    expect(want.length).toBeGreaterThan(30);
    expect(calls(got.stderr)).toEqual(want);
  });
});
