// AddressSpace without Unicorn: a fake MemBackend records what would be mapped
// in the engine, and after every operation the engine's view must be exactly
// the VMA list (no overlaps, each VMA mapped once, same protection and host
// memory). Guest memory is real host memory (src/host/libc.ts mmaps).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../src/abi/mman.js';
import { AddressSpace } from '../../src/mm/address-space.js';
import type { MemBackend } from '../../src/mm/backend.js';
import { Chunk, MAX_CHUNK } from '../../src/mm/chunk.js';
import { HostMemory } from '../../src/mm/host-memory.js';
import { PAGE, type Layout } from '../../src/mm/layout.js';
import { Vma, anon } from '../../src/mm/vma.js';
import { SysError } from '../../src/abi/errors.js';
import koffi from 'koffi';
import { hostFileInfo, hostFree } from '../../src/host/libc.js';

const hostMmap = koffi.load('libc.so.6').func('intptr_t mmap(intptr_t addr, size_t len, int prot, int flags, int fd, int64_t off)');

const RW = PROT_READ | PROT_WRITE;
const RX = PROT_READ | PROT_EXEC;

/** x86_64's layout (src/cpu/x86_64.ts). */
const LAYOUT: Layout = { taskSize: 0x7ffffffff000, stackTop: 0x7ffffffff000, mmapBase: 0x7ffff7fff000, etDynBase: 0x555555554000 };

interface Region {
  start: number;
  size: number;
  prot: number;
  host: number;
}

class FakeBackend implements MemBackend {
  regions = new Map<number, Region>();
  log: string[] = [];
  map(start: number, size: number, prot: number, host: number): void {
    this.log.push(`map ${start.toString(16)} ${size.toString(16)} ${prot}`);
    expect(start % PAGE, 'map start aligned').toBe(0);
    expect(size % PAGE, 'map size aligned').toBe(0);
    expect(size).toBeGreaterThan(0);
    for (const r of this.regions.values())
      if (start < r.start + r.size && r.start < start + size)
        throw new Error(`engine: map 0x${start.toString(16)}+0x${size.toString(16)} overlaps 0x${r.start.toString(16)}+0x${r.size.toString(16)}`);
    this.regions.set(start, { start, size, prot, host });
  }
  unmap(start: number, size: number): void {
    this.log.push(`unmap ${start.toString(16)} ${size.toString(16)}`);
    const r = this.regions.get(start);
    if (!r || r.size !== size) throw new Error(`engine: unmap 0x${start.toString(16)}+0x${size.toString(16)} is not a mapped region`);
    this.regions.delete(start);
  }
  releaseHostRange(hostAddr: number, size: number): void {
    this.log.push(`release host ${hostAddr.toString(16)} ${size.toString(16)}`);
    // as the engine does: nothing it maps may point into memory about to be freed
    for (const [start, r] of [...this.regions]) if (r.host < hostAddr + size && r.host + r.size > hostAddr) this.regions.delete(start);
  }
  protect(start: number, size: number, prot: number): void {
    this.log.push(`protect ${start.toString(16)} ${size.toString(16)} ${prot}`);
    const r = this.regions.get(start);
    if (!r || r.size !== size) throw new Error(`engine: protect 0x${start.toString(16)}+0x${size.toString(16)} is not a mapped region`);
    r.prot = prot;
  }
}

/** The host memory of one Machine: every space of these tests draws from it (and reuses its pool). */
const memory = new HostMemory();
const spaces: AddressSpace[] = [];
afterEach(() => {
  while (spaces.length) spaces.pop()!.destroy();
});

function fresh(layout: Layout = LAYOUT): { as: AddressSpace; be: FakeBackend } {
  const be = new FakeBackend();
  const as = new AddressSpace(be, layout, memory);
  spaces.push(as);
  return { as, be };
}

/** The engine's view equals the VMA list; VMAs are sorted, disjoint, page-aligned, inside their chunk. */
function consistent(as: AddressSpace, be: FakeBackend): void {
  let prev = -1;
  for (const v of as.vmas) {
    expect(v.start % PAGE).toBe(0);
    expect(v.end % PAGE).toBe(0);
    expect(v.end).toBeGreaterThan(v.start);
    expect(v.start).toBeGreaterThanOrEqual(prev);
    expect(v.off).toBeGreaterThanOrEqual(0);
    expect(v.off + v.size).toBeLessThanOrEqual(v.chunk.size);
    prev = v.end;
  }
  const engine = [...be.regions.values()].sort((a, b) => a.start - b.start);
  // a shared file mapping's pages past EOF are left out of the engine
  const mapped = as.vmas
    .map((v) => ({ start: v.start, size: Math.min(v.size, Math.max(0, v.chunk.valid - v.off)), prot: v.prot, host: v.hostAddr(v.start) }))
    .filter((r) => r.size > 0);
  expect(engine).toEqual(mapped);
  expect(as.regions()).toEqual(mapped.map((r) => ({ start: r.start, end: r.start + r.size, prot: r.prot, host: r.host })));
}

