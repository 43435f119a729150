// VmaSet: an address space's VMAs (sorted, disjoint) and their mirror in
// the CPU engine: lookup, insert and removal of ranges (cutting VMAs and
// giving their host pages back), merging neighbours, finding free room, and
// the engine's view following the size of the files a VMA maps.
//
// AddressSpace builds on it (access.ts, mapping.ts, address-space.ts).
import { hostFileInfo, host, hostZeroPages } from '../host/libc.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import type { MemBackend } from './backend.js';
import { Chunk, type ChunkUser } from './chunk.js';
import type { HostMemory } from './host-memory.js';
import { LAZY_GRAIN, LazyPages } from './lazy.js';
import { PAGE, pageDown, pageUp, type Layout } from './layout.js';
import { Vma, anon, isAnon, mappedEnd, samePolicy, type VmaInfo } from './vma.js';

export class VmaSet implements ChunkUser {
  /** sorted by start, non-overlapping */
  vmas: Vma[] = [];
  /** the brk heap's reservation (see Mappings.brk): its pages stay mapped on the host when cut */
  protected heap: Chunk | null = null;
  /** the VMA `find` returned last */
  protected last: Vma | null = null;

  constructor(
    readonly backend: MemBackend,
    readonly layout: Layout,
    /** the Machine's host memory: where new chunks come from and dead ones go */
    readonly memory: HostMemory,
  ) {}

  /** The regions an engine must hold to run in this space. */
  regions(): Array<{ start: number; end: number; prot: number; host: number }> {
    const out: Array<{ start: number; end: number; prot: number; host: number }> = [];
    for (const v of this.vmas) this.mappedRuns(v, (start, end) => out.push({ start, end, prot: v.prot, host: v.hostAddr(start) }));
    return out;
  }

  /** fn(start, end) for each range of v the engine maps: all of it but a file's pages past EOF, and a lazy chunk's untouched pieces. */
  private mappedRuns(v: Vma, fn: (start: number, end: number) => void): void {
    const end = mappedEnd(v, v.chunk.valid);
    if (end <= v.start) return;
    const lazy = v.chunk.lazy;
    if (lazy === null) fn(v.start, end);
    else lazy.runs(v.off, v.off + (end - v.start), (from, to) => fn(v.start + (from - v.off), v.start + (to - v.off)));
  }

  // ---- the engine's view of a VMA ---------------------------------------------
  //
  // The engine maps all of a VMA except, for shared mappings of files, the
  // pages wholly past EOF (an access there faults, and becomes SIGBUS).

  protected mapV(v: Vma): void {
    this.mappedRuns(v, (start, end) => this.backend.map(start, end - start, v.prot, v.hostAddr(start)));
  }

  protected unmapV(v: Vma): void {
    this.mappedRuns(v, (start, end) => this.backend.unmap(start, end - start));
  }

  /**
   * A first touch of [addr, addr+len) (all in VMA v) of a lazy chunk: its
   * untouched pieces are charged to --max-memory (HostMemory.charge) and
   * mapped in the engine. False if no piece was untouched.
   */
  touchLazy(v: Vma, addr: number, len: number): boolean {
    const lazy = v.chunk.lazy;
    if (lazy === null) return false;
    const fresh = lazy.untouched(v.off + (addr - v.start), len);
    if (fresh.length === 0) return false;
    let bytes = 0;
    for (const off of fresh) bytes += Math.min(lazy.size, off + LAZY_GRAIN) - off;
    this.memory.charge?.(this, bytes);
    // every VMA over the chunk maps the pieces it now has (an mprotect may have split it)
    this.unmapChunk(v.chunk);
    for (const off of fresh) lazy.set(off);
    this.mapChunk(v.chunk);
    return true;
  }

  /**
   * A fault at an address the engine does not map: inside a lazy chunk's
   * untouched piece, an access the VMA allows touches it (true: retry).
   */
  lazyFault(addr: number, prot: number): boolean {
    const v = this.find(addr);
    if (v === null || v.chunk.lazy === null || (v.prot & prot) !== prot) return false;
    return this.touchLazy(v, addr, 1);
  }

  /** The engine drops this chunk's VMAs (its `valid` is about to change). */
  unmapChunk(c: Chunk): void {
    for (const v of this.vmas) if (v.chunk === c) this.unmapV(v);
  }

