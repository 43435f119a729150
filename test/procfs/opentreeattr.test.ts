// open_tree_attr (Linux 6.15) as root: the opentreeattr fixture mounts tmpfs
// file systems of its own in a directory, clones and changes them; the
// oracle is its native run inside a private mount namespace (unshare -m) on
// the host kernel, which has the call. qemu-aarch64 7.2 does not know it, so
// the arm64 build is compared with the native x86_64 run: the output is
// arch-neutral (flags by name, errno names).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, runElfrun } from '../helpers/oracle.js';

const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-m', '--propagation', 'private', 'true']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'elfrun-ota-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let want: string | undefined;
const native = (): string =>
  (want ??= spawnSync('unshare', ['-m', '--propagation', 'private', fixture('x86_64', 'opentreeattr'), dir], { encoding: 'latin1' }).stdout);

describe.skipIf(!canUnshare || !haveFixtures())('open_tree_attr', () => {
  for (const arch of ARCHES) {
    it(`${arch}: clones with attributes, attached mounts, the struct's checks, as Linux`, () => {
      expect(native()).toContain('clone ro,noexec: ok');
      for (const flags of [['--tmpfs', '/tmp'], []]) {
        const got = runElfrun(fixture(arch, 'opentreeattr'), [flags.length ? '/tmp' : dir], { flags, cwd: '/' });
        expect(got.stderr).toBe('');
        expect(got.stdout).toBe(native());
      }
    });
  }
});
