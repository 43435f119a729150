// Extended attributes: the xattrs fixture (every namespace, the flags, the
// size and name limits, links, fifos, O_PATH fds, bad pointers, an
// unprivileged user) on a host directory and on tmpfs, against Linux on the
// same kind of file system (a host tmpfs, /dev/shm, for tmpfs), both arches;
// and the calls in a trace as strace -f prints them.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, ELFRUN, checkoutInTmp, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-xattr-'));
// searchable by all: the fixture's unprivileged part works below it (elfrun reaches host files by whole paths, whose every directory the host checks)
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TMPFS_MAGIC = 0x01021994;
const hostTmpfs = existsSync('/dev/shm') && statfsSync('/dev/shm').type === TMPFS_MAGIC;
const root = process.getuid?.() === 0;

describe.skipIf(!haveFixtures() || !root)('xattrs fixture', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: on a host directory, as Linux`, () => {
      const want = runLinux(arch, fixture(arch, 'xattrs'), [dir]);
      expect(want.stdout).toContain('set user.a: 0');
      const got = runElfrun(fixture(arch, 'xattrs'), [dir]);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
    });

    it.skipIf((arch === 'arm64' && !haveQemu()) || !hostTmpfs || checkoutInTmp)(`${arch}: on tmpfs, as Linux's tmpfs`, () => {
      const want = runLinux(arch, fixture(arch, 'xattrs'), ['/dev/shm']);
      const got = runElfrun(fixture(arch, 'xattrs'), ['/tmp'], { flags: ['--tmpfs', '/tmp'], cwd: '/' });
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
    });
  }

  it.runIf(existsSync('/usr/bin/strace'))('traces decode the calls as strace -f prints them', () => {
    const calls = 'trace=setxattr,getxattr,fsetxattr,fgetxattr,removexattr,lsetxattr,lgetxattr,listxattr,llistxattr,flistxattr,fremovexattr';
    const norm = (text: string): string[] =>
      text
        .split('\n')
        .filter((l) => l !== '' && !/^(\d+ +)?(---|\+\+\+)/.test(l))
        .map((l) => l.replace(/^(\[pid +\d+\] |\d+ +)/, '').replace(/\s+=/, ' =').replace(/0x[0-9a-f]{6,}/g, 'ADDR'));
    const st = join(dir, 'strace.txt');
    const el = join(dir, 'elfrun.txt');
    spawnSync('strace', ['-f', '-o', st, '-e', calls, fixture('x86_64', 'xattrs'), dir]);
    spawnSync(ELFRUN, ['trace', '-f', '-o', el, '-e', calls, fixture('x86_64', 'xattrs'), dir]);
    const want = norm(readFileSync(st, 'latin1'));
    expect(want.length).toBeGreaterThan(40);
    expect(norm(readFileSync(el, 'latin1'))).toEqual(want);
  });
});