/** [start, end, prot] of each VMA, in hex for readable failures. */
const shape = (as: AddressSpace): Array<[string, string, number]> =>
  as.vmas.map((v) => [v.start.toString(16), v.end.toString(16), v.prot]);

function errnoOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof SysError) return e.errno;
    throw e;
  }
  throw new Error('no error');
}
const EFAULT = 14;
const ENOMEM = 12;
const EACCES = 13;
const EINVAL = 22;
const ENAMETOOLONG = 36;

const fill = (n: number, byte: number): Buffer => Buffer.alloc(n, byte);
const A = 0x10000000; // a base address for the tests

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
    const got = Number(hostMmap(hint, PAGE, 3, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0));
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

describe('guest memory access', () => {
  it('read, write, cstring and scalars across two adjacent VMAs', () => {
    const { as, be } = fresh();
    as.mapAnon(A, PAGE, RW);
    as.mapAnon(A + PAGE, PAGE, RW);
    expect(as.vmas).toHaveLength(2);
    const at = A + PAGE - 3;
    as.write(at, Buffer.from('abcdef\0'));
    expect(as.read(at, 6).toString()).toBe('abcdef');
    expect(as.cstring(at).toString()).toBe('abcdef');
    expect(as.cstring(at + 3).toString()).toBe('def');
    as.setU64(A + PAGE - 4, 0x1122334455667788n);
    expect(as.big64(A + PAGE - 4)).toBe(0x1122334455667788n);
    as.setU32(A + PAGE - 2, 0xdeadbeef);
    expect(as.u32(A + PAGE - 2)).toBe(0xdeadbeef);
    expect(as.i32(A + PAGE - 2)).toBe(0xdeadbeef | 0);
    as.setU64(A + PAGE - 4, 2 ** 52 + 5);
    expect(as.u64(A + PAGE - 4)).toBe(2 ** 52 + 5);
    as.setU64(A + PAGE - 4, -2n);
    expect(as.i64(A + PAGE - 4)).toBe(-2);
    let pieces = 0;
    as.pieces(A + 10, 2 * PAGE - 20, PROT_READ, () => void pieces++);
    expect(pieces).toBe(2);
    consistent(as, be);
  });

  it('EFAULT for unmapped, partly mapped, or wrongly protected ranges, before any byte is written', () => {
    const { as } = fresh();
    as.mapAnon(A, PAGE, RW);
    as.mapAnon(A + PAGE, PAGE, PROT_READ);
    as.mapAnon(A + 2 * PAGE, PAGE, PROT_WRITE);
    as.mapAnon(A + 3 * PAGE, PAGE, 0);
    expect(errnoOf(() => as.read(A - 1, 2))).toBe(EFAULT);
    expect(errnoOf(() => as.read(A + 4 * PAGE, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.read(A + 2 * PAGE, 1))).toBe(EFAULT); // write-only
    expect(errnoOf(() => as.read(A + 3 * PAGE, 1))).toBe(EFAULT); // PROT_NONE
    expect(errnoOf(() => as.u32(A + 3 * PAGE - 2))).toBe(EFAULT); // straddles into PROT_NONE
    expect(errnoOf(() => as.write(A + PAGE, Buffer.from('x')))).toBe(EFAULT); // read-only
    expect(errnoOf(() => as.write(A + PAGE - 2, Buffer.from('xyz')))).toBe(EFAULT);
    expect(as.read(A + PAGE - 2, 2).equals(Buffer.alloc(2))).toBe(true); // nothing written
    expect(errnoOf(() => as.setU32(A + 3 * PAGE, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.cstring(A + 3 * PAGE))).toBe(EFAULT);
    expect(errnoOf(() => as.cstring(A - 1))).toBe(EFAULT);
    expect(as.hostRange(A, PAGE, PROT_READ)).toBe(as.find(A)!.hostAddr(A));
    expect(as.hostRange(A, PAGE + 1, PROT_READ)).toBe(-1);
    expect(as.hostRange(A + PAGE, 1, PROT_WRITE)).toBe(-1);
    expect(() => as.check(A + 5 * PAGE, 0, PROT_READ)).not.toThrow(); // nothing to access
  });

  it('EFAULT for addresses beyond the user address space (and impossible numbers)', () => {
    const { as } = fresh();
    as.mapAnon(LAYOUT.taskSize - PAGE, PAGE, RW);
    expect(as.read(LAYOUT.taskSize - 4, 4).length).toBe(4);
    expect(errnoOf(() => as.read(LAYOUT.taskSize - 4, 5))).toBe(EFAULT);
    expect(errnoOf(() => as.read(LAYOUT.taskSize, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.read(2 ** 53, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.read(Infinity, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.read(NaN, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.read(-PAGE, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.write(LAYOUT.taskSize + PAGE, Buffer.from('x')))).toBe(EFAULT);
    expect(errnoOf(() => as.cstring(Infinity))).toBe(EFAULT);
    expect(errnoOf(() => as.cstring(NaN))).toBe(EFAULT);
    expect(errnoOf(() => as.u64(LAYOUT.taskSize))).toBe(EFAULT);
  });

  it('NaN is no address (the binary search must not land on a VMA)', () => {
    const { as } = fresh();
    as.mapAnon(A, PAGE, RW);
    as.mapAnon(A + PAGE, PAGE, RW);
    as.write(A + PAGE, Buffer.from('hi\0'));
    expect(as.find(NaN)).toBeNull();
    expect(as.hostRange(NaN, 1, PROT_READ)).toBe(-1);
    expect(errnoOf(() => as.cstring(NaN))).toBe(EFAULT);
  });

  it('ENAMETOOLONG for an unterminated string, EFAULT if it runs into unmapped memory first', () => {
    const { as } = fresh();
    as.mapAnon(A, 2 * PAGE, RW);
    as.mapAnon(A + 2 * PAGE, 2 * PAGE, RW);
    as.write(A, fill(4 * PAGE, 0x61));
    expect(errnoOf(() => as.cstring(A))).toBe(ENAMETOOLONG);
    expect(errnoOf(() => as.cstring(A + 3 * PAGE))).toBe(ENAMETOOLONG); // 4096 readable bytes, no NUL
    expect(errnoOf(() => as.cstring(A + 3 * PAGE + 1))).toBe(EFAULT); // 4095 bytes, then unmapped
    expect(errnoOf(() => as.cstring(A, 16))).toBe(ENAMETOOLONG);
    as.u8(A); // still fine
    as.write(A + 4095, Buffer.from([0]));
    expect(as.cstring(A).length).toBe(4095); // PATH_MAX counts the NUL
    as.write(A + 4095, Buffer.from([0x61]));
    as.write(A + 4096, Buffer.from([0]));
    expect(errnoOf(() => as.cstring(A))).toBe(ENAMETOOLONG);
    expect(as.cstring(A + 1).length).toBe(4095);
  });

  it('poke writes through any protection; into unmapped memory it throws', () => {
    const { as } = fresh();
    as.mapAnon(A, PAGE, PROT_READ);
    as.mapAnon(A + PAGE, PAGE, 0);
    as.poke(A + PAGE - 2, Buffer.from('wxyz'));
    expect(as.read(A + PAGE - 2, 2).toString()).toBe('wx');
    expect(() => as.poke(A + 2 * PAGE - 1, Buffer.from('ab'))).toThrow(/unmapped/);
  });
});

describe('maps()', () => {
  /** glibc's makedev(): how st_dev encodes (major, minor). */
  const makedev = (major: number, minor: number): number =>
    ((major & 0xfff) << 8) + (minor & 0xff) + (minor & ~0xff) * 0x1000 + Math.floor(major / 0x1000) * 2 ** 44;

  interface HostLine {
    line: string;
    start: number;
    end: number;
    prot: number;
    shared: boolean;
    offset: number;
    dev: number;
    ino: number;
    name: string;
  }

  function hostLines(): HostLine[] {
    const re = /^([0-9a-f]+)-([0-9a-f]+) ([r-])([w-])([x-])([ps]) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) (\d+) *(.*)$/;
    return readFileSync('/proc/self/maps', 'latin1')
      .split('\n')
      .filter((l) => l !== '')
      .map((line) => {
        const m = re.exec(line)!;
        expect(m, line).not.toBeNull();
        return {
          line,
          start: parseInt(m[1], 16),
          end: parseInt(m[2], 16),
          prot: (m[3] === 'r' ? PROT_READ : 0) | (m[4] === 'w' ? PROT_WRITE : 0) | (m[5] === 'x' ? PROT_EXEC : 0),
          shared: m[6] === 's',
          offset: parseInt(m[7], 16),
          dev: makedev(parseInt(m[8], 16), parseInt(m[9], 16)),
          ino: Number(m[10]),
          name: m[11],
        };
      });
  }

  it('formats lines exactly as the host kernel does (named, anonymous, [heap]/[stack])', () => {
    const lines = hostLines().filter((h) => h.end <= LAYOUT.taskSize && h.end - h.start <= 1 << 28);
    const picks = [
      lines.find((h) => h.name.startsWith('/') && h.offset === 0),
      lines.find((h) => h.name.startsWith('/') && h.offset !== 0),
      lines.find((h) => h.name === ''),
      lines.find((h) => h.name === '[heap]' || h.name === '[stack]'),
    ].filter((h): h is HostLine => h !== undefined);
    expect(picks.length).toBeGreaterThanOrEqual(3);
    for (const h of picks) {
      const { as } = fresh();
      as.mapAnon(h.start, h.end - h.start, h.prot, { name: h.name, shared: h.shared, offset: h.offset, dev: h.dev, ino: h.ino });
      expect(as.maps()).toEqual([h.line]);
    }
  });

  it('pieces of anonymous memory show offset 0; pieces of a file show their file offset', () => {
    const { as } = fresh();
    as.mapAnon(A, 4 * PAGE, RW);
    as.mapAnon(A + 8 * PAGE, 4 * PAGE, RW, { name: '/f', shared: false, offset: 0x10000, dev: 0xfe00, ino: 5 });
    as.protect(A + PAGE, A + 2 * PAGE, PROT_READ);
    as.protect(A + 9 * PAGE, A + 10 * PAGE, PROT_READ);
    expect(as.maps().map((l) => l.split(' ')[2])).toEqual(['00000000', '00000000', '00000000', '00010000', '00011000', '00012000']);
  });

  it('pieces of one chunk merge only if their file offsets are contiguous (the loader case)', () => {
    const { as, be } = fresh();
    const c = Chunk.alloc(memory, 3 * PAGE);
    const file = (offset: number) => ({ name: '/bin/x', shared: false, offset, dev: 0xfe00, ino: 9 });
    as.insert(new Vma(A, A + PAGE, PROT_READ, c, 0, file(0x5000)));
    as.insert(new Vma(A + PAGE, A + 2 * PAGE, RW, c, PAGE, file(0x5000))); // another segment, same file page
    as.insert(new Vma(A + 2 * PAGE, A + 3 * PAGE, PROT_READ, c, 2 * PAGE, file(0x6000)));
    as.protect(A + PAGE, A + 2 * PAGE, PROT_READ); // like mprotect(PT_GNU_RELRO)
    consistent(as, be);
    expect(as.vmas).toHaveLength(2);
    expect(as.maps().map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual([
      `${A.toString(16).padStart(8, '0')}-${(A + PAGE).toString(16).padStart(8, '0')} r--p 00005000`,
      `${(A + PAGE).toString(16).padStart(8, '0')}-${(A + 3 * PAGE).toString(16).padStart(8, '0')} r--p 00005000`,
    ]);
  });

  it('short addresses, flags, shared mappings and large device numbers', () => {
    const { as } = fresh();
    as.mapAnon(0x400000, PAGE, RX, { name: '/bin/busybox', shared: false, offset: 0x1000, dev: makedev(0xfe, 1), ino: 1234 });
    as.mapAnon(0x401000, PAGE, RW, { name: '/dev/shm/x', shared: true, offset: 0, dev: makedev(0, 300), ino: 7 });
    as.mapAnon(0x402000, PAGE, 0, { name: '/x', shared: false, offset: 0x123456789, dev: makedev(259, 3), ino: 2 ** 40 });
    as.mapAnon(0x403000, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
    const m = as.maps();
    expect(m[0]).toBe('00400000-00401000 r-xp 00001000 fe:01 1234' + ' '.repeat(73 - 42) + '/bin/busybox');
    expect(m[1]).toMatch(/^00401000-00402000 rw-s 00000000 00:12c 7 +\/dev\/shm\/x$/);
    expect(m[1].indexOf('/dev')).toBe(73);
    expect(m[2]).toMatch(/^00402000-00403000 ---p 123456789 103:03 1099511627776 +\/x$/);
    expect(m[3]).toBe('00403000-00404000 rwxp 00000000 00:00 0 ');
  });
});

describe('MAP_SHARED chunks (host MAP_SHARED mappings of a file)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfrun-shared-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fds: number[] = [];
  afterEach(() => {
    while (spaces.length) spaces.pop()!.destroy();
    while (fds.length) closeSync(fds.pop()!);
  });

  /** A host file of `size` bytes, open read-write (or read-only). */
  function file(size: number, mode: 'w+' | 'r' = 'w+', name = 'f'): number {
    const path = join(dir, name);
    if (mode === 'w+') {
      const fd = openSync(path, 'w+');
      ftruncateSync(fd, size);
      fds.push(fd);
      return fd;
    }
    const fd = openSync(path, 'r');
    fds.push(fd);
    return fd;
  }
  const info = (offset = 0) => ({ name: '/f', shared: true, offset, dev: 0, ino: 0 });
  function shared(fd: number, start: number, size: number, prot: number, offset = 0, writable = true): Vma {
    return new Vma(start, start + size, prot, Chunk.mapShared(memory, fd, offset, size, writable), 0, info(offset));
  }
  const text = (as: AddressSpace, addr: number, n: number): string => as.read(addr, n).toString('latin1');
  function pread(fd: number, n: number, off: number): string {
    const b = Buffer.alloc(n);
    return b.subarray(0, readSync(fd, b, 0, n, off)).toString('latin1');
  }

  it('guest writes reach the file; write(2) to the file shows through the mapping', () => {
    const { as, be } = fresh();
    const fd = file(2 * PAGE);
    as.insert(shared(fd, A, 2 * PAGE, RW));
    as.write(A + 10, Buffer.from('hello'));
    expect(pread(fd, 5, 10)).toBe('hello');
    writeSync(fd, 'world', PAGE + 1);
    expect(text(as, A + PAGE + 1, 5)).toBe('world');
    consistent(as, be);
  });

  it('fork shares it (not copy-on-write); mprotect and MADV_DONTNEED keep it shared', () => {
    const p = fresh();
    const c = fresh();
    const fd = file(2 * PAGE);
    const v = p.as.insert(shared(fd, A, 2 * PAGE, RW));
    p.as.forkInto(c.as);
    expect(c.as.find(A)!.chunk).toBe(v.chunk);
    expect([...v.chunk.users!]).toEqual([p.as, c.as]);
    c.as.write(A, Buffer.from('child'));
    expect(text(p.as, A, 5)).toBe('child');
    p.as.protect(A, A + PAGE, PROT_READ);
    p.as.protect(A, A + PAGE, RW);
    expect(p.as.find(A)!.chunk).toBe(v.chunk);
    p.as.write(A + 5, Buffer.from('+parent'));
    expect(text(c.as, A, 12)).toBe('child+parent');
    c.as.zeroPages(A, A + 2 * PAGE);
    expect(text(c.as, A, 12)).toBe('child+parent');
    expect(pread(fd, 12, 0)).toBe('child+parent');
    consistent(p.as, p.be);
    consistent(c.as, c.be);
  });

  it('is freed (host mapping and fd) only when no address space maps any of it', () => {
    const p = fresh();
    const c = fresh();
    const fd = file(2 * PAGE);
    const chunk = p.as.insert(shared(fd, A, 2 * PAGE, RW)).chunk;
    p.as.forkInto(c.as);
    p.as.removeRange(A, A + PAGE);
    expect(chunk.users!.has(p.as)).toBe(true);
    p.as.removeRange(A + PAGE, A + 2 * PAGE);
    expect(chunk.users!.has(p.as)).toBe(false);
    expect(chunk.backing).not.toBeNull();
    c.as.write(A, Buffer.from('still there'));
    expect(pread(fd, 11, 0)).toBe('still there');
    c.be.log = [];
    c.as.removeRange(A, A + 2 * PAGE);
    expect(chunk.backing).toBeNull();
    expect(c.be.log).toContain(`release host ${chunk.addr.toString(16)} ${chunk.size.toString(16)}`);
    consistent(p.as, p.be);
    consistent(c.as, c.be);
  });

  it('pages past EOF: not in the engine, EFAULT to the kernel, SIGBUS to the guest; they follow the file size', () => {
    const { as, be } = fresh();
    const fd = file(100);
    as.insert(shared(fd, A, 3 * PAGE, RW));
    expect([...be.regions.values()].map((r) => r.size)).toEqual([PAGE]);
    consistent(as, be);
    expect(as.fileFault(A + 5)).toBeNull();
    expect(as.fileFault(A + PAGE)).toBe('sigbus');
    expect(errnoOf(() => as.read(A + PAGE - 2, 4))).toBe(EFAULT);
    expect(errnoOf(() => as.u32(A + PAGE))).toBe(EFAULT);
    expect(as.hostRange(A + PAGE, 1, PROT_READ)).toBe(-1);
    as.write(A + PAGE - 3, Buffer.from('abc'));
    expect(errnoOf(() => as.cstring(A + PAGE - 3))).toBe(EFAULT); // no NUL before EOF's page ends
    // the file grows: the next fault maps the page ('retry'); a syscall's access just works
    ftruncateSync(fd, PAGE + 1);
    expect(as.fileFault(A + PAGE)).toBe('retry');
    expect([...be.regions.values()].map((r) => r.size)).toEqual([2 * PAGE]);
    ftruncateSync(fd, 3 * PAGE);
    as.poke(A + PAGE - 3, Buffer.from('abcdef\0'));
    expect(as.cstring(A + PAGE - 3).toString()).toBe('abcdef');
    expect([...be.regions.values()].map((r) => r.size)).toEqual([2 * PAGE]); // grown lazily, on a fault
    expect(as.fileFault(A + 2 * PAGE)).toBe('retry');
    expect([...be.regions.values()].map((r) => r.size)).toEqual([3 * PAGE]);
    // it shrinks: refreshSharedFiles (after a truncating syscall) unmaps the pages at once
    ftruncateSync(fd, 10);
    memory.refreshSharedFiles();
    expect([...be.regions.values()].map((r) => r.size)).toEqual([PAGE]);
    expect(as.fileFault(A + 2 * PAGE)).toBe('sigbus');
    consistent(as, be);
    // an offset past EOF: nothing is mapped at all
    as.insert(shared(fd, A + 8 * PAGE, PAGE, PROT_READ, 4 * PAGE));
    expect(be.regions.has(A + 8 * PAGE)).toBe(false);
    expect(as.fileFault(A + 8 * PAGE)).toBe('sigbus');
    consistent(as, be);
  });

  it('splitting, merging and forking a mapping that ends past EOF keep the engine right', () => {
    const p = fresh();
    const c = fresh();
    const fd = file(PAGE + 1);
    p.as.insert(shared(fd, A, 4 * PAGE, RW));
    p.as.protect(A + PAGE, A + 3 * PAGE, PROT_READ);
    consistent(p.as, p.be);
    p.as.protect(A + PAGE, A + 3 * PAGE, RW);
    expect(p.as.vmas).toHaveLength(1);
    consistent(p.as, p.be);
    p.as.forkInto(c.as);
    consistent(c.as, c.be);
    ftruncateSync(fd, 4 * PAGE);
    memory.refreshSharedFiles();
    consistent(p.as, p.be);
    consistent(c.as, c.be);
    p.as.removeRange(A + PAGE, A + 2 * PAGE);
    consistent(p.as, p.be);
  });

  it('a read-only host mapping never becomes writable: EACCES, after the pages before it changed', () => {
    const { as, be } = fresh();
    file(PAGE);
    const ro = file(PAGE, 'r');
    as.mapAnon(A, PAGE, PROT_READ);
    as.insert(shared(ro, A + PAGE, PAGE, PROT_READ, 0, false));
    as.mapAnon(A + 2 * PAGE, PAGE, PROT_READ);
    expect(errnoOf(() => as.protect(A, A + 3 * PAGE, RW))).toBe(EACCES);
    expect(shape(as).map((v) => v[2])).toEqual([RW, PROT_READ, PROT_READ]);
    as.protect(A + PAGE, A + 2 * PAGE, PROT_READ | PROT_EXEC);
    expect(as.find(A + PAGE)!.chunk.readOnly).toBe(true);
    consistent(as, be);
  });

  it('mremap grows and moves it over the same file pages; old_size 0 maps them twice', () => {
    const { as, be } = fresh();
    const fd = file(4 * PAGE);
    as.insert(shared(fd, A, PAGE, RW));
    as.write(A, Buffer.from('one'));
    writeSync(fd, 'two', PAGE);
    expect(as.remap(A, PAGE, 2 * PAGE, true, null)).toBe(A);
    expect(text(as, A, 3) + text(as, A + PAGE, 3)).toBe('onetwo');
    as.write(A + PAGE + 3, Buffer.from('!'));
    expect(pread(fd, 4, PAGE)).toBe('two!');
    const dup = as.remap(A + PAGE, 0, PAGE, true, null);
    expect(dup).not.toBe(A + PAGE);
    expect(as.find(A + PAGE)).not.toBeNull();
    as.write(dup, Buffer.from('TWO'));
    expect(text(as, A + PAGE, 4)).toBe('TWO!');
    expect(as.find(dup)!.info.offset).toBe(PAGE);
    expect(errnoOf(() => as.remap(A, 0, PAGE, false, null))).toBe(ENOMEM);
    as.mapAnon(A + 16 * PAGE, PAGE, RW);
    expect(errnoOf(() => as.remap(A + 16 * PAGE, 0, PAGE, true, null))).toBe(EINVAL);
    const to = A + 32 * PAGE;
    expect(as.remap(A, 2 * PAGE, 3 * PAGE, true, to)).toBe(to);
    expect(as.find(A)).toBeNull();
    expect(text(as, to, 3) + text(as, to + PAGE, 4)).toBe('oneTWO!');
    consistent(as, be);
  });

  it('msync: EINVAL/ENOMEM as mm/msync.c; MS_SYNC over shared file pages succeeds', () => {
    const { as } = fresh();
    const fd = file(2 * PAGE);
    as.insert(shared(fd, A, 2 * PAGE, RW));
    as.mapAnon(A + 3 * PAGE, PAGE, RW);
    expect(as.msync(A, A + 2 * PAGE, 4)).toBe(0);
    expect(as.msync(A, A + 2 * PAGE, 2)).toBe(0);
    expect(errnoOf(() => as.msync(A, A + 4 * PAGE, 1))).toBe(ENOMEM); // hole, plain MS_ASYNC
    expect(errnoOf(() => as.msync(A, A + 4 * PAGE, 4))).toBe(ENOMEM); // hole, after the rest
    expect(errnoOf(() => as.msync(A + 2 * PAGE, A + 3 * PAGE, 4))).toBe(ENOMEM);
    expect(errnoOf(() => as.msync(A + 5 * PAGE, A + 6 * PAGE, 4))).toBe(ENOMEM);
  });

  it('maps() shows it as the host kernel shows the same host mapping', () => {
    const { as } = fresh();
    const fd = file(2 * PAGE, 'w+', 'shown');
    const chunk = Chunk.mapShared(memory, fd, 0, 2 * PAGE, true);
    const id = hostFileInfo(fd);
    if (typeof id === 'number') throw new Error(`statx: ${id}`);
    // guest address = host address, so the two lines must be identical
    as.insert(new Vma(chunk.addr, chunk.addr + chunk.size, RW, chunk, 0, { name: join(dir, 'shown'), shared: true, offset: 0, dev: id.dev, ino: id.ino }));
    const start = chunk.addr.toString(16).padStart(8, '0');
    const host = readFileSync('/proc/self/maps', 'latin1')
      .split('\n')
      .find((l) => l.startsWith(`${start}-`));
    expect(as.maps()).toEqual([host]);
  });

  it('a chunk shared by fork and copied by mprotect in one space no longer counts that space', () => {
    const p = fresh();
    const c = fresh();
    const v = p.as.mapAnon(A, PAGE, PROT_READ);
    p.as.forkInto(c.as);
    expect(v.chunk.users!.size).toBe(2);
    p.as.protect(A, A + PAGE, RW);
    expect(p.as.find(A)!.chunk).not.toBe(v.chunk);
    expect([...v.chunk.users!]).toEqual([c.as]);
    consistent(p.as, p.be);
  });
});

describe('host memory of dead address spaces', () => {
  /** Is host address a inside one of this process's mappings? */
  const hostMapped = (a: number): boolean =>
    readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .filter(Boolean)
      .some((l) => {
        const [lo, hi] = l.split(' ')[0].split('-').map((h) => parseInt(h, 16));
        return a >= lo && a < hi;
      });
  const H = 0x20000000;

  it('a chunk or heap reused from a dead space reads as zero', () => {
    const first = fresh();
    const v = first.as.mapAnon(A, 16 * PAGE, RW);
    const host = v.hostAddr(A);
    first.as.write(A, fill(16 * PAGE, 0xa5));
    first.as.setBrkStart(H);
    first.as.brk(H + 8 * PAGE);
    const heapHost = first.as.find(H)!.hostAddr(H);
    first.as.write(H, fill(8 * PAGE, 0x5a));
    first.as.destroy();

    const { as, be } = fresh();
    const w = as.mapAnon(A + 64 * PAGE, 16 * PAGE, RW);
    // the pool handed the same host memory back (the case under test)
    expect(w.hostAddr(A + 64 * PAGE)).toBe(host);
    expect(as.read(A + 64 * PAGE, 16 * PAGE).equals(Buffer.alloc(16 * PAGE))).toBe(true);
    as.setBrkStart(H);
    as.brk(H + 4 * PAGE);
    expect(as.find(H)!.hostAddr(H)).toBe(heapHost);
    expect(as.read(H, 4 * PAGE).equals(Buffer.alloc(4 * PAGE))).toBe(true);
    // growing past what the dead heap had committed
    as.brk(H + 32 * PAGE);
    expect(as.read(H, 32 * PAGE).equals(Buffer.alloc(32 * PAGE))).toBe(true);
    as.write(H + 31 * PAGE, fill(PAGE, 1));
    consistent(as, be);
  });

  it('fork into reused memory: pages the parent never touched read as zero in the child', () => {
    const dead = fresh();
    dead.as.mapAnon(A, 16 * PAGE, RW);
    dead.as.write(A, fill(16 * PAGE, 0xee));
    dead.as.setBrkStart(H);
    dead.as.brk(H + 16 * PAGE);
    dead.as.write(H, fill(16 * PAGE, 0xee));
    dead.as.destroy();

    const p = fresh();
    p.as.mapAnon(A, 16 * PAGE, RW);
    p.as.write(A + 3 * PAGE, fill(PAGE, 7));
    p.as.setBrkStart(H);
    p.as.brk(H + 16 * PAGE);
    p.as.write(H + 5 * PAGE, fill(PAGE, 9));
    const c = fresh();
    p.as.forkInto(c.as);
    const want = Buffer.alloc(16 * PAGE);
    want.fill(7, 3 * PAGE, 4 * PAGE);
    expect(c.as.read(A, 16 * PAGE).equals(want)).toBe(true);
    const wantHeap = Buffer.alloc(16 * PAGE);
    wantHeap.fill(9, 5 * PAGE, 6 * PAGE);
    expect(c.as.read(H, 16 * PAGE).equals(wantHeap)).toBe(true);
    consistent(c.as, c.be);
  });

  it("a chunk larger than its VMAs (a stack's room to grow) goes back to the host with its last VMA", () => {
    const { as, be } = fresh();
    const chunk = Chunk.alloc(memory, 64 * PAGE);
    as.insert(new Vma(A + 60 * PAGE, A + 64 * PAGE, RW, chunk, 60 * PAGE, anon('[stack]')));
    as.write(A + 60 * PAGE, fill(4 * PAGE, 3));
    expect(hostMapped(chunk.addr)).toBe(true);
    as.removeRange(A + 62 * PAGE, A + 64 * PAGE);
    expect(hostMapped(chunk.addr), 'a VMA still uses the chunk').toBe(true);
    as.removeRange(A, A + 64 * PAGE);
    expect(hostMapped(chunk.addr), 'the rest of the reservation is still mapped on the host').toBe(false);
    consistent(as, be);
  });
});

describe('destroy', () => {
  it('releases only the host memory its chunks still hold (a piece given back may hold another chunk by now)', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 8 * PAGE, RW);
    const base = as.find(A)!.hostAddr(A);
    as.removeRange(A + 2 * PAGE, A + 6 * PAGE); // the middle goes back to the host
    consistent(as, be);
    be.log = [];
    as.destroy();
    const released = be.log.filter((l) => l.startsWith('release host')).map((l) => l.split(' ').slice(2).map((x) => parseInt(x, 16)));
    expect(released.length).toBeGreaterThan(0);
    for (const [h, n] of released) expect(h + n <= base + 2 * PAGE || h >= base + 6 * PAGE, `released ${h.toString(16)}+${n.toString(16)}`).toBe(true);
  });
});
