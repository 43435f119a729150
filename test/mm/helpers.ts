// What the mm tests share: a fake MemBackend that records what would be
// mapped in the engine, and a check that after every operation the engine's
// view is exactly the VMA list (no overlaps, each VMA mapped once, same
// protection and host memory). Guest memory is real host memory
// (src/host/libc.ts mmaps), drawn from one HostMemory, as one Machine's.
import { expect } from 'vitest';
import koffi from 'koffi';
import { SysError } from '../../src/abi/errors.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../src/abi/mman.js';
import { AddressSpace } from '../../src/mm/address-space.js';
import type { MemBackend } from '../../src/mm/backend.js';
import { HostMemory } from '../../src/mm/host-memory.js';
import { PAGE, type Layout } from '../../src/mm/layout.js';

export const hostMmap = koffi.load('libc.so.6').func('intptr_t mmap(intptr_t addr, size_t len, int prot, int flags, int fd, int64_t off)');

export const RW = PROT_READ | PROT_WRITE;
export const RX = PROT_READ | PROT_EXEC;

/** x86_64's layout (src/cpu/x86_64.ts). */
export const LAYOUT: Layout = { taskSize: 0x7ffffffff000, stackTop: 0x7ffffffff000, mmapBase: 0x7ffff7fff000, etDynBase: 0x555555554000 };

export interface Region {
  start: number;
  size: number;
  prot: number;
  host: number;
}

export class FakeBackend implements MemBackend {
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
export const memory = new HostMemory();
export const spaces: AddressSpace[] = [];
/** Destroy the spaces `fresh` made (each test file runs it after each test). */
export function destroySpaces(): void {
  while (spaces.length) spaces.pop()!.destroy();
}

export function fresh(layout: Layout = LAYOUT, mem: HostMemory = memory): { as: AddressSpace; be: FakeBackend } {
  const be = new FakeBackend();
  const as = new AddressSpace(be, layout, mem);
  spaces.push(as);
  return { as, be };
}

/** The engine's view equals the VMA list; VMAs are sorted, disjoint, page-aligned, inside their chunk. */
export function consistent(as: AddressSpace, be: FakeBackend): void {
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
export const shape = (as: AddressSpace): Array<[string, string, number]> =>
  as.vmas.map((v) => [v.start.toString(16), v.end.toString(16), v.prot]);

export function errnoOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof SysError) return e.errno;
    throw e;
  }
  throw new Error('no error');
}
export const EFAULT = 14;
export const ENOMEM = 12;
export const EACCES = 13;
export const EINVAL = 22;
export const ENAMETOOLONG = 36;

export const fill = (n: number, byte: number): Buffer => Buffer.alloc(n, byte);
export const A = 0x10000000; // a base address for the tests
