// User and group ids: the set*id family against Linux, as the test's own
// user and (when the tests run as root) as an unprivileged one.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { ARCHES, ELFRUN, fixture, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

const isRoot = process.getuid?.() === 0;
const haveSetpriv = spawnSync('setpriv', ['--help']).status === 0;

/** Can user 65534 read and run what the test needs (the repository may sit in a private directory)? */
function nobodyCanRun(): boolean {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-x', ELFRUN]);
  return r.status === 0;
}

describe('credentials', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: set*id, getres*id, groups as Linux answers them`, () => {
      const prog = fixture(arch, 'creds');
      const native = runLinux(arch, prog, []);
      const ours = runElfrun(prog, []);
      expect(ours).toEqual(native);
    });

    it.skipIf(!isRoot || !haveSetpriv || (arch === 'arm64' && !haveQemu()) || !nobodyCanRun())(`${arch}: as an unprivileged user`, () => {
      accessSync(fixture(arch, 'creds'), constants.R_OK);
      const drop = ['--reuid=65534', '--regid=65534', '--clear-groups'];
      const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
      const prog = fixture(arch, 'creds');
      const native = spawnSync('setpriv', [...drop, ...(arch === 'arm64' ? ['qemu-aarch64'] : []), prog], { encoding: 'latin1', env });
      const ours = spawnSync('setpriv', [...drop, ELFRUN, 'run', prog], { encoding: 'latin1', env });
      expect({ out: ours.stdout, status: ours.status }).toEqual({ out: native.stdout, status: native.status });
      // busybox drops privileges with setgid/setuid at start-up when not root: a file applet must run
      const bb = fixture(arch, 'busybox');
      const nls = spawnSync('setpriv', [...drop, ...(arch === 'arm64' ? ['qemu-aarch64'] : []), bb, 'ls', '-ld', '/'], { encoding: 'latin1', env });
      const ols = spawnSync('setpriv', [...drop, ELFRUN, 'run', bb, 'ls', '-ld', '/'], { encoding: 'latin1', env });
      expect({ out: ols.stdout, err: ols.stderr, status: ols.status }).toEqual({ out: nls.stdout, err: nls.stderr, status: nls.status });
    });
  }
});
