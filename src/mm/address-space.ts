// A guest address space: page-granular VMAs, each backed by host memory (a
// "chunk" from the host's mmap) and mirrored into the CPU engine with
// uc_mem_map_ptr, so syscalls read and write guest memory in place.
//
// The engine is behind MemBackend so this class is testable without Unicorn.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import {
  host,
  hostAlloc,
  hostAllocAt,
  hostCopyOver,
  hostCopyResident,
  hostFileInfo,
  hostMadvise,
  hostMapShared,
  hostMsync,
  hostReserve,
  hostFree,
  hostViewAt,
  hostZeroPages,
  hostZeroResident,
  swapOn,
  hostMemmove,
  type HostBlock,
} from '../host/libc.js';

export const PAGE = 4096;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

/** The largest VMA a dying space gives its heir (AddressSpace.giveTo). */
const GIVE_MAX = 1 << 20;

/** Largest piece of host memory one Chunk may view (see Chunk.alloc). */
export const MAX_CHUNK = 2 ** 32;
/** views of a chunk grow by this much (see Chunk.cover) */
const WINDOW_STEP = 65536;
/** Host address space reserved for brk (nothing is committed until used). */
const HEAP_RESERVE = 1 << 30;

export const pageDown = (a: number): number => a - (a % PAGE);
export const pageUp = (a: number): number => Math.ceil(a / PAGE) * PAGE;

export interface MemBackend {
  map(start: number, size: number, prot: number, hostAddr: number): void;
  unmap(start: number, size: number): void;
  protect(start: number, size: number, prot: number): void;
  /** Host memory of [start, start+size) is about to be freed: no engine may keep it mapped. */
  release?(start: number, size: number, hostAddr: number): void;
  /** The host range [hostAddr, hostAddr+size) is about to be freed: no engine may keep any of it mapped. */
  releaseHostRange?(hostAddr: number, size: number): void;
  /**
   * The kernel is about to store into [start, start+size) of an executable
   * VMA (read(2) into code, say): no translation of the old bytes may run
   * again. The guest's own stores are the engine's business.
   */
  codeWrite?(start: number, size: number): void;
}

/**
 * What a shared chunk (MAP_SHARED) maps: pages of a host fd, mapped MAP_SHARED
 * on the host, so the host kernel keeps them coherent with read(2)/write(2)
 * and writes them back to the file.
 */
export interface SharedBacking {
  /** a host fd of its own (closed when the chunk is freed) */
  fd: number;
  /** file offset of the chunk's first byte */
  offset: number;
  /**
   * A regular file (or memfd), whose end bounds the pages that may be touched:
   * a page wholly past EOF raises SIGBUS on Linux, and on the host too, so
   * neither the engine nor JS may touch it (see Chunk.valid).
   */
  regular: boolean;
}

/** Shared chunks of regular files, whose `valid` must follow the file's size. */
const fileChunks = new Set<Chunk>();

/**
 * Files may have shrunk (truncate, ftruncate, O_TRUNC...): every shared
 * mapping of a file re-checks its end, so that no page past EOF stays mapped
 * in an engine (the host would SIGBUS elfrun itself on access).
 */
export function refreshSharedFiles(): void {
  for (const c of fileChunks) c.refresh();
}

/** Are there shared mappings of files whose size matters? */
export const sharedFilesMapped = (): boolean => fileChunks.size > 0;

// ---- the pool of host memory ---------------------------------------------------
//
// Whole private chunks of dead address spaces (a forked child's data, heap and
// stack, an exec'd image's) are kept for the next ones, which mostly need the
// same sizes: a shell's children are copies of the shell. Reusing them skips
// the host's munmap (a TLB shootdown across Node's threads), mmap and the
// page faults of fresh memory. A reused chunk reads as zero: its touched
// pages are cleared, and they stay resident.

/** A view of a chunk's host memory from offset lo (see Chunk.cover). */
interface ChunkWindow {
  lo: number;
  bytes: Uint8Array;
  dv: DataView;
}

interface Pooled {
  addr: number;
  size: number;
  /** bytes from the start that may hold data (all of it, or a reservation's committed part) */
  used: number;
  /** none below this offset does (a stack's room to grow it never used) */
  from: number;
  reservation: boolean;
  /** the chunk's window for JS (Chunk.cover), still valid over the same host memory */
  window: ChunkWindow | null;
}
const pool: Pooled[] = [];
let pooledBytes = 0;
/** at most this many chunks and bytes (of `used`) are kept; the oldest go back to the host */
const POOL_ENTRIES = 16;
const POOL_BYTES = 64 << 20;
/** larger pieces are given back at once */
const POOL_MAX = 16 << 20;

function poolPut(e: Pooled): boolean {
  if (e.used > POOL_MAX) return false;
  while (pool.length > 0 && (pool.length >= POOL_ENTRIES || pooledBytes + e.used > POOL_BYTES)) {
    const old = pool.shift()!;
    pooledBytes -= old.used;
    hostFree(old.addr, old.size);
  }
  pool.push(e);
  pooledBytes += e.used;
  return true;
}

/** A pooled chunk of this size and kind, zeroed, or null. The most recently pooled first. */
function poolTake(size: number, reservation: boolean): Pooled | null {
  for (let i = pool.length - 1; i >= 0; i--) {
    const e = pool[i];
    if (e.size !== size || e.reservation !== reservation) continue;
    pool.splice(i, 1);
    pooledBytes -= e.used;
    hostZeroResident(e.addr + e.from, e.used - e.from);
    return e;
  }
  return null;
}

