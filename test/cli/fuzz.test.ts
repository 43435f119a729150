// A slice of `npm run fuzz` (scripts/fuzz.ts): the sysfuzz fixture's random
// calls, 20k per arch, and one batch of damaged busybox files per arch, each
// exec'd by a guest, must never make elfrun fail itself. Stores to
// read-only memory, the class of fault the ELF fuzzer found, are checked
// against Linux by the rowrite fixture.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELF_BATCH, SYSFUZZ_CHILDREN, SYSFUZZ_COUNT, damagedElf, elfBatch, sysfuzzSeed, type ElfTally } from '../../scripts/fuzz.js';

describe.skipIf(!haveFixtures())('random syscalls', () => {
  for (const arch of ARCHES) {
    it(`${arch}: ${3 * SYSFUZZ_CHILDREN * SYSFUZZ_COUNT} random calls, and elfrun itself never fails`, async () => {
      for (const seed of [1, 2, 3]) expect(await sysfuzzSeed(arch, seed), `seed ${seed}`).toBeNull();
    });
  }
});

describe.skipIf(!haveFixtures())('damaged ELF files exec\'d by a guest', () => {
  for (const arch of ARCHES) {
    it(`${arch}: ${ELF_BATCH} files, and elfrun itself never fails`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'elfrun-fuzzslice-'));
      try {
        const busybox = readFileSync(fixture(arch, 'busybox'));
        const paths = Array.from({ length: ELF_BATCH }, (_, i) => {
          const p = join(dir, `${arch}-${i + 1}`);
          writeFileSync(p, damagedElf(busybox, i + 1));
          chmodSync(p, 0o755);
          return p;
        });
        const seen: ElfTally = { failed: 0, refused: 0, ok: 0, other: 0, hangs: 0 };
        expect(await elfBatch(arch, paths, seen)).toEqual([]);
        expect(seen.refused + seen.ok + seen.other + seen.hangs).toBe(ELF_BATCH);
        expect(seen.refused).toBeGreaterThan(20);
        expect(seen.ok).toBeGreaterThan(50);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);
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
