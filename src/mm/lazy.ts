// LazyPages: which pieces of a chunk the guest has touched, for memory that
// is charged to --max-memory when touched rather than when mapped (private
// writable MAP_NORESERVE mappings, which Linux's default overcommit does not
// account at mmap). The engine maps only the touched pieces; a first access
// to another faults, is charged (the kernel's OOM killer acts when the charge
// would pass the cap) and maps it. Pieces are LAZY_GRAIN bytes of the chunk,
// a coarse stand-in for Linux's pages: each one is a region in the engine.

/** bytes of a chunk charged and mapped at once on a first touch */
export const LAZY_GRAIN = 1 << 20;

export class LazyPages {
  private readonly bits: Uint8Array;
  /** pieces touched */
  count = 0;
  constructor(readonly size: number) {
    this.bits = new Uint8Array(Math.ceil(size / LAZY_GRAIN));
  }

  /** Is the piece holding chunk offset `off` touched? */
  has(off: number): boolean {
    return this.bits[Math.floor(off / LAZY_GRAIN)] === 1;
  }

  /** Mark the piece holding `off` touched; false if it already was. */
  set(off: number): boolean {
    const i = Math.floor(off / LAZY_GRAIN);
    if (i < 0 || i >= this.bits.length || this.bits[i] === 1) return false;
    this.bits[i] = 1;
    this.count++;
    return true;
  }

  /** The untouched pieces of [off, off+len), as chunk offsets of their starts. */
  untouched(off: number, len: number): number[] {
    const out: number[] = [];
    const hi = Math.min(this.bits.length, Math.ceil((off + len) / LAZY_GRAIN));
    for (let i = Math.floor(off / LAZY_GRAIN); i < hi; i++) if (this.bits[i] !== 1) out.push(i * LAZY_GRAIN);
    return out;
  }

  /** The pieces wholly inside [off, off+len) are no longer held (unmapped, discarded): no longer charged. */
  clearWithin(off: number, len: number): void {
    for (let i = Math.ceil(off / LAZY_GRAIN); i < this.bits.length; i++) {
      // (the chunk's last piece may be short)
      if (Math.min(this.size, (i + 1) * LAZY_GRAIN) > off + len) break;
      if (this.bits[i] === 1) {
        this.bits[i] = 0;
        this.count--;
      }
    }
  }

  /** fn(from, to) for each run of touched pieces within chunk offsets [off, end), clipped to it. */
  runs(off: number, end: number, fn: (from: number, to: number) => void): void {
    const hi = Math.min(this.bits.length, Math.ceil(end / LAZY_GRAIN));
    for (let i = Math.floor(off / LAZY_GRAIN); i < hi; ) {
      if (this.bits[i] !== 1) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < hi && this.bits[j] === 1) j++;
      fn(Math.max(off, i * LAZY_GRAIN), Math.min(end, j * LAZY_GRAIN));
      i = j;
    }
  }

  /** A copy with the same pieces touched (fork's copy of the chunk). */
  copy(): LazyPages {
    const c = new LazyPages(this.size);
    c.bits.set(this.bits);
    c.count = this.count;
    return c;
  }
}