/** Host memory holding one or more VMAs' pages. */
export class Chunk {
  readonly addr: number;
  readonly size: number;
  /**
   * Address spaces using this chunk, once it has been shared by fork (read-only
   * VMAs are shared, not copied). A shared chunk's pages are never freed piece
   * by piece: the host could reuse a freed range while another process still
   * maps it. It is freed whole when its last user goes.
   */
  users: Set<AddressSpace> | null = null;
  /** called when a shared chunk is freed (the file cache forgets it) */
  onFree: (() => void) | null = null;
  /**
   * MAP_SHARED memory: a host MAP_SHARED mapping of a file or memfd. Never
   * copied (fork shares it, mprotect keeps it), freed whole when no address
   * space maps any of it.
   */
  backing: SharedBacking | null = null;
  /** The host mapping is read-only (a file opened O_RDONLY): no VMA over it may become writable. */
  readOnly = false;
  /**
   * A private copy of a file's pages (a writable MAP_PRIVATE mapping) that
   * reached past the file's end: the file (a host fd of the chunk's own) and
   * the offset of the chunk's first byte. Pages past `valid` were past EOF
   * when copied: SIGBUS, unless the file has grown to them since (their
   * content is then read in, as Linux shows a page no write has copied).
   */
  source: { fd: number; offset: number } | null = null;
  /**
   * Bytes from offset 0 that may be touched: all of it, except for shared
   * mappings of files, where pages wholly past EOF are neither mapped in the
   * engine (an access faults: SIGBUS) nor touched by JS (EFAULT).
   */
  valid: number;
  constructor(block: HostBlock) {
    this.addr = block.addr;
    this.size = block.size;
    this.valid = block.size;
    this.committed = block.size;
  }

