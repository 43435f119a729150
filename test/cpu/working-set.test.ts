// Guest code whose memory working set outgrows the engine's TLB (elfrun's
// Unicorn patch grows the TLB in the middle of a run, from tlb_fill): sort of
// 200k lines (~1300 pages of lines and pointers) and md5sum of 16 MiB must
// give Linux's answers (native x86_64, qemu-aarch64 for arm64).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

describe('a working set larger than the TLB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elfrun-ws-'));
  let seed = 12345;
  const r = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
  const lines = Array.from({ length: 200000 }, () => `w${r() % 97} ${r() % 1000000}`).join('\n') + '\n';
  const sortIn = join(dir, 'sort.txt');
  writeFileSync(sortIn, lines);
  const big = join(dir, 'big.bin');
  const b = Buffer.alloc(16 << 20);
  for (let i = 0; i < b.length; i += 4) b.writeUInt32LE(r(), i);
  writeFileSync(big, b);
  for (const arch of ARCHES) {
    it(`${arch}: sort -n and md5sum as Linux`, () => {
      const bb = fixture(arch, 'busybox');
      for (const args of [['sh', '-c', `sort -k2 -n ${sortIn} | md5sum`], ['md5sum', big]]) {
        const want = runLinux(arch, bb, args);
        expect(want.status).toBe(0);
        expect(runElfrun(bb, args)).toEqual(want);
      }
    });
  }
  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