  /** The engine maps this chunk's VMAs again (after `valid` changed). */
  mapChunk(c: Chunk): void {
    for (const v of this.vmas) if (v.chunk === c) this.mapV(v);
  }

  /**
   * A fault at an address the engine does not map: inside a shared file
   * mapping, the file may have grown since ('retry' once it is mapped), or the
   * page lies past EOF ('sigbus', BUS_ADRERR as on Linux). null: not such a page.
   */
  fileFault(addr: number): 'retry' | 'sigbus' | null {
    const v = this.find(addr);
    if (v === null || (v.chunk.backing === null && v.chunk.source === null) || addr < mappedEnd(v, v.chunk.valid)) return null;
    this.lookAtFile(v);
    return addr < mappedEnd(v, v.chunk.valid) ? 'retry' : 'sigbus';
  }

  /** Is [addr, end) of VMA v past the end of its file (after looking at the file again)? */
  protected pastEof(v: Vma, end: number): boolean {
    if (end <= mappedEnd(v, v.chunk.valid)) return false;
    this.lookAtFile(v);
    return end > mappedEnd(v, v.chunk.valid);
  }

  /** The file behind v's chunk may have changed size: a shared mapping follows it; a private copy takes in what it gained. */
  private lookAtFile(v: Vma): void {
    const c = v.chunk;
    const s = c.source;
    if (s === null) {
      c.refresh();
      return;
    }
    const info = hostFileInfo(s.fd);
    if (typeof info === 'number') return;
    const valid = Math.max(0, Math.min(c.size, pageUp(info.size) - s.offset));
    if (valid <= c.valid) return; // a copy keeps what it has (written pages stay; Linux too)
    let done = 0;
    while (c.valid + done < valid) {
      const r = host.pread(s.fd, c.addr + c.valid + done, valid - c.valid - done, s.offset + c.valid + done);
      if (r <= 0) break; // shrank again: the rest reads as zero
      done += r;
    }
    this.unmapChunk(c);
    c.valid = valid;
    this.mapChunk(c);
  }

  // ---- lookup -------------------------------------------------------------