  /**
   * A MAP_SHARED mapping of `size` bytes of host fd `fd` from `offset`. The
   * chunk keeps a duplicate of fd (or fd itself if `own`). ENOMEM, or the
   * host's errno (ENODEV for what cannot be mapped, EACCES...).
   */
  static mapShared(fd: number, offset: number, size: number, writable: boolean, own = false): Chunk {
    if (!(size > 0 && size <= MAX_CHUNK)) fail(E.ENOMEM);
    const info = hostFileInfo(fd);
    if (typeof info === 'number') fail(-info);
    const block = hostMapShared(fd, offset, size, writable);
    if (typeof block === 'number') return fail(-block);
    let keep = fd;
    if (!own) {
      keep = host.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 0);
      if (keep < 0) {
        hostFree(block.addr, block.size);
        fail(-keep);
      }
    }
    const c = new Chunk(block);
    c.backing = { fd: keep, offset, regular: (info.mode & 0o170000) === 0o100000 };
    c.readOnly = !writable;
    c.users = new Set();
    if (c.backing.regular) {
      c.valid = c.validFor(info.size);
      if (!own) fileChunks.add(c);
    }
    return c;
  }

  private validFor(fileSize: number): number {
    return Math.max(0, Math.min(this.size, pageUp(fileSize) - this.backing!.offset));
  }

  /** A shared file chunk: look at the file's size again; the mappings of every user follow it. */
  refresh(): void {
    const b = this.backing;
    if (b === null || !b.regular) return;
    const info = hostFileInfo(b.fd);
    if (typeof info === 'number') return;
    const valid = this.validFor(info.size);
    if (valid === this.valid) return;
    const users = [...(this.users ?? [])];
    for (const s of users) s.unmapChunk(this);
    this.valid = valid;
    for (const s of users) s.mapChunk(this);
  }
  /** ranges (offset, length) already given back to the host */
  private freed: Array<[number, number]> = [];
  private freedBytes = 0;

  /**
   * A reservation (Chunk.reserve): its pages are committed (read-write) on
   * demand; these bytes from the start already are, and read as zero where
   * no VMA holds data. Other chunks are read-write throughout.
   */
  reservation = false;
  committed: number;
  /**
   * No VMA ever mapped the bytes below this offset (a stack chunk's room to
   * grow, until it does): they still read as zero.
   */
  dataFrom = 0;

  /** Give [off, off+len) back to the host, once. */
  free(off: number, len: number): void {
    if (len <= 0) return;
    hostFree(this.addr + off, len);
    this.freed.push([off, len]);
    this.freedBytes += len;
  }

  /**
   * The host ranges [addr, len] this chunk still holds: not the pieces given
   * back, which the host may have given to another chunk since.
   */
  held(): Array<[addr: number, len: number]> {
    const out: Array<[number, number]> = [];
    let at = 0;
    for (const [off, len] of [...this.freed].sort((a, b) => a[0] - b[0])) {
      if (off > at) out.push([this.addr + at, off - at]);
      at = Math.max(at, off + len);
    }
    if (this.size > at) out.push([this.addr + at, this.size - at]);
    return out;
  }

  /** No engine may keep any of the host memory this chunk holds mapped (it is about to go). */
  releaseFrom(backend: MemBackend): void {
    for (const [a, n] of this.held()) backend.releaseHostRange?.(a, n);
  }

  /** Has no piece gone back to the host (so no hole another host mapping may fill)? */
  get intact(): boolean {
    return this.freed.length === 0;
  }

  /** Has every byte gone back to the host? */
  get gone(): boolean {
    return this.freedBytes >= this.size;
  }

  /** A reservation's pages [off, off+len) become read-write, reading as zero. */
  commit(off: number, len: number): void {
    if (off + len <= this.committed) return;
    if (off > this.committed) {
      // a hole stays reserved (never, for the heap: it grows from its start)
      hostAllocAt(this.addr + off, len);
      return;
    }
    hostAllocAt(this.addr + this.committed, off + len - this.committed);
    this.committed = off + len;
  }

  /**
   * No VMA uses this private chunk any more: back to the pool when it is
   * whole (nothing freed piecewise), else back to the host. Not with swap
   * active: pages out on swap are not resident, so reusing the chunk would
   * mean zeroing all of it.
   */
  recycle(): void {
    this.dropSource();
    if (this.backing === null && this.freed.length === 0 && !swapOn()) {
      const used = this.reservation ? this.committed : this.size;
      const window = this.wbytes === null ? null : { lo: this.wlo, bytes: this.wbytes, dv: this.wdv! };
      if (poolPut({ addr: this.addr, size: this.size, used, from: Math.min(this.dataFrom, used), reservation: this.reservation, window })) {
        this.freed = [[0, this.size]];
        this.freedBytes = this.size;
        return;
      }
    }
    this.freeAll();
  }

  /** Be the private copy of `fd`'s bytes from `offset` on (a duplicate of fd is kept), valid for its first `valid` bytes. */
  copyOf(fd: number, offset: number, valid: number): void {
    const keep = host.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 0);
    if (keep < 0) return; // no fd to spare: the pages past EOF read as zeros
    this.dropSource();
    this.source = { fd: keep, offset };
    this.valid = Math.max(0, Math.min(this.size, valid));
  }

  /** Be the copy of `from`'s bytes from offset `at` on: of its file too, if it is a copy of one (Chunk.source). */
  inheritSource(from: Chunk, at: number): void {
    if (from.source !== null) this.copyOf(from.source.fd, from.source.offset + at, from.valid - at);
  }

  private dropSource(): void {
    if (this.source !== null) {
      host.close(this.source.fd);
      this.source = null;
      this.valid = this.size;
    }
  }

  /**
   * Give back everything not already given back. Never the whole range blindly:
   * a freed piece may since hold another allocation of the host's.
   */
  freeAll(): void {
    this.dropSource();
    if (this.backing !== null) {
      fileChunks.delete(this);
      host.close(this.backing.fd);
      this.backing = null;
    }
    const pieces = [...this.freed].sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [off, len] of pieces) {
      if (off > at) hostFree(this.addr + at, off - at);
      at = Math.max(at, off + len);
    }
    if (this.size > at) hostFree(this.addr + at, this.size - at);
    this.freed = [[0, this.size]];
    this.freedBytes = this.size;
  }

  /**
   * JS sees a chunk through one window, [wlo, wlo + wbytes.length), grown in
   * WINDOW_STEP steps to cover what it has touched. V8 counts a view's length
   * as external memory: views of whole chunks (an 8 MiB stack per exec, a
   * 1 GiB heap reservation) made fork+exec loops spend a quarter of their
   * time in the garbage collector.
   */
  private wlo = 0;
  private wbytes: Uint8Array | null = null;
  private wdv: DataView | null = null;
  /** Start with a pooled chunk's window: a view costs a few µs to make, and a fork makes a chunk for each writable VMA. */
  private adopt(w: ChunkWindow | null): this {
    if (w !== null) {
      this.wlo = w.lo;
      this.wbytes = w.bytes;
      this.wdv = w.dv;
    }
    return this;
  }
  private cover(off: number, len: number): void {
    const w = this.wbytes;
    if (w !== null && off >= this.wlo && off + len <= this.wlo + w.length) return;
    let lo = Math.floor(off / WINDOW_STEP) * WINDOW_STEP;
    let hi = Math.min(this.size, Math.ceil((off + len) / WINDOW_STEP) * WINDOW_STEP);
    if (w !== null) {
      lo = Math.min(lo, this.wlo);
      hi = Math.max(hi, this.wlo + w.length);
    }
    const ab = hostViewAt(this.addr + lo, hi - lo);
    this.wlo = lo;
    this.wbytes = new Uint8Array(ab);
    this.wdv = new DataView(ab);
  }
  /** Bytes [off, off+len) of the chunk, a view of its host memory. */
  range(off: number, len: number): Uint8Array {
    this.cover(off, len);
    const o = off - this.wlo;
    return this.wbytes!.subarray(o, o + len);
  }
  /** Zero bytes [off, off+len) of the chunk (no view object for the range). */
  zero(off: number, len: number): void {
    this.cover(off, len);
    const o = off - this.wlo;
    const w = this.wbytes!;
    if (len <= 16) for (let i = o; i < o + len; i++) w[i] = 0; // fill() costs more than this for a few bytes
    else w.fill(0, o, o + len);
  }
  /** A DataView over the chunk and where offset `off` (len bytes) is in it. */
  viewAt(off: number, len: number): [DataView, number] {
    this.cover(off, len);
    return [this.wdv!, off - this.wlo];
  }
  /**
   * Fresh zeroed host memory, or ENOMEM (as Linux's mmap fails) when the host
   * cannot give it or it is larger than a view of host memory can be: koffi.view
   * (a napi external ArrayBuffer) aborts the whole process above 4 GiB.
   */
  static alloc(size: number): Chunk {
    if (!(size > 0 && size <= MAX_CHUNK)) fail(E.ENOMEM);
    const pooled = poolTake(size, false);
    if (pooled !== null) return new Chunk({ addr: pooled.addr, size, ptr: null }).adopt(pooled.window);
    let block: HostBlock;
    try {
      block = hostAlloc(size);
    } catch {
      return fail(E.ENOMEM);
    }
    return new Chunk(block);
  }

  /** Address space only: pages are committed with `commit` (the heap). */
  static reserve(size: number): Chunk {
    const pooled = poolTake(size, true);
    const c = pooled !== null ? new Chunk({ addr: pooled.addr, size, ptr: null }).adopt(pooled.window) : new Chunk(hostReserve(size));
    c.reservation = true;
    c.committed = pooled?.used ?? 0;
    return c;
  }
}

