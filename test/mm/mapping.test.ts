// Mappings through AddressSpace: mprotect, brk and mremap, as Linux changes
// the VMAs (splits, merges, growth in place, moves).
import { afterEach, describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ } from '../../src/abi/mman.js';
import { PAGE } from '../../src/mm/layout.js';
import { hostFree } from '../../src/host/libc.js';
import { A, EFAULT, EINVAL, ENOMEM, LAYOUT, RW, RX, consistent, destroySpaces, errnoOf, fill, fresh, hostMmap, shape } from './helpers.js';

afterEach(destroySpaces);

describe('protect', () => {
  it('splits a VMA, and merges it back when the protection is restored', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 8 * PAGE, RW);
    as.write(A, fill(8 * PAGE, 9));
    as.protect(A + 2 * PAGE, A + 4 * PAGE, PROT_READ);
    consistent(as, be);
    expect(as.vmas.map((v) => v.prot)).toEqual([RW, PROT_READ, RW]);
    expect(errnoOf(() => as.write(A + 2 * PAGE, Buffer.from('x')))).toBe(EFAULT);
    expect(as.read(A + 2 * PAGE, 4).equals(fill(4, 9))).toBe(true);
    as.protect(A + 2 * PAGE, A + 4 * PAGE, RW);
    consistent(as, be);
    expect(shape(as)).toEqual([[A.toString(16), (A + 8 * PAGE).toString(16), RW]]);
    expect(as.maps()).toHaveLength(1);
    expect(as.read(A, 8 * PAGE).equals(fill(8 * PAGE, 9))).toBe(true);
  });

  it('at the edges, across several VMAs, and to PROT_NONE', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 4 * PAGE, RW);
    as.mapAnon(A + 4 * PAGE, 4 * PAGE, RX);
    as.protect(A, A + PAGE, 0);
    consistent(as, be);
    as.protect(A + 3 * PAGE, A + 5 * PAGE, PROT_READ);
    consistent(as, be);
    expect(as.vmas.map((v) => [v.end - v.start, v.prot])).toEqual([
      [PAGE, 0],
      [2 * PAGE, RW],
      [PAGE, PROT_READ],
      [PAGE, PROT_READ],
      [3 * PAGE, RX],
    ]);
    expect(errnoOf(() => as.read(A, 1))).toBe(EFAULT);
    // the two PROT_READ pieces come from different chunks: no merge
    as.protect(A, A + 8 * PAGE, RW);
    consistent(as, be);
    expect(as.vmas).toHaveLength(2);
  });

  it('ENOMEM at a hole, after changing the pages before it (as Linux, VMA by VMA)', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 2 * PAGE, RW);
    as.mapAnon(A + 3 * PAGE, 2 * PAGE, RW);
    const before = shape(as);
    expect(errnoOf(() => as.protect(A - PAGE, A + PAGE, PROT_READ))).toBe(ENOMEM);
    expect(shape(as)).toEqual(before);
    expect(errnoOf(() => as.protect(A, A + 5 * PAGE, PROT_READ))).toBe(ENOMEM);
    expect(shape(as)).toEqual([
      [A.toString(16), (A + 2 * PAGE).toString(16), PROT_READ],
      [(A + 3 * PAGE).toString(16), (A + 5 * PAGE).toString(16), RW],
    ]);
    consistent(as, be);
  });

  it('an empty range changes nothing', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 4 * PAGE, RW);
    as.protect(A + PAGE, A + PAGE, PROT_READ);
    as.protect(A + 8 * PAGE, A + 8 * PAGE, PROT_READ);
    expect(shape(as)).toEqual([[A.toString(16), (A + 4 * PAGE).toString(16), RW]]);
    consistent(as, be);
  });
});