  protected index(addr: number): number {
    // index of the VMA containing addr, or -(insertion point)-1
    let lo = 0;
    let hi = this.vmas.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.vmas[mid];
      if (addr < v.start) hi = mid - 1;
      else if (addr >= v.end) lo = mid + 1;
      else return mid;
    }
    return -lo - 1;
  }

  find(addr: number): Vma | null {
    const l = this.last;
    if (l !== null && addr >= l.start && addr < l.end) return l;
    if (!(addr >= 0)) return null; // NaN would fall into the middle VMA of the binary search
    const i = this.index(addr);
    if (i < 0) return null;
    return (this.last = this.vmas[i]);
  }

  /** Is [addr, addr+len) entirely free? */
  isFree(addr: number, len: number): boolean {
    const end = addr + len;
    let i = this.index(addr);
    if (i >= 0) return false;
    i = -i - 1;
    return i >= this.vmas.length || this.vmas[i].start >= end;
  }

  // ---- inserting and removing ranges ------------------------------------------

  /** Map fresh zeroed anonymous memory at [start, start+len), replacing what was there. */
  mapAnon(start: number, len: number, prot: number, info: VmaInfo = anon(), lazy = false): Vma {
    const chunk = Chunk.alloc(this.memory, len);
    // charged to --max-memory as touched: no piece is mapped in the engine yet
    if (lazy) chunk.lazy = new LazyPages(len);
    return this.insert(new Vma(start, start + len, prot, chunk, 0, info));
  }

  /** Insert a VMA over whatever is mapped in its range (MAP_FIXED semantics). */
  insert(vma: Vma): Vma {
    const cut = this.cut(vma.start, vma.end);
    const i = -this.index(vma.start) - 1;
    this.vmas.splice(i, 0, vma);
    vma.chunk.users?.add(this);
    this.mapV(vma);
    this.last = null;
    this.dropUnused(cut);
    return vma;
  }

  /** Unmap [start, end): VMAs are cut, their host pages released. */
  removeRange(start: number, end: number): void {
    this.dropUnused(this.cut(start, end));
  }

  /** Cut [start, end) out of the VMAs; returns the shared chunks it touched (see dropUnused). */
  private cut(start: number, end: number): Set<Chunk> {
    let i = this.index(start);
    if (i < 0) i = -i - 1;
    const added: Vma[] = [];
    const touched = new Set<Chunk>();
    const partial = new Set<Chunk>();
    let j = i;
    while (j < this.vmas.length && this.vmas[j].start < end) {
      const v = this.vmas[j];
      this.unmapV(v);
      const cutStart = Math.max(v.start, start);
      const cutEnd = Math.min(v.end, end);
      // Heap pages stay mapped on the host (zeroed, given back): brk maps them
      // again with MAP_FIXED, which must not land on host memory allocated in a hole.
      if (v.chunk === this.heap) hostZeroPages(v.hostAddr(cutStart), cutEnd - cutStart);
      else if (v.chunk.users === null) {
        this.backend.release?.(v.start, v.size, v.hostAddr(v.start));
        v.chunk.free(v.off + (cutStart - v.start), cutEnd - cutStart);
        if (!v.chunk.gone) partial.add(v.chunk);
      } else touched.add(v.chunk);
      if (v.start < start) added.push(v.slice(v.start, start));
      if (v.end > end) added.push(v.slice(end, v.end));
      j++;
    }
    this.vmas.splice(i, j - i, ...added);
    for (const v of added) this.mapV(v);
    this.last = null;
    // A private chunk may hold more than its VMAs (a stack's room to grow):
    // the rest goes back when no VMA uses the chunk any more.
    for (const c of partial) if (!this.vmas.some((v) => v.chunk === c)) c.freeAll();
    return touched;
  }

  /**
   * Chunks used by several address spaces (or MAP_SHARED) are freed whole: this
   * space stops using those of `chunks` it no longer maps, and the last user
   * frees them, once no engine maps any of their host memory.
   */
  protected dropUnused(chunks: Iterable<Chunk>): void {
    for (const c of chunks) {
      if (c.users === null || !c.users.has(this) || this.vmas.some((v) => v.chunk === c)) continue;
      c.users.delete(this);
      if (c.users.size > 0) continue;
      c.releaseFrom(this.backend);
      c.freeAll();
      c.onFree?.();
    }
  }


  /** Merge neighbours that Linux would show as one VMA (same chunk, contiguous, same attributes). */
  protected mergeAround(start: number, end: number): void {
    let i = this.index(start);
    if (i < 0) i = -i - 1;
    if (i > 0) i--;
    while (i + 1 < this.vmas.length && this.vmas[i].start <= end) {
      const a = this.vmas[i];
      const b = this.vmas[i + 1];
      if (
        a.end === b.start &&
        a.chunk === b.chunk &&
        a.off + a.size === b.off &&
        a.prot === b.prot &&
        a.info.name === b.info.name &&
        a.info.shared === b.info.shared &&
        a.info.ino === b.info.ino &&
        a.info.dev === b.info.dev &&
        (a.info.locked ?? 0) === (b.info.locked ?? 0) &&
        samePolicy(a.info.policy, b.info.policy) &&
        (a.info.sealed ?? false) === (b.info.sealed ?? false) &&
        // two pieces of a file merge only if they map contiguous file offsets (as on Linux)
        (isAnon(a.info) || a.info.offset + a.size === b.info.offset)
      ) {
        this.unmapV(a);
        this.unmapV(b);
        a.end = b.end;
        this.mapV(a);
        this.vmas.splice(i + 1, 1);
        this.last = null;
      } else i++;
    }
  }

  /** Find a free range of len bytes, top-down below mmapBase (Linux's default allocator). */
  findFree(len: number, hint = 0): number {
    if (hint !== 0) {
      const h = pageDown(hint);
      if (h + len <= this.layout.taskSize && this.isFree(h, len)) return h;
    }
    let top = this.layout.mmapBase;
    for (let i = this.vmas.length - 1; i >= -1; i--) {
      const v = i >= 0 ? this.vmas[i] : null;
      if (v !== null && v.start >= top) continue;
      const floor = v === null ? PAGE * 16 : v.end;
      if (top - floor >= len) return top - len;
      if (v !== null) top = Math.min(top, v.start);
    }
    return fail(E.ENOMEM);
  }
}