export interface VmaInfo {
  /** what /proc/self/maps shows in its last column: a path, [heap], [stack]... */
  name: string;
  shared: boolean;
  /** file-backed mappings: offset of start within the file, and identity */
  offset: number;
  dev: number;
  ino: number;
}

export class Vma {
  constructor(
    public start: number,
    public end: number,
    public prot: number,
    public chunk: Chunk,
    /** offset of `start` within chunk */
    public off: number,
    public info: VmaInfo,
  ) {}
  get size(): number {
    return this.end - this.start;
  }
  hostAddr(addr: number): number {
    return this.chunk.addr + this.off + (addr - this.start);
  }
  /** A copy of this VMA cut to [start, end). */
  slice(start: number, end: number): Vma {
    const info = { ...this.info, offset: this.info.offset + (start - this.start) };
    return new Vma(start, end, this.prot, this.chunk, this.off + (start - this.start), info);
  }
}

export const anon = (name = ''): VmaInfo => ({ name, shared: false, offset: 0, dev: 0, ino: 0 });

/** What /proc/<pid>/maps calls shared anonymous memory (Linux backs it with a shmem file). */
export const SHARED_ANON_NAME = '/dev/zero (deleted)';

/** No file behind it: no name, or a kernel name such as [heap], [stack]. */
const isAnon = (info: VmaInfo): boolean => info.name === '' || info.name.startsWith('[');

/** End of the part of v that may be touched, given its chunk's `valid` bytes (v.end but for files' pages past EOF). */
const mappedEnd = (v: Vma, valid: number): number => {
  const lim = v.start + (valid - v.off);
  return lim >= v.end ? v.end : lim <= v.start ? v.start : lim;
};

/** Linux's per-arch layout constants, as `setarch -R` (no randomization) shows them. */
export interface Layout {
  /** highest user address + 1 */
  taskSize: number;
  stackTop: number;
  mmapBase: number;
  etDynBase: number;
}

export class AddressSpace {
  /** sorted by start, non-overlapping */
  vmas: Vma[] = [];
  brkStart = 0;
  brkCur = 0;
  private heap: Chunk | null = null;
  private last: Vma | null = null;

  constructor(
    readonly backend: MemBackend,
    readonly layout: Layout,
  ) {
    if ('space' in backend) (backend as { space: object | null }).space = this;
  }

  /** The regions an engine must hold to run in this space. */
  regions(): Array<{ start: number; end: number; prot: number; host: number }> {
    const out: Array<{ start: number; end: number; prot: number; host: number }> = [];
    for (const v of this.vmas) {
      const end = mappedEnd(v, v.chunk.valid);
      if (end > v.start) out.push({ start: v.start, end, prot: v.prot, host: v.hostAddr(v.start) });
    }
    return out;
  }

  // ---- the engine's view of a VMA ---------------------------------------------
  //
  // The engine maps all of a VMA except, for shared mappings of files, the
  // pages wholly past EOF (an access there faults, and becomes SIGBUS).

  private mapV(v: Vma): void {
    const end = mappedEnd(v, v.chunk.valid);
    if (end > v.start) this.backend.map(v.start, end - v.start, v.prot, v.hostAddr(v.start));
  }

