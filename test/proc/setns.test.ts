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

// util-linux's nsenter (setns by /proc/<pid>/ns/*) into the UTS namespace unshare(1) made, and into every
// namespace of that process (the mount namespace's root becomes the cwd); the user namespace is the caller's own: EINVAL.
const have = (p: string): boolean => spawnSync('test', ['-x', p]).status === 0;
describe.runIf(canUnshare && have('/usr/bin/nsenter') && have('/usr/bin/unshare'))('util-linux unshare and nsenter', () => {
  it('nsenter joins the namespaces of an unshare -u process as natively', () => {
    const script =
      '/usr/bin/unshare -u sh -c "hostname other-uts; echo ready; sleep 3" & sleep 1; /usr/bin/nsenter -t $! -u hostname; hostname | grep -c other-uts; ' +
      '/usr/bin/nsenter -t $! -m -u -i -n -p -C -T sh -c "hostname; pwd"; echo rc $?; /usr/bin/nsenter -t $! -U true; echo rc $?; wait';
    const bb = fixture('x86_64', 'busybox');
    const want = spawnSync('unshare', ['-m', '-u', bb, 'sh', '-c', script], { encoding: 'latin1', cwd: '/tmp' });
    const got = runElfrun(bb, ['sh', '-c', script], { cwd: '/tmp' });
    expect(got.stdout).toBe(want.stdout);
    expect(got.stdout).toContain('other-uts\n0\nother-uts\n/\n');
    expect(got.stderr).toBe(want.stderr);
  });
});
