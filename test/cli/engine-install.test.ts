// Set-up installs the patched engine and the trampoline beside the build
// (dist/native/), so elfrun finds them whatever the caller's environment;
// what is wrong with the engine (here: a stale build) is one line on stderr
// after a guest that failed, never in a successful guest's output.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELFRUN, ROOT, fixture, haveFixtures } from '../helpers/oracle.js';

const native = join(ROOT, 'dist/native');
const installed = existsSync(join(native, 'stamp'));

describe.skipIf(!installed || !haveFixtures())('the engine installed beside the build', () => {
  it('is found under env -i with another HOME, and runs Debian bash (which the fallback engine cannot)', () => {
    const r = spawnSync('/usr/bin/env', ['-i', 'HOME=/nonexistent', 'PATH=/usr/bin:/bin', process.execPath, ELFRUN, 'run', '/bin/bash', '-c', 'echo ${BASH_VERSINFO[0]}'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^\d+\n$/);
    expect(r.status).toBe(0);
  });

  it('names a stale engine after a failed guest only', () => {
    // a stand-in tree: the real bundle and libraries, a stamp from another patch
    const dir = mkdtempSync(join(tmpdir(), 'elfrun-native-'));
    try {
      mkdirSync(join(dir, 'bin'));
      mkdirSync(join(dir, 'dist/src'), { recursive: true });
      mkdirSync(join(dir, 'dist/native'));
      mkdirSync(join(dir, 'scripts/unicorn'), { recursive: true });
      copyFileSync(join(ROOT, 'bin/elfrun'), join(dir, 'bin/elfrun'));
      copyFileSync(join(ROOT, 'bin/package.json'), join(dir, 'bin/package.json'));
      copyFileSync(join(ROOT, 'dist/src/cli.js'), join(dir, 'dist/src/cli.js'));
      copyFileSync(join(ROOT, 'dist/elfrun.cjs'), join(dir, 'dist/elfrun.cjs'));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      copyFileSync(join(ROOT, 'scripts/unicorn/elfrun.patch'), join(dir, 'scripts/unicorn/elfrun.patch'));
      for (const f of ['libunicorn.so.2', 'libelfrun-tramp.so']) if (existsSync(join(native, f))) symlinkSync(join(native, f), join(dir, 'dist/native', f));
      const stamp = readFileSync(join(native, 'stamp'), 'latin1').replace(/^unicorn \S+/m, 'unicorn 0000');
      writeFileSync(join(dir, 'dist/native/stamp'), stamp);
      const run = (args: string[]): { stdout: string; stderr: string; status: number | null } =>
        spawnSync(process.execPath, [join(dir, 'bin/elfrun'), 'run', fixture('x86_64', 'busybox'), ...args], {
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, ELFRUN_QUIET_UNICORN: '', ELFRUN_UNICORN: '' },
        });
      const ok = run(['echo', 'fine']);
      expect(ok).toMatchObject({ stdout: 'fine\n', stderr: '', status: 0 });
      const bad = run(['sh', '-c', 'echo out; exit 3']);
      expect(bad.stdout).toBe('out\n');
      expect(bad.status).toBe(3);
      expect(bad.stderr).toMatch(/^elfrun: warning: the engine in \S+dist\/native was built from another version of scripts\/unicorn\/elfrun\.patch; run scripts\/setup\.sh\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
