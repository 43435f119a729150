// Window slots (src/cpu/windows.ts) against a fake engine: which slot a switch
// takes and which ranges it refreshes. A slot may never keep showing memory the
// engine's map no longer has there.
import { describe, expect, it } from 'vitest';
import { WindowSlots, type WindowRegion } from '../../src/cpu/windows.js';
import type { Engine, UnicornLib } from '../../src/cpu/unicorn.js';

function fake(n: number): { slots: WindowSlots; refreshed: Array<[number, number]>; selected: number[] } {
  const refreshed: Array<[number, number]> = [];
  const selected: number[] = [];
  const owned = new Set<number>();
  const lib = {
    windowSlots: () => n,
    windowSelect: (_uc: Engine, slot: number) => {
      selected.push(slot);
      const kept = owned.has(slot) ? 1 : 0;
      owned.add(slot);
      return kept;
    },
    windowRefresh: (_uc: Engine, addr: number, size: number) => {
      refreshed.push([addr, size]);
      return 0;
    },
    windowSettle: () => 0,
    windowClear: () => 0,
  } as unknown as UnicornLib;
  return { slots: WindowSlots.open(lib, null as unknown as Engine)!, refreshed, selected };
}

type R = { start: number; end: number; prot: number; host: number };
const map = (rs: R[]): Map<number, WindowRegion> => new Map(rs.map((r) => [r.start, { end: r.end, prot: r.prot, host: r.host }]));

describe('window slots', () => {
  const A: R[] = [
    { start: 0x1000, end: 0x3000, prot: 5, host: 0x10000 },
    { start: 0x8000, end: 0xa000, prot: 3, host: 0x20000 },
  ];
  const B: R[] = [A[0], { start: 0x8000, end: 0xa000, prot: 3, host: 0x30000 }];

  it('a space switches back to its own slot and refreshes nothing', () => {
    const { slots, refreshed, selected } = fake(4);
    const a = {};
    const b = {};
    slots.begin(a, new Map(), A);
    slots.finish(A);
    slots.begin(b, map(A), B);
    slots.finish(B);
    refreshed.length = 0;
    slots.begin(a, map(B), A);
    slots.finish(A);
    expect(selected).toEqual([0, 1, 0]);
    expect(refreshed).toEqual([]);
  });

  it('a slot taken over refreshes what differs, the whole old range of a region that shrank included', () => {
    const { slots, refreshed } = fake(2);
    const a = {};
    const b = {};
    const c = {};
    slots.begin(a, new Map(), A);
    slots.finish(A);
    slots.begin(b, map(A), B);
    slots.finish(B);
    slots.forget(a);
    // c's second region starts where a's did but ends earlier: a's tail must go
    const C: R[] = [A[0], { start: 0x8000, end: 0x9000, prot: 3, host: 0x20000 }];
    refreshed.length = 0;
    slots.begin(c, map(B), C);
    slots.finish(C);
    expect(refreshed).toEqual([
      [0x8000, 0x1000],
      [0x8000, 0x2000],
    ]);
  });
});
