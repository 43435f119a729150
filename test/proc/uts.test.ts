// The guest's UTS names: the uts fixture (sethostname, setdomainname,
// uname, /proc/sys/kernel/{hostname,domainname}, the limits, an
// unprivileged caller) against Linux in a UTS namespace of its own
// (unshare -u; qemu-aarch64 inside one for arm64), and the host's names
// untouched by the guest's changes.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { ARCHES, fixture, haveFixtures, haveQemu, runElfrun } from '../helpers/oracle.js';

const root = process.getuid?.() === 0;
const canUnshare = root && spawnSync('unshare', ['-u', 'true']).status === 0;

describe.skipIf(!haveFixtures() || !canUnshare)('uts fixture', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: as Linux in a UTS namespace of its own, and the host's names stay`, () => {
      const prog = fixture(arch, 'uts');
      const want = spawnSync('unshare', ['-u', ...(arch === 'arm64' ? ['qemu-aarch64', prog] : [prog])], { encoding: 'latin1' });
      expect(want.stdout).toContain('nodename elfrun-uts-test');
      const before = hostname();
      const got = runElfrun(prog, []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
      expect(hostname()).toBe(before);
    });
  }
});

describe.skipIf(!haveFixtures() || !canUnshare)('nsclone fixture: clone3, CLONE_PIDFD, unshare, UTS namespaces', () => {
  // native x86_64 is the oracle for both arches (qemu-aarch64 7.2 has no clone3),
  // inside a UTS namespace of its own so that the host's name stays
  const want = (prog: string) => spawnSync('unshare', ['-u', fixture('x86_64', prog)], { encoding: 'latin1' });
  for (const arch of ARCHES) {
    it(`${arch}: clone3's checks and children, pidfds, unshare's checks, a UTS namespace per process`, () => {
      const w = want('nsclone');
      expect(w.stdout).toContain('ns/uts changed: 1');
      const before = hostname();
      const got = runElfrun(fixture(arch, 'nsclone'), []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(w.stdout);
      expect(hostname()).toBe(before);
    });
  }
  it('x86_64 glibc: its threads are made with clone3 too', () => {
    const got = runElfrun(fixture('x86_64', 'nsclone-glibc'), []);
    expect(got.stdout).toBe(want('nsclone-glibc').stdout);
  });
});
