// Host files and a guest that is not elfrun's user: a root elfrun runs a
// guest that drops to nobody (the asuser fixture, as su would), and the
// host's permission checks then hold for nobody, as natively: a 0600 file
// of root's, a 0700 directory, a root directory nobody may not write, and
// the owner of what nobody creates.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'elfrun-hostperm-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveFixtures() || !root)('a guest that drops to nobody, on host files', () => {
  writeFileSync(join(dir, 'secret'), 'secret\n', { mode: 0o600 });
  mkdirSync(join(dir, 'private'), { mode: 0o700 });
  writeFileSync(join(dir, 'private', 'f'), 'f\n', { mode: 0o644 });
  mkdirSync(join(dir, 'shared'), { mode: 0o777 });
  chmodSync(join(dir, 'shared'), 0o777);
  const script = [
    'cat secret',
    'ls private',
    'cat private/f',
    'touch new-in-root-dir',
    'echo x > shared/mine && stat -c "%u %g %a" shared/mine',
    'rm -f secret',
    'id -u',
  ].join('; echo "rc $?"; ') + '; echo "rc $?"; rm -f shared/mine';
  for (const arch of ARCHES) {
    it(`${arch}: the host refuses what Linux refuses nobody`, () => {
      const bb = fixture('x86_64', 'busybox');
      const args = ['65534', '65534', bb, 'sh', '-c', script];
      const want = runLinux('x86_64', fixture('x86_64', 'asuser'), args, { cwd: dir, standardDev: true });
      expect(want.stdout).toContain('rc 1');
      const got = runElfrun(fixture(arch, 'asuser'), args.map((a) => (a === bb ? fixture(arch, 'busybox') : a)), { cwd: dir });
      expect(got.stdout).toBe(want.stdout);
      expect(got.stderr.replace(/x86_64|arm64/g, 'ARCH')).toBe(want.stderr.replace(/x86_64|arm64/g, 'ARCH'));
    });
  }
});
