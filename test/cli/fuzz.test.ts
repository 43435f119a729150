// A slice of `npm run fuzz` (scripts/fuzz.ts): the sysfuzz fixture's random
// calls, 20k per arch, must never make elfrun fail itself. Stores to
// read-only memory, the class of fault the ELF fuzzer found, are checked
// against Linux by the rowrite fixture.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';
import { SYSFUZZ_CHILDREN, SYSFUZZ_COUNT, sysfuzzSeed } from '../../scripts/fuzz.js';

describe.skipIf(!haveFixtures())('random syscalls', () => {
  for (const arch of ARCHES) {
    it(`${arch}: ${3 * SYSFUZZ_CHILDREN * SYSFUZZ_COUNT} random calls, and elfrun itself never fails`, async () => {
      for (const seed of [1, 2, 3]) expect(await sysfuzzSeed(arch, seed), `seed ${seed}`).toBeNull();
    });
  }
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
