// openat2: the openat2 fixture (struct open_how's size rules, the strict
// flag checks, every RESOLVE_* flag over absolute, relative, climbing and
// looping symlinks and /proc's magic links) against the native x86_64 run;
// and its calls in a trace as strace prints them. qemu-aarch64 7.2 has no
// openat2 (it answers ENOSYS), so the native x86_64 run is the oracle for
// the arm64 build too: the fixture prints nothing that differs by arch.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, ELFRUN, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

const dirs: string[] = [];
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'elfrun-openat2-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.skipIf(!haveFixtures())('openat2 fixture', () => {
  const want = haveFixtures() ? runLinux('x86_64', fixture('x86_64', 'openat2'), [scratch()]) : null;

  for (const arch of ARCHES) {
    it(`${arch}: as the native x86_64 run`, () => {
      expect(want!.stdout).toContain('BENEATH ..: EXDEV');
      expect(want!.stdout).toContain('NO_MAGICLINKS exe: ELOOP');
      const got = runElfrun(fixture(arch, 'openat2'), [scratch()]);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want!.stdout);
      expect(got.status).toBe(0);
    });
  }

  it.runIf(spawnSync('strace', ['-V']).status === 0)('traces openat2 as strace prints it', () => {
    const norm = (text: string, d: string): string[] =>
      text
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('+++'))
        .map((l) => l.split(d).join('DIR').replace(/\s+=/, ' =').replace(/0x[0-9a-f]{9,}/g, 'ADDR'));
    const d1 = scratch();
    const d2 = scratch();
    const st = join(d1, '..', `${d1.split('/').pop()}.strace`);
    const el = join(d2, '..', `${d2.split('/').pop()}.elfrun`);
    spawnSync('strace', ['-o', st, '-e', 'trace=openat2', fixture('x86_64', 'openat2'), d1]);
    spawnSync(ELFRUN, ['trace', '-o', el, '-e', 'trace=openat2', fixture('x86_64', 'openat2'), d2]);
    const w = norm(readFileSync(st, 'latin1'), d1);
    rmSync(st);
    const g = norm(readFileSync(el, 'latin1'), d2);
    rmSync(el);
    expect(w.length).toBeGreaterThan(80);
    expect(g).toEqual(w);
  });
});
