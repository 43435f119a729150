// chroot: the chroot fixture (errors, paths, `..` and symlinks inside the
// new root, getcwd outside it, /proc not mounted inside, a child keeping
// the root, an fd from before reaching outside) against the native x86_64
// run, for both arches: qemu-aarch64 answers /proc/self/stat itself, even
// where a chroot leaves no /proc, so it is no oracle here.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-chroot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = process.getuid?.() === 0;

describe.skipIf(!haveFixtures() || !root)('chroot fixture', () => {
  for (const arch of ARCHES) {
    it(`${arch}: as Linux`, () => {
      const want = runLinux('x86_64', fixture('x86_64', 'chroot'), [dir]);
      expect(want.stdout).toContain('open /up/etc/f: inside');
      const got = runElfrun(fixture(arch, 'chroot'), [dir]);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
      // the fixture cleans up after itself, from outside the root
      expect(readdirSync(dir)).toEqual([]);
    });
  }
});
