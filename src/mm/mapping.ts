// Mappings: how an address space's mappings change, the policy behind
// mprotect, brk, mremap, msync, madvise (MADV_DONTNEED, MADV_REMOVE) and
// the growth of the stack on faults: what Linux's mm/mprotect.c, mmap.c
// (brk), mremap.c, msync.c and madvise.c decide, over the VMA set.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_REMOVE, MS_ASYNC, MS_INVALIDATE, MS_SYNC, PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { hostCopyResident, hostMadvise, hostMemmove, hostMsync, hostZeroPages } from '../host/libc.js';
import { GuestMemory } from './access.js';
import { Chunk, MAX_CHUNK } from './chunk.js';
import { PAGE, pageDown, pageUp } from './layout.js';
import { LAZY_GRAIN } from './lazy.js';
import { Vma, anon, isAnon, mappedEnd, samePolicy, type MemPolicy } from './vma.js';

/** RLIMIT_AS and RLIMIT_DATA soft limits in bytes (Infinity: none), as the caller's process has them. */
export interface VmLimits {
  as: number;
  data: number;
  /** bytes of private writable memory all guest processes may still commit (--max-memory) */
  commit: number;
}
export const NO_LIMITS: VmLimits = { as: Infinity, data: Infinity, commit: Infinity };

/** Host address space reserved for brk (nothing is committed until used). */
export const HEAP_RESERVE = 1 << 30;

export class Mappings extends GuestMemory {
  brkStart = 0;
  brkCur = 0;
  /** The [stack] VMA grows down on demand (like Linux's VM_GROWSDOWN), within its reservation. */
  stack: Vma | null = null;

  // ---- RLIMIT_AS and RLIMIT_DATA ---------------------------------------------

  /**
   * Linux's may_expand_vm: can `bytes` more of address space be mapped, of
   * which the data part (private writable, not the stack: is_data_mapping)
   * also counts against RLIMIT_DATA? `replaced` is what a MAP_FIXED mapping
   * takes over from mappings already there. `committed` (private writable,
   * the stack included: what Linux's strict overcommit accounts) is checked
   * against what --max-memory leaves. Costs nothing without limits.
   */
  mayExpand(lim: VmLimits, bytes: number, data: boolean, replaced: { start: number; end: number } | null = null, committed = data): boolean {
    if (lim.as === Infinity && (!data || lim.data === Infinity) && (!committed || lim.commit === Infinity)) return true;
    let total = 0;
    let dataVm = 0;
    let gone = 0;
    let goneData = 0;
    let goneCommit = 0;
    for (const v of this.vmas) {
      total += v.size;
      const d = this.isData(v);
      if (d) dataVm += v.size;
      if (replaced !== null && v.start < replaced.end && v.end > replaced.start) {
        const n = Math.min(v.end, replaced.end) - Math.max(v.start, replaced.start);
        gone += n;
        if (d) goneData += n;
        if (this.isCommitted(v)) goneCommit += n;
      }
    }
    if (total - gone + bytes > lim.as) return false;
    if (committed && bytes - goneCommit > lim.commit) return false;
    return !data || dataVm - goneData + bytes <= lim.data;
  }

  /** private writable memory (the stack too): what strict overcommit accounting counts */
  isCommitted(v: Vma): boolean {
    return (v.prot & PROT_WRITE) !== 0 && !v.info.shared && v.chunk.lazy === null;
  }

  /**
   * The bytes of lazy chunks (lazy.ts) this space has touched, each chunk
   * counted once over all calls with the same `seen`: what --max-memory
   * charges of its MAP_NORESERVE memory.
   */
  touched(seen = new Set<Chunk>()): number {
    let n = 0;
    for (const v of this.vmas) {
      const lazy = v.chunk.lazy;
      if (lazy === null || seen.has(v.chunk)) continue;
      seen.add(v.chunk);
      n += lazy.count * LAZY_GRAIN;
    }
    return n;
  }

  /** the bytes of this address space that --max-memory counts */
  committed(): number {
    let n = 0;
    for (const v of this.vmas) if (this.isCommitted(v)) n += v.size;
    return n;
  }