describe('brk', () => {
  const B = 0x5000000;

  it('grows into one [heap] VMA, shrinks, and regrows with zeroed pages', () => {
    const { as, be } = fresh();
    as.setBrkStart(B);
    expect(as.brk(0)).toBe(B);
    expect(as.vmas).toHaveLength(0);
    expect(as.brk(B + 100)).toBe(B + 100);
    expect(as.brk(B + 3 * PAGE)).toBe(B + 3 * PAGE);
    expect(as.brk(B + 5 * PAGE + 1)).toBe(B + 5 * PAGE + 1);
    consistent(as, be);
    expect(shape(as)).toEqual([[B.toString(16), (B + 6 * PAGE).toString(16), RW]]);
    expect(as.maps()[0]).toMatch(/ \[heap\]$/);
    as.write(B, fill(6 * PAGE, 0xee));
    expect(as.brk(B + PAGE + 10)).toBe(B + PAGE + 10);
    consistent(as, be);
    expect(shape(as)).toEqual([[B.toString(16), (B + 2 * PAGE).toString(16), RW]]);
    expect(errnoOf(() => as.read(B + 2 * PAGE, 1))).toBe(EFAULT);
    expect(as.brk(B + 6 * PAGE)).toBe(B + 6 * PAGE);
    consistent(as, be);
    expect(as.vmas).toHaveLength(1);
    expect(as.read(B, 2 * PAGE).equals(fill(2 * PAGE, 0xee))).toBe(true); // kept
    expect(as.read(B + 2 * PAGE, 4 * PAGE).equals(fill(4 * PAGE, 0))).toBe(true); // fresh
    expect(as.brk(B)).toBe(B);
    expect(as.vmas).toHaveLength(0);
    consistent(as, be);
  });

  it('below brk start, into a mapping, or past mmapBase: unchanged', () => {
    const { as, be } = fresh();
    as.setBrkStart(B);
    as.brk(B + PAGE);
    expect(as.brk(B - PAGE)).toBe(B + PAGE);
    as.mapAnon(B + 4 * PAGE, PAGE, RW);
    expect(as.brk(B + 8 * PAGE)).toBe(B + PAGE);
    expect(as.brk(LAYOUT.mmapBase + PAGE)).toBe(B + PAGE);
    expect(as.brk(B + 4 * PAGE)).toBe(B + 4 * PAGE); // up to the mapping is fine
    consistent(as, be);
  });

  it('shrinking does not leave a hole in the heap reservation that the host can reuse', () => {
    // After a shrink, regrowing maps pages with MAP_FIXED at the same host
    // address: if the shrink had unmapped them, host memory allocated in the
    // meantime (by V8, koffi, libc...) could have landed there and be clobbered.
    // The host's mmap takes a free hint as is: the hole must not be free.
    const { as, be } = fresh();
    as.setBrkStart(B);
    as.brk(B + 64 * PAGE);
    const heapHost = as.find(B)!.hostAddr(B);
    as.brk(B + PAGE);
    const hint = heapHost + 8 * PAGE;
    const got = Number(hostMmap(hint, PAGE, 3, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    try {
      expect(got, 'host mmap placed a mapping inside the heap reservation').not.toBe(hint);
    } finally {
      if (got !== -1) hostFree(got, PAGE);
    }
    as.brk(B + 64 * PAGE);
    consistent(as, be);
    expect(as.read(B + PAGE, 63 * PAGE).equals(Buffer.alloc(63 * PAGE))).toBe(true);
  });
});

describe('remap', () => {
  it('grows in place when the next pages are free, keeping the contents (twice)', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 2 * PAGE, RW);
    as.write(A, fill(2 * PAGE, 3));
    expect(as.remap(A, 2 * PAGE, 4 * PAGE, false, null)).toBe(A);
    consistent(as, be);
    expect(as.read(A, 2 * PAGE).equals(fill(2 * PAGE, 3))).toBe(true);
    expect(as.read(A + 2 * PAGE, 2 * PAGE).equals(fill(2 * PAGE, 0))).toBe(true);
    // Linux extends the VMA: one VMA, and the whole range can be remapped again
    expect(as.maps()).toHaveLength(1);
    expect(as.remap(A, 4 * PAGE, 8 * PAGE, false, null)).toBe(A);
    consistent(as, be);
    expect(as.read(A, 2 * PAGE).equals(fill(2 * PAGE, 3))).toBe(true);
    expect(shape(as)).toEqual([[A.toString(16), (A + 8 * PAGE).toString(16), RW]]);
  });

  it('grows a page at a time (glibc realloc) keeping every page; shrunk and grown again, the new pages read zero', () => {
    const { as, be } = fresh();
    as.mapAnon(A, PAGE, RW);
    as.write(A, fill(PAGE, 1));
    for (let n = 1; n < 24; n++) {
      expect(as.remap(A, n * PAGE, (n + 1) * PAGE, false, null)).toBe(A);
      expect(as.read(A + n * PAGE, PAGE).equals(fill(PAGE, 0))).toBe(true);
      as.write(A + n * PAGE, fill(PAGE, n + 1));
    }
    consistent(as, be);
    expect(as.maps()).toHaveLength(1);
    for (let n = 0; n < 24; n++) expect(as.read(A + n * PAGE, PAGE).equals(fill(PAGE, n + 1))).toBe(true);
    // shrink: the tail's pages go; growing back must not show their old bytes
    expect(as.remap(A, 24 * PAGE, 10 * PAGE, false, null)).toBe(A);
    expect(as.remap(A, 10 * PAGE, 12 * PAGE, false, null)).toBe(A);
    consistent(as, be);
    expect(as.read(A + 9 * PAGE, PAGE).equals(fill(PAGE, 10))).toBe(true);
    expect(as.read(A + 10 * PAGE, 2 * PAGE).equals(fill(2 * PAGE, 0))).toBe(true);
    // munmap of the tail, then growth over it again
    as.removeRange(A + 11 * PAGE, A + 12 * PAGE);
    expect(as.remap(A, 11 * PAGE, 13 * PAGE, false, null)).toBe(A);
    consistent(as, be);
    expect(as.read(A + 10 * PAGE, 3 * PAGE).equals(fill(3 * PAGE, 0))).toBe(true);
    expect(as.read(A, PAGE).equals(fill(PAGE, 1))).toBe(true);
  });

  it('moves when blocked and allowed to, else ENOMEM', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 2 * PAGE, PROT_READ);
    as.poke(A, fill(2 * PAGE, 4));
    as.mapAnon(A + 2 * PAGE, PAGE, RW); // blocks growth
    expect(errnoOf(() => as.remap(A, 2 * PAGE, 4 * PAGE, false, null))).toBe(ENOMEM);
    consistent(as, be);
    const to = as.remap(A, 2 * PAGE, 4 * PAGE, true, null);
    expect(to).toBe(LAYOUT.mmapBase - 4 * PAGE);
    consistent(as, be);
    expect(as.find(A)).toBeNull();
    expect(as.find(to)!.prot).toBe(PROT_READ);
    expect(as.read(to, 2 * PAGE).equals(fill(2 * PAGE, 4))).toBe(true);
    expect(as.read(to + 2 * PAGE, 2 * PAGE).equals(fill(2 * PAGE, 0))).toBe(true);
  });

  it('moves to a fixed address, replacing what is there; shrinks in place', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 4 * PAGE, RW);
    as.write(A, fill(4 * PAGE, 6));
    as.mapAnon(A + 0x100000, 8 * PAGE, RX);
    expect(as.remap(A, 4 * PAGE, 2 * PAGE, true, A + 0x100000 + PAGE)).toBe(A + 0x100000 + PAGE);
    consistent(as, be);
    expect(as.find(A)).toBeNull();
    expect(as.vmas.map((v) => [v.start - A, v.end - v.start, v.prot])).toEqual([
      [0x100000, PAGE, RX],
      [0x100000 + PAGE, 2 * PAGE, RW],
      [0x100000 + 3 * PAGE, 5 * PAGE, RX],
    ]);
    expect(as.read(A + 0x100000 + PAGE, 2 * PAGE).equals(fill(2 * PAGE, 6))).toBe(true);
    expect(as.remap(A + 0x100000 + PAGE, 2 * PAGE, PAGE, false, null)).toBe(A + 0x100000 + PAGE);
    consistent(as, be);
    expect(as.find(A + 0x100000 + 2 * PAGE)).toBeNull();
  });

  it('EFAULT for a range that is not one mapping; EINVAL or ENOMEM past the user address space', () => {
    const { as, be } = fresh();
    expect(errnoOf(() => as.remap(A, PAGE, 2 * PAGE, true, null))).toBe(EFAULT);
    as.mapAnon(A, PAGE, RW);
    expect(errnoOf(() => as.remap(A, 2 * PAGE, 4 * PAGE, true, null))).toBe(EFAULT);
    expect(errnoOf(() => as.remap(A, PAGE, 2 * PAGE, true, LAYOUT.taskSize - PAGE))).toBe(EINVAL);
    // a mapping that ends at the top cannot grow in place past it
    as.mapAnon(LAYOUT.taskSize - PAGE, PAGE, RW);
    expect(errnoOf(() => as.remap(LAYOUT.taskSize - PAGE, PAGE, 2 * PAGE, false, null))).toBe(ENOMEM);
    const moved = as.remap(LAYOUT.taskSize - PAGE, PAGE, 2 * PAGE, true, null);
    expect(moved + 2 * PAGE).toBeLessThanOrEqual(LAYOUT.mmapBase);
    for (const v of as.vmas) expect(v.end).toBeLessThanOrEqual(LAYOUT.taskSize);
    consistent(as, be);
  });
});