  private unmapV(v: Vma): void {
    const end = mappedEnd(v, v.chunk.valid);
    if (end > v.start) this.backend.unmap(v.start, end - v.start);
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
  private pastEof(v: Vma, end: number): boolean {
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

  private index(addr: number): number {
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

  // ---- guest pointer access (EFAULT on anything not mapped with `prot`) ----

  /**
   * Calls fn(hostAddr, len, doneSoFar) for each host-contiguous piece of
   * [addr, addr+len); every byte must be mapped with `prot`, else EFAULT
   * before any piece is visited.
   */
  pieces(addr: number, len: number, prot: number, fn: (host: number, n: number, done: number) => boolean | void): void {
    if (len === 0) return;
    this.check(addr, len, prot);
    this.eachPiece(addr, len, fn);
  }

  /**
   * As pieces, over the part of [addr, addr+len) that is accessible from
   * its start (a copy to or from user memory stops at the first bad byte,
   * as on Linux): its length, or EFAULT if no byte of a non-empty range is.
   */
  prefixPieces(addr: number, len: number, prot: number, fn: (host: number, n: number, done: number) => boolean | void): number {
    const ok = this.accessiblePrefix(addr, len, prot);
    if (ok === 0 && len > 0) fail(E.EFAULT);
    this.eachPiece(addr, ok, fn);
    return ok;
  }

  /** fn for each host-contiguous piece of [addr, addr+len), which the caller has found mapped. */
  private eachPiece(addr: number, len: number, fn: (host: number, n: number, done: number) => boolean | void): void {
    let a = addr;
    let done = 0;
    while (done < len) {
      const v = this.find(a)!;
      const n = Math.min(v.end - a, len - done);
      if (fn(v.hostAddr(a), n, done) === false) return;
      a += n;
      done += n;
    }
  }

  /**
   * How many bytes from addr on are mapped with prot, up to len: where a
   * copy to or from user memory stops (Linux's copy_to_user/copy_from_user
   * copy what they can and report the rest).
   */
  accessiblePrefix(addr: number, len: number, prot: number): number {
    if (!(addr >= 0) || !Number.isSafeInteger(addr)) return 0;
    const end = Math.min(addr + len, this.layout.taskSize);
    let a = addr;
    while (a < end) {
      const v = this.find(a);
      if (v === null || (v.prot & prot) !== prot) break;
      const from = a;
      const e = Math.min(end, v.end);
      const pastEof = v.off + (e - v.start) > v.chunk.valid && this.pastEof(v, e);
      // pages of a shared file mapping past EOF: the kernel's own access gets EFAULT
      a = pastEof ? Math.max(a, Math.min(e, mappedEnd(v, v.chunk.valid))) : e;
      if (prot & PROT_WRITE && v.prot & PROT_EXEC && a > from) this.backend.codeWrite?.(from, a - from);
      if (pastEof) break;
    }
    return a - addr;
  }

  /** EFAULT unless all of [addr, addr+len) is mapped with prot. */
  check(addr: number, len: number, prot: number): void {
    if (!(addr >= 0) || addr + len > this.layout.taskSize || !Number.isSafeInteger(addr)) fail(E.EFAULT);
    if (this.accessiblePrefix(addr, len, prot) !== len) fail(E.EFAULT);
  }

  /**
   * Zero [addr, addr+len) if it lies within one VMA with prot (a small read
   * of /dev/zero): done in JS, no call into libc. False, and nothing written,
   * otherwise.
   */
  zeroWithin(addr: number, len: number, prot: number): boolean {
    const v = this.within(addr, len, prot);
    if (v === null) return false;
    v.chunk.zero(v.off + (addr - v.start), len);
    return true;
  }

  /** Host address of a range that lies within one VMA, or -1. */
  hostRange(addr: number, len: number, prot: number): number {
    return this.within(addr, len, prot)?.hostAddr(addr) ?? -1;
  }

  /**
   * The VMA that holds all of [addr, addr+len) with prot (and, for a file,
   * within its size), or null. Asked with PROT_WRITE, the caller is about to
   * store there: the backend hears of it if the VMA is executable.
   */
  private within(addr: number, len: number, prot: number): Vma | null {
    const v = this.find(addr);
    if (v === null || addr + len > v.end || (v.prot & prot) !== prot) return null;
    if (v.off + (addr + len - v.start) > v.chunk.valid && this.pastEof(v, addr + len)) return null;
    if (prot & PROT_WRITE && v.prot & PROT_EXEC) this.backend.codeWrite?.(addr, len);
    return v;
  }

  read(addr: number, len: number): Buffer {
    const out = Buffer.allocUnsafe(len);
    this.pieces(addr, len, PROT_READ, (_h, n, done) => {
      const v = this.find(addr + done)!;
      const o = v.off + (addr + done - v.start);
      out.set(v.chunk.range(o, n), done);
    });
    return out;
  }

  write(addr: number, data: Uint8Array): void {
    this.pieces(addr, data.length, PROT_WRITE, (_h, n, done) => {
      const v = this.find(addr + done)!;
      v.chunk.range(v.off + (addr + done - v.start), n).set(data.subarray(done, done + n));
    });
  }

  /** Write ignoring protections (the kernel's own writes: loader, initial stack). */
  poke(addr: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const v = this.find(addr + done);
      if (v === null) throw new Error(`poke into unmapped guest memory at 0x${(addr + done).toString(16)}`);
      const n = Math.min(v.end - (addr + done), data.length - done);
      if (this.pastEof(v, addr + done + n)) throw new Error(`poke past the end of a mapped file at 0x${(addr + done).toString(16)}`);
      if (v.prot & PROT_EXEC) this.backend.codeWrite?.(addr + done, n);
      v.chunk.range(v.off + (addr + done - v.start), n).set(data.subarray(done, done + n));
      done += n;
    }
  }

  /** A DataView and offset for an aligned scalar access; EFAULT if not mapped. */
  private scalar(addr: number, size: number, prot: number): [DataView, number] {
    const v = this.find(addr);
    if (v === null || addr + size > v.end || (v.prot & prot) !== prot || v.off + (addr + size - v.start) > v.chunk.valid) {
      this.check(addr, size, prot); // throws EFAULT if really bad
      // straddles two VMAs: fall back to a copy (a small Buffer is a slice of a shared pool)
      const b = this.read(addr, size);
      return [new DataView(b.buffer, b.byteOffset, b.byteLength), 0];
    }
    return v.chunk.viewAt(v.off + (addr - v.start), size);
  }

  u8(addr: number): number {
    const [dv, o] = this.scalar(addr, 1, PROT_READ);
    return dv.getUint8(o);
  }
  u32(addr: number): number {
    const [dv, o] = this.scalar(addr, 4, PROT_READ);
    return dv.getUint32(o, true);
  }
  i32(addr: number): number {
    const [dv, o] = this.scalar(addr, 4, PROT_READ);
    return dv.getInt32(o, true);
  }
  /** A 64-bit value as a number (exact below 2^53). */
  u64(addr: number): number {
    const [dv, o] = this.scalar(addr, 8, PROT_READ);
    return dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 0x100000000;
  }
  i64(addr: number): number {
    const [dv, o] = this.scalar(addr, 8, PROT_READ);
    return dv.getUint32(o, true) + dv.getInt32(o + 4, true) * 0x100000000;
  }
  big64(addr: number): bigint {
    const [dv, o] = this.scalar(addr, 8, PROT_READ);
    return dv.getBigUint64(o, true);
  }

  setU32(addr: number, val: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(val >>> 0);
    this.write(addr, b);
  }
  setI32(addr: number, val: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32LE(val | 0);
    this.write(addr, b);
  }
  setU64(addr: number, val: number | bigint): void {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(val)));
    this.write(addr, b);
  }