  /** is_data_mapping: private and writable, and not the stack */
  isData(v: Vma): boolean {
    return (v.prot & PROT_WRITE) !== 0 && !v.info.shared && v !== this.stack;
  }

  // ---- mprotect -----------------------------------------------------------

  /**
   * mprotect. As Linux, VMA by VMA from start: a hole gives ENOMEM and PROT_WRITE
   * over a read-only shared file mapping EACCES, after the pages before it changed.
   */
  protect(start: number, end: number, prot: number, lim: VmLimits = NO_LIMITS): void {
    if (start >= end) return;
    if (prot & PROT_WRITE && lim.data !== Infinity) {
      // pages that become data (mprotect_fixup's may_expand_vm)
      let more = 0;
      for (let a = start; a < end; ) {
        const v = this.find(a);
        if (v === null) break;
        const e = Math.min(v.end, end);
        if (!(v.prot & PROT_WRITE) && !v.info.shared && v !== this.stack) more += e - a;
        a = e;
      }
      if (more > 0 && !this.mayExpand(lim, more, true)) fail(E.ENOMEM);
    }
    let err = 0;
    let upTo = start;
    for (let a = start; a < end; ) {
      const v = this.find(a);
      if (v === null) err = E.ENOMEM;
      else if (prot & PROT_WRITE && v.chunk.readOnly && v.info.shared) err = E.EACCES; // a private VMA becomes a copy
      else {
        a = upTo = Math.min(v.end, end);
        continue;
      }
      break;
    }
    if (upTo > start) this.protectRange(start, upTo, prot);
    if (err !== 0) fail(err);
  }

  private protectRange(start: number, end: number, prot: number): void {
    let i = this.index(start);
    const out: Vma[] = [];
    const copied = new Set<Chunk>();
    let j = i;
    while (j < this.vmas.length && this.vmas[j].start < end) {
      const v = this.vmas[j];
      if (v.prot === prot) {
        out.push(v);
        j++;
        continue;
      }
      this.unmapV(v);
      const parts: Vma[] = [];
      if (v.start < start) parts.push(v.slice(v.start, start));
      let mid = v.slice(Math.max(v.start, start), Math.min(v.end, end));
      // memory shared by fork becomes private when made writable, and so do an
      // executable's cached pages (the next exec of the file gets them: onFree
      // is set for those), even with one user; MAP_SHARED memory stays shared
      // (a private VMA over a file's own pages too: its writes are not the file's)
      if (
        prot & PROT_WRITE &&
        (v.chunk.backing === null ? v.chunk.users !== null && (v.chunk.users.size > 1 || v.chunk.onFree !== null) : !v.info.shared)
      ) {
        mid = this.privateCopy(mid);
        copied.add(v.chunk);
      }
      mid.prot = prot;
      parts.push(mid);
      if (v.end > end) parts.push(v.slice(end, v.end));
      for (const p of parts) this.mapV(p);
      out.push(...parts);
      j++;
    }
    this.vmas.splice(i, j - i, ...out);
    this.last = null;
    this.dropUnused(copied);
    this.mergeAround(start, end);
  }

  /** A VMA over a private copy of its pages (copy-on-write of a shared chunk, done eagerly). */
  private privateCopy(v: Vma): Vma {
    const chunk = Chunk.alloc(this.memory, v.size);
    if (v.chunk.backing !== null) {
      // a file's pages: all of them (mincore tells what is in the page cache, not what the file holds)
      const n = mappedEnd(v, v.chunk.valid) - v.start;
      if (n > 0) hostMemmove(chunk.addr, v.hostAddr(v.start), n);
    } else hostCopyResident(chunk.addr, v.hostAddr(v.start), v.size);
    return new Vma(v.start, v.end, v.prot, chunk, 0, { ...v.info });
  }

  // ---- mlock --------------------------------------------------------------

  /** mlockall(MCL_FUTURE)'s VM_LOCKED/VM_LOCKONFAULT bits for new mappings (mm->def_flags) */
  lockFuture = 0;

