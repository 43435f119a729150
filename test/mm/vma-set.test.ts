// VmaSet through AddressSpace: mapping over, cutting and merging VMAs, finding
// free room; the engine's view follows every change.
import { afterEach, describe, expect, it } from 'vitest';
import { PROT_EXEC, PROT_READ } from '../../src/abi/mman.js';
import { Chunk, MAX_CHUNK } from '../../src/mm/chunk.js';
import { PAGE } from '../../src/mm/layout.js';
import { Vma, anon } from '../../src/mm/vma.js';
import { A, ENOMEM, LAYOUT, RW, RX, consistent, destroySpaces, errnoOf, fill, fresh, memory, shape } from './helpers.js';

afterEach(destroySpaces);

describe('mapAnon and insert (MAP_FIXED)', () => {
  it('maps zeroed memory, mirrored once in the engine', () => {
    const { as, be } = fresh();
    const v = as.mapAnon(A, 4 * PAGE, RW);
    expect(v).toBe(as.find(A));
    expect(as.find(A + 4 * PAGE - 1)).toBe(v);
    expect(as.find(A + 4 * PAGE)).toBeNull();
    expect(as.find(A - 1)).toBeNull();
    expect(as.read(A, 4 * PAGE).equals(Buffer.alloc(4 * PAGE))).toBe(true);
    as.write(A + 10, Buffer.from('hello'));
    expect(as.read(A + 10, 5).toString()).toBe('hello');
    expect(be.log).toEqual([`map ${A.toString(16)} 4000 3`]);
    consistent(as, be);
  });

  it('a mapping in the middle of another splits it in three', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 8 * PAGE, RW);
    as.write(A, fill(8 * PAGE, 0xaa));
    as.mapAnon(A + 2 * PAGE, 2 * PAGE, PROT_READ);
    expect(shape(as)).toEqual([
      [A.toString(16), (A + 2 * PAGE).toString(16), RW],
      [(A + 2 * PAGE).toString(16), (A + 4 * PAGE).toString(16), PROT_READ],
      [(A + 4 * PAGE).toString(16), (A + 8 * PAGE).toString(16), RW],
    ]);
    consistent(as, be);
    expect(as.read(A, 2 * PAGE).equals(fill(2 * PAGE, 0xaa))).toBe(true);
    expect(as.read(A + 2 * PAGE, 2 * PAGE).equals(fill(2 * PAGE, 0))).toBe(true);
    expect(as.read(A + 4 * PAGE, 4 * PAGE).equals(fill(4 * PAGE, 0xaa))).toBe(true);
  });

  it('at the start edge, the end edge, exactly over, and across a gap and several VMAs', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 4 * PAGE, RW);
    as.write(A, fill(4 * PAGE, 1));
    as.mapAnon(A, PAGE, RX); // start edge
    consistent(as, be);
    as.mapAnon(A + 3 * PAGE, PAGE, PROT_READ); // end edge
    consistent(as, be);
    expect(as.vmas.map((v) => v.prot)).toEqual([RX, RW, PROT_READ]);
    expect(as.read(A + PAGE, 2 * PAGE).equals(fill(2 * PAGE, 1))).toBe(true);
    as.mapAnon(A + PAGE, 2 * PAGE, PROT_EXEC | PROT_READ); // exactly over the middle VMA
    consistent(as, be);
    expect(as.vmas).toHaveLength(3);
    as.mapAnon(A + 10 * PAGE, PAGE, RW); // after a gap
    as.mapAnon(A + 2 * PAGE, 10 * PAGE, RW); // over the tail of one, two whole ones, and the gap
    consistent(as, be);
    expect(shape(as)).toEqual([
      [A.toString(16), (A + PAGE).toString(16), RX],
      [(A + PAGE).toString(16), (A + 2 * PAGE).toString(16), RX],
      [(A + 2 * PAGE).toString(16), (A + 12 * PAGE).toString(16), RW],
    ]);
  });

  it('insert of a VMA that shares a chunk (the loader case)', () => {
    const { as, be } = fresh();
    const c = Chunk.alloc(memory, 3 * PAGE);
    as.insert(new Vma(A, A + PAGE, PROT_READ, c, 0, anon('/bin/x')));
    as.insert(new Vma(A + PAGE, A + 3 * PAGE, RW, c, PAGE, anon('/bin/x')));
    consistent(as, be);
    c.range(PAGE + 5, 1)[0] = 7;
    expect(as.u8(A + PAGE + 5)).toBe(7);
  });

  it('JS views of a chunk cover only what was touched, and grow without losing data', () => {
    const { as } = fresh();
    const size = 64 * 65536; // 4 MiB: windows grow in 64 KiB steps
    as.mapAnon(A, size, RW);
    as.setU32(A + size - 4, 0xdeadbeef); // the top, as a stack is used
    const c = as.find(A)!.chunk;
    expect(c.range(size - 4, 4).byteOffset).toBeGreaterThanOrEqual(0);
    expect((c as unknown as { wbytes: Uint8Array }).wbytes.length).toBe(65536);
    as.write(A + 3, Buffer.from('abc')); // the bottom: the window grows over the whole chunk
    expect(as.u32(A + size - 4)).toBe(0xdeadbeef);
    expect(as.read(A + 3, 3).toString()).toBe('abc');
    expect(as.cstring(A + 3)).toEqual(Buffer.from('abc'));
    expect((c as unknown as { wbytes: Uint8Array }).wbytes.length).toBe(size);
  });

  it('refuses sizes a host view cannot hold (ENOMEM, not a crash)', () => {
    const { as, be } = fresh();
    expect(errnoOf(() => as.mapAnon(A, MAX_CHUNK + PAGE, RW))).toBe(ENOMEM);
    expect(errnoOf(() => as.mapAnon(A, 0x10000000000, RW))).toBe(ENOMEM);
    expect(as.vmas).toHaveLength(0);
    consistent(as, be);
  });
});