  /** A NUL-terminated string of at most max bytes (ENAMETOOLONG past it). */
  cstring(addr: number, max = 4096): Buffer {
    const parts: Buffer[] = [];
    let total = 0;
    let a = addr;
    for (;;) {
      const v = this.find(a);
      if (v === null || (v.prot & PROT_READ) === 0) fail(E.EFAULT);
      let lim = mappedEnd(v, v.chunk.valid);
      if (a >= lim && !this.pastEof(v, a + 1)) lim = mappedEnd(v, v.chunk.valid);
      if (a >= lim) fail(E.EFAULT);
      const o = v.off + (a - v.start);
      const avail = Math.min(lim - a, max - total + 1);
      const seg = v.chunk.range(o, avail);
      const nul = seg.indexOf(0);
      const take = nul >= 0 ? nul : avail;
      if (total + take >= max) fail(E.ENAMETOOLONG);
      parts.push(Buffer.from(seg.subarray(0, take)));
      total += take;
      if (nul >= 0) break;
      a += avail;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  // ---- mapping ------------------------------------------------------------

  /** Map fresh zeroed anonymous memory at [start, start+len), replacing what was there. */
  mapAnon(start: number, len: number, prot: number, info: VmaInfo = anon()): Vma {
    const chunk = Chunk.alloc(len);
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
  private dropUnused(chunks: Iterable<Chunk>): void {
    for (const c of chunks) {
      if (c.users === null || !c.users.has(this) || this.vmas.some((v) => v.chunk === c)) continue;
      c.users.delete(this);
      if (c.users.size > 0) continue;
      c.releaseFrom(this.backend);
      c.freeAll();
      c.onFree?.();
    }
  }

  /**
   * mprotect. As Linux, VMA by VMA from start: a hole gives ENOMEM and PROT_WRITE
   * over a read-only shared file mapping EACCES, after the pages before it changed.
   */
  protect(start: number, end: number, prot: number): void {
    if (start >= end) return;
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

  /** Merge neighbours that Linux would show as one VMA (same chunk, contiguous, same attributes). */
  private mergeAround(start: number, end: number): void {
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

  // ---- brk ----------------------------------------------------------------

  setBrkStart(addr: number): void {
    this.brkStart = this.brkCur = addr;
  }

  brk(want: number): number {
    if (want < this.brkStart) return this.brkCur;
    const oldTop = pageUp(this.brkCur);
    const newTop = pageUp(want);
    if (newTop > oldTop) {
      if (newTop - this.brkStart > HEAP_RESERVE || !this.isFree(oldTop, newTop - oldTop) || newTop >= this.layout.mmapBase)
        return this.brkCur;
      // The heap lives in one host reservation, so its pieces merge into one [heap] VMA.
      if (this.heap === null) this.heap = Chunk.reserve(HEAP_RESERVE);
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
      this.removeRange(newTop, oldTop);
    }
    this.brkCur = want;
    return want;
  }

  // ---- mremap ---------------------------------------------------------------

  /** Move/resize the mapping at [old, old+oldLen) (anonymous private memory). */
  remap(old: number, oldLen: number, newLen: number, mayMove: boolean, fixedAt: number | null): number {
    if (fixedAt !== null && !(fixedAt >= 0 && fixedAt + newLen <= this.layout.taskSize)) fail(E.EINVAL);
    const v = this.find(old);
    if (v === null || old + oldLen > v.end) fail(E.EFAULT);
    // old_size 0 duplicates a shared mapping; a private one it would not duplicate (vma_to_resize)
    if (oldLen === 0 && !v.info.shared) fail(E.EINVAL);
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
        chunk = Chunk.reserve(Math.min(MAX_CHUNK, 2 * (v.size + grow)));
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
    const chunk = Chunk.alloc(newLen);
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
      const chunk = Chunk.mapShared(b.fd, fileAt(v.start), v.size + grow, !c.readOnly);
      this.insert(new Vma(v.start, v.end + grow, v.prot, chunk, 0, { ...v.info }));
      return old;
    }
    if (!mayMove && fixedAt === null) fail(E.ENOMEM);
    const dest = fixedAt ?? this.findFree(newLen);
    const chunk = Chunk.mapShared(b.fd, fileAt(old), newLen, !c.readOnly);
    const info = { ...v.info, offset: v.info.offset + (old - v.start) };
    const prot = v.prot;
    if (oldLen > 0) this.removeRange(old, old + oldLen);
    this.insert(new Vma(dest, dest + newLen, prot, chunk, 0, info));
    return dest;
  }

  /**
   * msync(2) over [start, end), as mm/msync.c walks it: holes give ENOMEM (at
   * once for plain MS_ASYNC, else after the rest is done); MS_SYNC writes back
   * the pages of writable shared file mappings (the host's msync does it).
   */
  msync(start: number, end: number, flags: number): number {
    const MS_ASYNC = 1;
    const MS_SYNC = 4;
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
    const MADV_REMOVE = 9;
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

  /** A VMA over a private copy of its pages (copy-on-write of a shared chunk, done eagerly). */
  private privateCopy(v: Vma): Vma {
    const chunk = Chunk.alloc(v.size);
    if (v.chunk.backing !== null) {
      // a file's pages: all of them (mincore tells what is in the page cache, not what the file holds)
      const n = mappedEnd(v, v.chunk.valid) - v.start;
      if (n > 0) hostMemmove(chunk.addr, v.hostAddr(v.start), n);
    } else hostCopyResident(chunk.addr, v.hostAddr(v.start), v.size);
    return new Vma(v.start, v.end, v.prot, chunk, 0, { ...v.info });
  }

  /**
   * Copy every VMA into an empty address space (fork): same layout; writable
   * memory is copied (only the pages ever touched), memory without write
   * permission is shared until one side makes it writable.
   *
   * `swap`: the child takes this space's writable memory as it is, and this
   * space goes on with the copies. The engine holds this space's memory while
   * its process forks; if the child runs first, the engine already holds the
   * child's memory and only the parent's return switches it (one switch a
   * fork instead of two: each moves the window's aliases of data, heap and
   * stack, see Cpu.activate). The engine must not run this space again
   * before activating it anew (Cpu.deactivate). Returns each move of this
   * space's pages: [old host address, new host address, bytes].
   */
  forkInto(child: AddressSpace, swap = false): Array<[from: number, to: number, size: number]> {
    child.brkStart = this.brkStart;
    child.brkCur = this.brkCur;
    const moved: Array<[number, number, number]> = [];
    /** the child's VMA over v's copy in `chunk` at `off` (or, with swap, over v's own pages) */
    const give = (v: Vma, chunk: Chunk, off: number): Vma => {
      let c: Vma;
      if (swap) {
        c = new Vma(v.start, v.end, v.prot, v.chunk, v.off, { ...v.info });
        moved.push([v.hostAddr(v.start), chunk.addr + off, v.size]);
        v.chunk = chunk;
        v.off = off;
      } else c = new Vma(v.start, v.end, v.prot, chunk, off, { ...v.info });
      child.vmas.push(c);
      child.mapV(c);
      return c;
    };
    for (const v of this.vmas) {
      let chunk: Chunk;
      let off = 0;
      if ((!(v.prot & PROT_WRITE) && v.chunk !== this.heap) || v.chunk.backing !== null) {
        // read-only memory is shared until one side makes it writable; MAP_SHARED memory always
        chunk = v.chunk;
        chunk.users ??= new Set([this]);
        chunk.users.add(child);
        const c = new Vma(v.start, v.end, v.prot, chunk, v.off, { ...v.info });
        child.vmas.push(c);
        child.mapV(c);
        continue;
      }
      if (v === this.stack) {
        // the child's stack keeps its room to grow: a chunk as large as the reservation
        chunk = Chunk.alloc(v.off + v.size);
        off = v.off;
        chunk.dataFrom = off;
        hostCopyResident(chunk.addr + off, v.hostAddr(v.start), v.size);
        child.stack = give(v, chunk, off);
        continue;
      }
      if (v.chunk === this.heap) {
        child.heap ??= Chunk.reserve(HEAP_RESERVE);
        chunk = child.heap;
        off = v.off;
        chunk.commit(off, v.size);
      } else chunk = Chunk.alloc(v.size);
      hostCopyResident(chunk.addr + off, v.hostAddr(v.start), v.size);
      if (chunk !== child.heap) chunk.inheritSource(v.chunk, v.off);
      give(v, chunk, off);
    }
    if (swap && child.heap !== null) [this.heap, child.heap] = [child.heap, this.heap];
    return moved;
  }

  /**
   * This space is about to be destroyed (its process exited, or exec'd)
   * while the engine still maps its memory (`holds`): `heir`, the space that
   * runs next most likely (the parent's, or the exec'd image's), takes that
   * memory wherever it has a VMA just like one of this space's: it is made
   * to hold what the heir's own memory there holds (touched pages only), and
   * this space ends with the heir's. The heir then runs on what the engine
   * maps, without switching the engine's memory (a forked child runs on the
   * parent's memory, see forkInto; an exec'd busybox maps its data where the
   * shell that forked it has its own). Only VMAs over private anonymous
   * memory that no other VMA uses, not executable, the same range and
   * protection, the heap for the heap and the stack for the stack. Returns
   * each move of the heir's pages: [old host address, new host address,
   * bytes] (their futexes go with them).
   */
  giveTo(heir: AddressSpace, holds: (start: number, end: number, host: number) => boolean): Array<[from: number, to: number, size: number]> {
    const moved: Array<[number, number, number]> = [];
    /** v's memory is private anonymous memory, and v the only VMA over it in `space` */
    const alone = (v: Vma, space: AddressSpace): boolean =>
      v.chunk.users === null && v.chunk.backing === null && v.chunk.source === null && !space.vmas.some((o) => o !== v && o.chunk === v.chunk);
    for (const mine of this.vmas) {
      // code translated from these pages would outlive the copy over them;
      // past GIVE_MAX the copy (all the heir's touched pages) may cost more
      // than the switch it saves (a remap: tens of µs)
      if (mine.prot & PROT_EXEC || !(mine.prot & PROT_WRITE) || mine.size > GIVE_MAX) continue;
      const theirs = heir.find(mine.start);
      if (
        theirs === null ||
        theirs.start !== mine.start ||
        theirs.end !== mine.end ||
        theirs.prot !== mine.prot ||
        theirs.chunk === mine.chunk ||
        (mine.chunk === this.heap) !== (theirs.chunk === heir.heap) ||
        (mine === this.stack) !== (theirs === heir.stack) ||
        !alone(mine, this) ||
        !alone(theirs, heir) ||
        !holds(mine.start, mine.end, mine.hostAddr(mine.start))
      )
        continue;
      const to = mine.hostAddr(mine.start);
      const from = theirs.hostAddr(theirs.start);
      hostCopyOver(to, from, mine.size);
      moved.push([from, to, mine.size]);
      const [chunk, off] = [mine.chunk, mine.off];
      [mine.chunk, mine.off] = [theirs.chunk, theirs.off];
      [theirs.chunk, theirs.off] = [chunk, off];
      if (chunk === this.heap) [this.heap, heir.heap] = [heir.heap, this.heap];
    }
    if (moved.length > 0) heir.last = null;
    return moved;
  }

  /** The [stack] VMA grows down on demand (like Linux's VM_GROWSDOWN), within its reservation. */
  stack: Vma | null = null;

  /** A fault at addr: grow the stack down to it if Linux would. */
  growStack(addr: number, limit: number): boolean {
    const v = this.stack;
    if (v === null || addr >= v.start || !this.vmas.includes(v)) return false;
    const top = v.end;
    const floor = Math.max(top - Math.min(limit, v.off + v.size), top - (v.off + v.size));
    if (addr < floor) return false;
    const start = Math.max(floor, pageDown(addr) - 16 * PAGE);
    if (!this.isFree(start, v.start - start)) return false;
    const grown = new Vma(start, v.end, v.prot, v.chunk, v.off - (v.start - start), v.info);
    v.chunk.dataFrom = Math.min(v.chunk.dataFrom, grown.off);
    this.unmapV(v);
    this.vmas[this.vmas.indexOf(v)] = grown;
    this.mapV(grown);
    this.stack = grown;
    this.last = null;
    return true;
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
      } else hostZeroPages(v.hostAddr(a), e - a);
      a = e;
    }
  }


  /**
   * Release everything (process exit, exec). Private chunks go back whole (to
   * the pool when they can), not VMA by VMA; shared ones are left by this
   * user and freed by their last.
   */
  destroy(): void {
    const own = new Set<Chunk>();
    const shared: Vma[] = [];
    for (const v of this.vmas) {
      if (v.chunk.users === null && v.chunk.backing === null) {
        this.unmapV(v);
        own.add(v.chunk);
      } else shared.push(v);
    }
    if (this.heap !== null) own.add(this.heap);
    this.vmas = shared;
    this.last = null;
    this.stack = null;
    this.heap = null;
    for (const c of own) {
      c.releaseFrom(this.backend);
      c.recycle();
    }
    this.removeRange(0, this.layout.taskSize);
  }

  /** /proc/self/maps lines, formatted as fs/proc/task_mmu.c does. */
  maps(): string[] {
    const hex = (n: number): string => n.toString(16).padStart(8, '0');
    const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
    return this.vmas.map((v) => {
      const p =
        (v.prot & PROT_READ ? 'r' : '-') +
        (v.prot & PROT_WRITE ? 'w' : '-') +
        (v.prot & PROT_EXEC ? 'x' : '-') +
        (v.info.shared ? 's' : 'p');
      // st_dev as glibc encodes it (gnu_dev_major/minor): minors above 255 are split.
      const lo = v.info.dev >>> 0;
      const hi = Math.floor(v.info.dev / 0x100000000);
      const major = (((lo >>> 8) & 0xfff) | (hi & 0xfffff000)) >>> 0;
      const minor = ((lo & 0xff) | ((lo >>> 12) & 0xfff00) | ((hi & 0xfff) << 20)) >>> 0;
      // Every line ends its fields with a space; a name is then padded to column 73.
      const offset = isAnon(v.info) ? 0 : v.info.offset; // Linux shows a file offset for files only
      const head = `${hex(v.start)}-${hex(v.end)} ${p} ${hex(offset)} ${hex2(major)}:${hex2(minor)} ${v.info.ino} `;
      return v.info.name ? `${head.padEnd(72)} ${v.info.name}` : head;
    });
  }
}
