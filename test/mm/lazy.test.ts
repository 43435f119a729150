// Memory charged as it is touched (MAP_NORESERVE under --max-memory): the
// engine maps only the pieces touched; a first touch (a fault, or a store by
// the kernel) charges its piece through HostMemory.charge and maps it; a
// fork's copy has the same pieces touched; an unmap or MADV_DONTNEED stops
// charging what it removes wholly. The OOM kill on top is test/mm/oom.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { HostMemory } from '../../src/mm/host-memory.js';
import { LAZY_GRAIN } from '../../src/mm/lazy.js';
import { anon } from '../../src/mm/vma.js';
import { A, LAYOUT, RW, destroySpaces, fresh } from './helpers.js';

afterEach(destroySpaces);

const G = LAZY_GRAIN;

function lazySpace(): { as: ReturnType<typeof fresh>['as']; be: ReturnType<typeof fresh>['be']; charged: number[] } {
  const mem = new HostMemory();
  const charged: number[] = [];
  mem.charge = (_s, bytes) => charged.push(bytes);
  const { as, be } = fresh(LAYOUT, mem);
  return { as, be, charged };
}

const engine = (be: ReturnType<typeof fresh>['be']): Array<[number, number]> =>
  [...be.regions.values()].sort((a, b) => a.start - b.start).map((r) => [r.start - A, r.size]);

describe('lazy chunks', () => {
  it('map nothing until touched, then the touched pieces, merged', () => {
    const { as, be, charged } = lazySpace();
    as.mapAnon(A, 8 * G, RW, anon(''), true);
    expect(engine(be)).toEqual([]);
    expect(as.committed()).toBe(0);
    expect(as.lazyFault(A + 3 * G + 5, 2)).toBe(true);
    expect(engine(be)).toEqual([[3 * G, G]]);
    expect(as.lazyFault(A + 3 * G + 6, 2)).toBe(false); // already touched
    expect(as.lazyFault(A + 4 * G, 1)).toBe(true);
    expect(engine(be)).toEqual([[3 * G, 2 * G]]);
    expect(charged).toEqual([G, G]);
    expect(as.touched()).toBe(2 * G);
  });

  it('a fault the protection refuses is not a touch', () => {
    const { as, be } = lazySpace();
    as.mapAnon(A, 2 * G, 1, anon(''), true);
    expect(as.lazyFault(A, 2)).toBe(false);
    expect(engine(be)).toEqual([]);
  });

  it('the kernel\'s stores touch what they write; its reads touch nothing', () => {
    const { as, be, charged } = lazySpace();
    as.mapAnon(A, 4 * G, RW, anon(''), true);
    expect(as.read(A + G, 16).equals(Buffer.alloc(16))).toBe(true);
    expect(charged).toEqual([]);
    as.write(A + G - 8, Buffer.alloc(16, 1));
    expect(charged).toEqual([2 * G]);
    expect(engine(be)).toEqual([[0, 2 * G]]);
    expect(as.read(A + G - 8, 16).equals(Buffer.alloc(16, 1))).toBe(true);
  });

  it('fork: the child has the same pieces touched, its own copy', () => {
    const { as, charged } = lazySpace();
    as.mapAnon(A, 4 * G, RW, anon(''), true);
    as.write(A + 2 * G, Buffer.from('x'));
    const { as: child, be: cbe } = fresh(LAYOUT, as.memory);
    as.forkInto(child);
    expect(child.touched()).toBe(G);
    expect(engine(cbe)).toEqual([[2 * G, G]]);
    expect(child.read(A + 2 * G, 1).toString()).toBe('x');
    child.write(A + 2 * G, Buffer.from('y'));
    expect(as.read(A + 2 * G, 1).toString()).toBe('x');
    expect(charged).toEqual([G]);
  });

  it('MADV_DONTNEED stops charging the pieces it discards wholly; the next touch charges again', () => {
    const { as, be, charged } = lazySpace();
    as.mapAnon(A, 4 * G, RW, anon(''), true);
    as.write(A, Buffer.alloc(4 * G, 7));
    expect(as.touched()).toBe(4 * G);
    as.zeroPages(A + G, A + 3 * G);
    expect(as.touched()).toBe(2 * G);
    expect(engine(be)).toEqual([[0, G], [3 * G, G]]);
    expect(as.read(A + G, 4).equals(Buffer.alloc(4))).toBe(true);
    expect(as.lazyFault(A + G, 2)).toBe(true);
    expect(charged).toEqual([4 * G, G]);
  });

  it('an unmap stops charging the pieces it removes wholly', () => {
    const { as, be } = lazySpace();
    as.mapAnon(A, 4 * G, RW, anon(''), true);
    for (let i = 0; i < 4; i++) as.lazyFault(A + i * G, 2);
    expect(as.touched()).toBe(4 * G);
    as.removeRange(A + G, A + 3 * G);
    expect(as.touched()).toBe(2 * G);
    expect(engine(be)).toEqual([[0, G], [3 * G, G]]);
    as.removeRange(A + G / 2, A + G);
    expect(as.touched()).toBe(2 * G); // half a piece stays charged
  });
});
