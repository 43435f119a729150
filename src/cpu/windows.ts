// Direct mode's window slots. The patched engine reaches guest memory through
// a window of host address space that aliases the running address space's
// pages (uc_elfrun_direct); switching spaces used to remap every region that
// differed, a host mremap and mprotect each (with TLB shoot-downs), several
// per switch between two forked processes. The engine now keeps up to four
// windows, one current, reached through the GS base: a space that keeps its
// own slot switches back with no remapping at all, and one that must take a
// slot takes the one whose content differs least from its memory map,
// refreshing only what differs. What a slot shows is known here: the engine's
// map while it is the current one, and a snapshot of that map once another
// slot becomes current (nothing changes a slot that is not current).
import type { Engine, UnicornLib } from './unicorn.js';
import { PAGE, type Layout } from '../mm/layout.js';

/** Direct mode's window: guest addresses below 2^DIRECT_BITS (16 TiB), room the host has beside Node's mappings (2^47 it has not). */
export const DIRECT_BITS = 44;

/**
 * A layout whose stack, mmap area and PIE base are in the window, the same
 * distances apart as in Linux's. Above it memory is still the guest's (a
 * hint or MAP_FIXED there works, through the TLB), up to the same TASK_SIZE.
 */
export function directLayout(l: Layout): Layout {
  const top = 2 ** DIRECT_BITS;
  return {
    taskSize: l.taskSize,
    stackTop: top,
    mmapBase: top - (l.stackTop - l.mmapBase),
    etDynBase: Math.floor((top / 3) * 2 / PAGE) * PAGE,
  };
}

export interface WindowRegion {
  end: number;
  prot: number;
  host: number;
}

interface Slot {
  /** the space it was last chosen for, or null (none, or destroyed) */
  space: object | null;
  /** what it shows, by start (while current: the engine's map, kept by the engine) */
  shows: Map<number, WindowRegion> | null;
  used: number;
}

/** A space that is alive keeps its slot unless every slot has such an owner. */
const LIVE_OWNER = 1 << 20;
/** UC_PROT_WRITE | UC_PROT_EXEC */
const WX = 2 | 4;

type WindowCalls = { [K in 'windowSelect' | 'windowRefresh' | 'windowSettle' | 'windowClear']: NonNullable<UnicornLib[K]> };

export class WindowSlots {
  private readonly slots: Slot[] = [];
  private current = -1;
  private tick = 0;
  /** the slot a switch is filling (between begin and finish), and whether the engine kept its content */
  private filling: { slot: number; kept: boolean; shows: Map<number, WindowRegion> | null } | null = null;

  private constructor(
    private readonly lib: WindowCalls,
    private readonly uc: Engine,
    n: number,
  ) {
    for (let i = 0; i < n; i++) this.slots.push({ space: null, shows: null, used: 0 });
  }

  /** The engine's slots, or null when it has fewer than two (switching then remaps, as the engine does alone). */
  static open(lib: UnicornLib, uc: Engine): WindowSlots | null {
    const { windowSlots, windowSelect, windowRefresh, windowSettle, windowClear } = lib;
    if (windowSlots === null || windowSelect === null || windowRefresh === null || windowSettle === null || windowClear === null) return null;
    const n = windowSlots(uc);
    return n >= 2 ? new WindowSlots({ windowSelect, windowRefresh, windowSettle, windowClear }, uc, n) : null;
  }

  /**
   * Before the engine's map changes from `now` (what it maps) to `want` for
   * `space`: choose the slot and make it current, holding the window, so the
   * changes leave it alone. finish() then refreshes what differs.
   */
  begin(space: object, now: Map<number, WindowRegion>, want: ReadonlyArray<{ start: number; end: number; prot: number; host: number }>): boolean {
    // the engine replaces a region's record when it changes: a copy of the map is a snapshot
    if (this.current >= 0) this.slots[this.current].shows = new Map(now);
    let best = -1;
    let bestCost = Infinity;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      let cost = s.shows === null ? want.length + 1 : diffCount(s.shows, want);
      if (s.space !== null && s.space !== space) cost += LIVE_OWNER;
      // ties: the space's own slot, then the least recently used
      if (cost < bestCost || (cost === bestCost && (s.space === space || (this.slots[best].space !== space && s.used < this.slots[best].used)))) {
        best = i;
        bestCost = cost;
      }
    }
    const kept = this.lib.windowSelect(this.uc, best);
    if (kept < 0) {
      // the engine cannot switch now (it is running): the current slot follows the map as before
      this.forgetAll();
      return false;
    }
    const slot = this.slots[best];
    this.filling = { slot: best, kept: kept === 1, shows: slot.shows };
    slot.space = space;
    slot.used = ++this.tick;
    slot.shows = null;
    this.current = best;
    return true;
  }

  /** After the map changes: refresh what the slot showed differently, and let the window follow the map again. */
  finish(want: ReadonlyArray<{ start: number; end: number; prot: number; host: number }>): void {
    const f = this.filling;
    if (f === null) return;
    this.filling = null;
    if (f.kept) {
      if (f.shows === null) this.lib.windowRefresh(this.uc, 0, 2 ** 63);
      else {
        // what the slot showed and the map no longer has exactly goes (a
        // region that differs only in its end leaves its tail too), and
        // what the map has that the slot did not show comes
        const same = new Set<number>();
        for (const w of want) {
          const r = f.shows.get(w.start);
          // a page that may be written and executed is read-only while it
          // holds translated code: code translated meanwhile through another
          // slot is not known here, so such a region is refreshed every time
          if (r !== undefined && sameRegion(r, w) && (w.prot & WX) !== WX) same.add(w.start);
          else this.lib.windowRefresh(this.uc, w.start, w.end - w.start);
        }
        for (const [s, r] of f.shows) if (!same.has(s)) this.lib.windowRefresh(this.uc, s, r.end - s);
      }
    }
    this.lib.windowSettle(this.uc);
  }

  /** A fork: the engine's map (the current slot) now holds the child's memory. */
  handOver(from: object, to: object): void {
    if (this.current >= 0 && this.slots[this.current].space === from) this.slots[this.current].space = to;
  }

  /** The space is destroyed: its slot has no owner to keep it for. */
  forget(space: object): void {
    for (const s of this.slots) if (s.space === space) s.space = null;
  }

  /** Host memory is being freed: a slot other than the current one that shows it lets it go (its aliases would keep it). */
  releaseHost(hostAddr: number, size: number): void {
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      if (i === this.current || s.shows === null) continue;
      for (const [start, r] of s.shows) {
        if (r.host < hostAddr + size && r.host + (r.end - start) > hostAddr) {
          if (this.lib.windowClear(this.uc, i) === 0) s.shows = new Map();
          else s.shows = null;
          break;
        }
      }
    }
  }

  private forgetAll(): void {
    for (const s of this.slots) s.shows = null;
    this.current = -1;
  }
}

/** How many regions of want the slot does not show exactly, and how many it shows that want lacks. */
function diffCount(shows: Map<number, WindowRegion>, want: ReadonlyArray<{ start: number; end: number; prot: number; host: number }>): number {
  let n = 0;
  let matched = 0;
  for (const w of want) {
    const r = shows.get(w.start);
    if (r !== undefined && sameRegion(r, w)) matched++;
    else n++;
  }
  return n + (shows.size - matched);
}

/** Does the slot show this region of the map as it is (the same range, rights and host memory)? */
function sameRegion(r: WindowRegion, w: { end: number; prot: number; host: number }): boolean {
  return r.end === w.end && r.prot === w.prot && r.host === w.host;
}
