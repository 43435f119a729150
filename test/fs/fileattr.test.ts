// file_getattr and file_setattr (Linux 6.17): the fileattr fixture on a
// host directory (the host file system's attributes: noatime, nodump,
// append-only and immutable with what they then refuse, flags it does not
// keep, the struct's size rules, an unprivileged caller) and, reading only,
// on tmpfs, against the host kernel on the same kind of file system.
// qemu-aarch64 7.2 does not know the calls, so the arm64 build is compared
// with the native x86_64 run: the output is arch-neutral.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, checkoutInTmp, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-fileattr-'));
// searchable by all: the fixture's unprivileged part works below it
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TMPFS_MAGIC = 0x01021994;
const hostTmpfs = existsSync('/dev/shm') && statfsSync('/dev/shm').type === TMPFS_MAGIC;
const root = process.getuid?.() === 0;
const native = (args: string[]): string => runLinux('x86_64', fixture('x86_64', 'fileattr'), args).stdout;

describe.skipIf(!haveFixtures() || !root)('fileattr fixture', () => {
  let onHost: string | undefined;
  let onTmpfs: string | undefined;
  for (const arch of ARCHES) {
    it(`${arch}: on a host directory, as the host kernel`, () => {
      onHost ??= native([dir]);
      expect(onHost).toContain('set noatime|nodump: 0');
      const got = runElfrun(fixture(arch, 'fileattr'), [dir]);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(onHost);
    });

    it.skipIf(!hostTmpfs || checkoutInTmp)(`${arch}: reading on tmpfs, as the host's tmpfs`, () => {
      onTmpfs ??= native(['/dev/shm', 'get']);
      expect(onTmpfs).toContain('get f: xflags 0');
      const got = runElfrun(fixture(arch, 'fileattr'), ['/tmp', 'get'], { flags: ['--tmpfs', '/tmp'], cwd: '/' });
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(onTmpfs);
    });
  }
});