describe('removeRange', () => {
  it('cuts the middle, the edges, or whole VMAs; leaves the rest intact', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 8 * PAGE, RW);
    as.write(A, fill(8 * PAGE, 0x55));
    as.removeRange(A + 3 * PAGE, A + 5 * PAGE);
    consistent(as, be);
    expect(shape(as)).toEqual([
      [A.toString(16), (A + 3 * PAGE).toString(16), RW],
      [(A + 5 * PAGE).toString(16), (A + 8 * PAGE).toString(16), RW],
    ]);
    expect(as.read(A + 5 * PAGE, 3 * PAGE).equals(fill(3 * PAGE, 0x55))).toBe(true);
    as.removeRange(A, A + PAGE); // start edge
    as.removeRange(A + 7 * PAGE, A + 8 * PAGE); // end edge
    consistent(as, be);
    expect(shape(as)).toEqual([
      [(A + PAGE).toString(16), (A + 3 * PAGE).toString(16), RW],
      [(A + 5 * PAGE).toString(16), (A + 7 * PAGE).toString(16), RW],
    ]);
    expect(as.read(A + PAGE, 2 * PAGE).equals(fill(2 * PAGE, 0x55))).toBe(true);
    as.removeRange(A - 16 * PAGE, A + 16 * PAGE); // both, and the gaps
    consistent(as, be);
    expect(as.vmas).toHaveLength(0);
    expect(be.regions.size).toBe(0);
  });

  it('a range with nothing in it touches nothing', () => {
    const { as, be } = fresh();
    as.mapAnon(A, PAGE, RW);
    as.mapAnon(A + 4 * PAGE, PAGE, RW);
    be.log = [];
    as.removeRange(A + PAGE, A + 4 * PAGE);
    expect(be.log).toEqual([]);
    consistent(as, be);
  });

  it('is what destroy() does to everything', () => {
    const { as, be } = fresh();
    as.mapAnon(A, PAGE, RW);
    as.setBrkStart(A + 0x100000);
    as.brk(A + 0x100000 + 3 * PAGE);
    as.destroy();
    expect(as.vmas).toHaveLength(0);
    expect(be.regions.size).toBe(0);
  });
});

describe('findFree', () => {
  it('top-down below mmapBase, skipping what is mapped', () => {
    const { as, be } = fresh();
    const top = LAYOUT.mmapBase;
    expect(as.findFree(PAGE)).toBe(top - PAGE);
    as.mapAnon(as.findFree(4 * PAGE), 4 * PAGE, RW);
    expect(as.vmas[0].start).toBe(top - 4 * PAGE);
    expect(as.findFree(PAGE)).toBe(top - 5 * PAGE);
    // a hole: the highest one that fits is used
    as.mapAnon(top - 10 * PAGE, 2 * PAGE, RW); // hole of 4 pages above it, at top-8p..top-4p
    expect(as.findFree(4 * PAGE)).toBe(top - 8 * PAGE);
    expect(as.findFree(2 * PAGE)).toBe(top - 6 * PAGE);
    expect(as.findFree(5 * PAGE)).toBe(top - 15 * PAGE);
    // mappings above mmapBase (the stack) do not matter
    as.mapAnon(LAYOUT.stackTop - 0x800000, 0x800000, RW);
    expect(as.findFree(PAGE)).toBe(top - 5 * PAGE);
    // a mapping straddling mmapBase pushes the search below it
    as.mapAnon(top - PAGE, 2 * PAGE, RW);
    expect(as.findFree(PAGE)).toBe(top - 5 * PAGE);
    consistent(as, be);
  });

  it('a free hint is used as is; a taken one is ignored', () => {
    const { as } = fresh();
    expect(as.findFree(2 * PAGE, A + 123)).toBe(A);
    as.mapAnon(A, PAGE, RW);
    expect(as.findFree(2 * PAGE, A)).toBe(LAYOUT.mmapBase - 2 * PAGE);
    expect(as.findFree(2 * PAGE, LAYOUT.taskSize - PAGE)).toBe(LAYOUT.mmapBase - 2 * PAGE);
  });

  it('ENOMEM when nothing fits above mmap_min_addr', () => {
    const { as } = fresh({ ...LAYOUT, mmapBase: 0x40000 });
    expect(as.findFree(0x30000)).toBe(0x10000);
    expect(errnoOf(() => as.findFree(0x31000))).toBe(ENOMEM);
    as.mapAnon(0x20000, PAGE, RW);
    expect(as.findFree(0x1f000)).toBe(0x21000);
    expect(as.findFree(0x10000)).toBe(0x30000);
    expect(as.findFree(0x10000 - PAGE)).toBe(0x31000);
    expect(errnoOf(() => as.findFree(0x20000))).toBe(ENOMEM);
  });
});