  /** Bytes of VMAs with VM_LOCKED in [start, end) (everything by default): Linux's locked_vm. */
  lockedBytes(start = 0, end = Infinity): number {
    let n = 0;
    for (const v of this.vmas) if ((v.info.locked ?? 0) & 1) n += Math.max(0, Math.min(v.end, end) - Math.max(v.start, start));
    return n;
  }

  /**
   * mlock/munlock: the lock bits over [start, end), VMA by VMA from start (a
   * hole gives ENOMEM after the VMAs before it changed, as Linux's
   * apply_vma_lock_flags). Newly locked pages are faulted in, as Linux's
   * populate does, unless VM_LOCKONFAULT or PROT_NONE.
   */
  lock(start: number, end: number, bits: number): void {
    let upTo = start;
    let hole = false;
    for (let a = start; a < end; ) {
      const v = this.find(a);
      if (v === null) {
        hole = true;
        break;
      }
      a = upTo = Math.min(v.end, end);
    }
    if (upTo > start) this.lockRange(start, upTo, bits);
    if (hole) fail(E.ENOMEM);
  }

  private lockRange(start: number, end: number, bits: number): void {
    this.changeRange(
      start,
      end,
      (v) => (v.info.locked ?? 0) === bits,
      (mid) => {
        mid.info.locked = bits;
        if (bits === 1 && mid.prot !== 0) {
          // populate: a write fault for private writable memory, a read fault otherwise (errors, as past a file's end, are Linux's to ignore too)
          hostMadvise(mid.hostAddr(mid.start), mid.size, mid.prot & PROT_WRITE && !mid.info.shared ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
        }
      },
    );
  }

  /**
   * Give the VMAs over [start, end) (all mapped) mbind's policy, or none,
   * splitting those that reach past either end; neighbours with equal
   * policies merge again, as Linux's mbind_range does.
   */
  setPolicy(start: number, end: number, policy: MemPolicy | undefined): void {
    this.changeRange(
      start,
      end,
      (v) => samePolicy(v.info.policy, policy),
      (mid) => {
        if (policy === undefined) delete mid.info.policy;
        else mid.info.policy = policy;
      },
    );
  }

  /** mseal: the VMAs over [start, end) (all mapped) become sealed, split at either end. */
  seal(start: number, end: number): void {
    this.changeRange(start, end, (v) => v.info.sealed === true, (mid) => (mid.info.sealed = true));
  }

  /** The first sealed VMA's start within [start, end), or -1 (Linux's vma_is_sealed over the range). */
  sealedIn(start: number, end: number): number {
    for (const v of this.vmas) if (v.info.sealed && v.start < end && v.end > start) return Math.max(v.start, start);
    return -1;
  }

  /**
   * Change an attribute of the VMAs over [start, end): those for which
   * `same` holds stay as they are; the others are cut at start and end and
   * their middle piece is given to `apply`. Then neighbours merge.
   */
  private changeRange(start: number, end: number, same: (v: Vma) => boolean, apply: (mid: Vma) => void): void {
    const i = this.index(start);
    const out: Vma[] = [];
    let j = i;
    while (j < this.vmas.length && this.vmas[j].start < end) {
      const v = this.vmas[j++];
      if (same(v)) {
        out.push(v);
        continue;
      }
      this.unmapV(v);
      const parts: Vma[] = [];
      if (v.start < start) parts.push(v.slice(v.start, start));
      const mid = v.slice(Math.max(v.start, start), Math.min(v.end, end));
      parts.push(mid);
      if (v.end > end) parts.push(v.slice(end, v.end));
      for (const p of parts) this.mapV(p);
      out.push(...parts);
      apply(mid);
    }
    this.vmas.splice(i, j - i, ...out);
    this.last = null;
    this.mergeAround(start, end);
  }

  // ---- brk ----------------------------------------------------------------

  setBrkStart(addr: number): void {
    this.brkStart = this.brkCur = addr;
  }

  brk(want: number, lim: VmLimits = NO_LIMITS): number {
    if (want < this.brkStart) return this.brkCur;
    const oldTop = pageUp(this.brkCur);
    const newTop = pageUp(want);
    if (newTop > oldTop) {
      if (newTop - this.brkStart > HEAP_RESERVE || !this.isFree(oldTop, newTop - oldTop) || newTop >= this.layout.mmapBase)
        return this.brkCur;
      // RLIMIT_DATA (check_data_rlimit, on the heap) and RLIMIT_AS (do_brk_flags)
      if (want - this.brkStart > lim.data || !this.mayExpand(lim, newTop - oldTop, true)) return this.brkCur;
      // The heap lives in one host reservation, so its pieces merge into one [heap] VMA.
      if (this.heap === null) this.heap = Chunk.reserve(this.memory, HEAP_RESERVE);
      const off = oldTop - pageUp(this.brkStart);
      this.heap.commit(off, newTop - oldTop);
      const below = oldTop > 0 ? this.find(oldTop - 1) : null;
      if (below !== null && below.chunk === this.heap && below.off + below.size === off && below.prot === (PROT_READ | PROT_WRITE) && below.info.name === '[heap]') {
        // the [heap] VMA grows, as Linux's brk extends it: one engine region
        // replaced, where a new piece merged with it took three
        this.unmapV(below);
        below.end = newTop;
        this.mapV(below);
        this.last = null;
      } else {
        this.insert(new Vma(oldTop, newTop, PROT_READ | PROT_WRITE, this.heap, off, anon('[heap]')));
        this.mergeAround(oldTop, newTop);
      }
    } else if (newTop < oldTop) {
      // the unmap is refused whole when a sealed VMA lies in it (mseal): brk stays
      if (this.sealedIn(newTop, oldTop) >= 0) return this.brkCur;
      this.removeRange(newTop, oldTop);
    }
    this.brkCur = want;
    return want;
  }

  // ---- mremap ---------------------------------------------------------------

  /** Move/resize the mapping at [old, old+oldLen) (anonymous private memory). */
  remap(old: number, oldLen: number, newLen: number, mayMove: boolean, fixedAt: number | null, lim: VmLimits = NO_LIMITS): number {
    if (fixedAt !== null && !(fixedAt >= 0 && fixedAt + newLen <= this.layout.taskSize)) fail(E.EINVAL);
    const v = this.find(old);
    if (v === null || old + oldLen > v.end) fail(E.EFAULT);
    // old_size 0 duplicates a shared mapping; a private one it would not duplicate (vma_to_resize)
    if (oldLen === 0 && !v.info.shared) fail(E.EINVAL);
    // vma_to_resize: may_expand_vm for what the mapping gains
    if (newLen > oldLen && !this.mayExpand(lim, newLen - oldLen, this.isData(v))) fail(E.ENOMEM);
    // memory charged as touched (MAP_NORESERVE) that is moved or grown becomes
    // ordinary memory, committed whole: all of it must fit under --max-memory
    if (v.chunk.lazy !== null && (newLen > oldLen || fixedAt !== null) && !this.mayExpand({ ...NO_LIMITS, commit: lim.commit }, newLen, false, null, true)) fail(E.ENOMEM);
    if (v.chunk.backing !== null) return this.remapShared(v, old, oldLen, newLen, mayMove, fixedAt);
    if (fixedAt === null && newLen <= oldLen) {
      if (newLen < oldLen) this.removeRange(old + newLen, old + oldLen);
      return old;
    }
    const grow = newLen - oldLen;
    if (fixedAt === null && old + oldLen === v.end && v.end + grow <= this.layout.taskSize && this.isFree(v.end, grow)) {
      // Grow in place, as Linux extends the VMA. glibc's realloc of a large
      // block grows it a page at a time, so the VMA's memory is a reservation
      // with room behind it: growing again commits more of it. The first time
      // (or when the room is used up) the VMA moves to a reservation twice its
      // new size, at the same guest addresses, still one VMA (a second mremap
      // of the whole range needs that). Committed pages past the VMA's end
      // read as zero: nothing ever used them (a piece given back makes the
      // chunk not intact), and a pooled reservation comes zeroed.
      const c = v.chunk;
      const endOff = v.off + v.size;
      if (c.reservation && c !== this.heap && c.users === null && c.intact && endOff <= c.committed && endOff + grow <= c.size) {
        c.commit(endOff, grow);
        this.unmapV(v);
        v.end += grow;
        this.mapV(v);
        this.last = null;
        return old;
      }
      if (v.size + grow > MAX_CHUNK) fail(E.ENOMEM);
      let chunk: Chunk | null = null;
      try {
        chunk = Chunk.reserve(this.memory, Math.min(MAX_CHUNK, 2 * (v.size + grow)));
        chunk.commit(0, v.size + grow);
      } catch {
        // the host refused: give back a reservation made before the commit failed
        chunk?.freeAll();
        return fail(E.ENOMEM);
      }
      hostMemmove(chunk.addr, v.hostAddr(v.start), v.size);
      chunk.inheritSource(v.chunk, v.off);
      this.insert(new Vma(v.start, v.end + grow, v.prot, chunk, 0, { ...v.info }));
      return old;
    }
    if (!mayMove && fixedAt === null) fail(E.ENOMEM);
    const dest = fixedAt ?? this.findFree(newLen);
    const chunk = Chunk.alloc(this.memory, newLen);
    const copy = Math.min(oldLen, newLen);
    hostMemmove(chunk.addr, v.hostAddr(old), copy);
    chunk.inheritSource(v.chunk, v.off + (old - v.start));
    const info = { ...v.info, offset: v.info.offset + (old - v.start) };
    const prot = v.prot;
    this.removeRange(old, old + oldLen);
    this.insert(new Vma(dest, dest + newLen, prot, chunk, 0, info));
    return dest;
  }

  /**
   * mremap of a MAP_SHARED mapping: the moved or grown mapping is a new host
   * mapping of the same file pages (no copy). old_size 0 maps the same pages a
   * second time, leaving the first mapping in place.
   */
  private remapShared(v: Vma, old: number, oldLen: number, newLen: number, mayMove: boolean, fixedAt: number | null): number {
    const c = v.chunk;
    const b = c.backing!;
    const fileAt = (a: number): number => b.offset + v.off + (a - v.start);
    if (fixedAt === null && oldLen > 0 && newLen <= oldLen) {
      if (newLen < oldLen) this.removeRange(old + newLen, old + oldLen);
      return old;
    }
    const grow = newLen - oldLen;
    if (fixedAt === null && oldLen > 0 && old + oldLen === v.end && v.end + grow <= this.layout.taskSize && this.isFree(v.end, grow)) {
      const chunk = Chunk.mapShared(this.memory, b.fd, fileAt(v.start), v.size + grow, !c.readOnly);
      this.insert(new Vma(v.start, v.end + grow, v.prot, chunk, 0, { ...v.info }));
      return old;
    }
    if (!mayMove && fixedAt === null) fail(E.ENOMEM);
    const dest = fixedAt ?? this.findFree(newLen);
    const chunk = Chunk.mapShared(this.memory, b.fd, fileAt(old), newLen, !c.readOnly);
    const info = { ...v.info, offset: v.info.offset + (old - v.start) };
    const prot = v.prot;
    if (oldLen > 0) this.removeRange(old, old + oldLen);
    this.insert(new Vma(dest, dest + newLen, prot, chunk, 0, info));
    return dest;
  }

  // ---- msync and madvise ----------------------------------------------------

  /**
   * msync(2) over [start, end), as mm/msync.c walks it: holes give ENOMEM (at
   * once for plain MS_ASYNC, else after the rest is done); MS_SYNC writes back
   * the pages of writable shared file mappings (the host's msync does it).
   */
  msync(start: number, end: number, flags: number): number {
    let i = this.index(start);
    if (i < 0) i = -i - 1;
    let a = start;
    let hole = false;
    for (;;) {
      const v = this.vmas[i];
      if (v === undefined) return fail(E.ENOMEM);
      if (a < v.start) {
        if (flags === MS_ASYNC) fail(E.ENOMEM);
        a = v.start;
        if (a >= end) fail(E.ENOMEM);
        hole = true;
      }
      const e = Math.min(end, v.end);
      // locked pages cannot be invalidated
      if (flags & MS_INVALIDATE && (v.info.locked ?? 0) & 1) fail(E.EBUSY);
      if (flags & MS_SYNC && v.chunk.backing !== null && !v.chunk.readOnly && v.info.shared) {
        const r = hostMsync(v.hostAddr(a), e - a, MS_SYNC);
        if (r < 0) fail(-r);
      }
      a = v.end;
      if (a >= end) break;
      i++;
    }
    if (hole) fail(E.ENOMEM);
    return 0;
  }

  /**
   * MADV_REMOVE: punch the pages out of the file behind a writable shared
   * mapping (they read as zero afterwards); EINVAL for anonymous private
   * memory, EACCES for other mappings, as Linux's madvise_remove.
   */
  removePages(start: number, end: number): void {
    for (let a = start; a < end; ) {
      const v = this.find(a);
      if (v === null) fail(E.ENOMEM);
      const e = Math.min(v.end, end);
      if (v.chunk.backing === null) fail(isAnon(v.info) ? E.EINVAL : E.EACCES);
      if (v.chunk.readOnly || !v.info.shared) fail(E.EACCES);
      const r = hostMadvise(v.hostAddr(a), e - a, MADV_REMOVE);
      if (r < 0) fail(-r);
      a = e;
    }
  }

  /** Zero pages in place (MADV_DONTNEED on private anonymous memory). */
  zeroPages(start: number, end: number): void {
    for (let a = start; a < end; ) {
      const v = this.find(a);
      if (v === null) {
        a += PAGE;
        continue;
      }
      const e = Math.min(v.end, end);
      if (v.chunk.backing !== null) {
        // MAP_SHARED: the pages are the file's (or the shared memory's); dropping
        // them and faulting them in again reads the same content
      } else if (v.chunk.onFree !== null) {
        // an executable's cached pages: they hold the file's content, which is
        // what Linux's private file pages read after MADV_DONTNEED
      } else if (v.chunk.users !== null && v.chunk.users.size > 1) {
        // shared with another process: give this one fresh zero pages instead
        this.mapAnon(a, e - a, v.prot, { ...v.info, offset: v.info.offset + (a - v.start) });
      } else if (v.chunk.lazy !== null) {
        // memory charged as touched: the pieces wholly discarded are no longer
        // charged (Linux's RSS drops) and leave the engine until touched again
        const c = v.chunk;
        hostZeroPages(v.hostAddr(a), e - a);
        this.unmapChunk(c);
        c.lazy!.clearWithin(v.off + (a - v.start), e - a);
        this.mapChunk(c);
      } else hostZeroPages(v.hostAddr(a), e - a);
      a = e;
    }
  }

  // ---- the stack -----------------------------------------------------------

  /** A fault at addr: grow the stack down to it if Linux would. */
  growStack(addr: number, limit: number, lim: VmLimits = NO_LIMITS): boolean {
    const v = this.stack;
    if (v === null || addr >= v.start || !this.vmas.includes(v)) return false;
    const top = v.end;
    const floor = Math.max(top - Math.min(limit, v.off + v.size), top - (v.off + v.size));
    if (addr < floor) return false;
    let start = Math.max(floor, pageDown(addr) - 16 * PAGE);
    if (!this.isFree(start, v.start - start)) return false;
    // acct_stack_growth: RLIMIT_AS for the pages the stack gains (the slack below the fault first goes)
    if (!this.mayExpand(lim, v.start - start, false, null, true)) {
      start = pageDown(addr);
      if (!this.mayExpand(lim, v.start - start, false, null, true)) return false;
    }
    const grown = new Vma(start, v.end, v.prot, v.chunk, v.off - (v.start - start), v.info);
    v.chunk.dataFrom = Math.min(v.chunk.dataFrom, grown.off);
    this.unmapV(v);
    this.vmas[this.vmas.indexOf(v)] = grown;
    this.mapV(grown);
    this.stack = grown;
    this.last = null;
    return true;
  }
}
