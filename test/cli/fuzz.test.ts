// A slice of `npm run fuzz` (scripts/fuzz.ts): the sysfuzz fixture's random
// calls, 20k per arch, must never make elfrun fail itself; and on x86_64,
// for seeds where every call it makes is one elfrun implements, each child
// ends as it does natively (same status, after the same call). Stores to
// read-only memory, the class of fault the ELF fuzzer found, are checked
// against Linux by the rowrite fixture.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';
import { SYSFUZZ_CHILDREN, SYSFUZZ_COUNT, sysfuzzSeed } from '../../scripts/fuzz.js';

describe.skipIf(!haveFixtures())('random syscalls', () => {
  for (const arch of ARCHES) {
    it(`${arch}: ${2 * SYSFUZZ_CHILDREN * SYSFUZZ_COUNT} random calls, and elfrun itself never fails`, async () => {
      for (const seed of [1, 2]) expect(await sysfuzzSeed(arch, seed), `seed ${seed}`).toBeNull();
    });
  }

  it('x86_64: each child ends as natively, after the same number of calls', () => {
    for (const seed of [2, 3, 4]) {
      const args = [String(seed), String(SYSFUZZ_CHILDREN), String(SYSFUZZ_COUNT), 'verbose'];
      // the random calls create and remove files: natively in a directory of their own, under elfrun in a sandbox
      const cwd = mkdtempSync(join(tmpdir(), 'elfrun-sysfuzz-'));
      const want = runLinux('x86_64', fixture('x86_64', 'sysfuzz'), args, { cwd });
      rmSync(cwd, { recursive: true, force: true });
      const got = runElfrun(fixture('x86_64', 'sysfuzz'), args, { flags: ['--sandbox', '--on-missing=enosys'] });
      expect(got.stdout, `seed ${seed}`).toBe(want.stdout);
      expect(want.stdout.split('\n').length).toBeGreaterThan(SYSFUZZ_CHILDREN);
    }
  });
});

describe.skipIf(!haveFixtures())('stores to read-only memory', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: every kind of store to every kind of read-only page faults, as Linux`, () => {
      const want = runLinux(arch, fixture(arch, 'rowrite'), []);
      expect(want.stdout).toContain('SEGV');
      const got = runElfrun(fixture(arch, 'rowrite'), []);
      expect(got.stdout).toBe(want.stdout);
      expect(got.stderr).toBe('');
      expect(got.status).toBe(want.status);
    });
  }
});
