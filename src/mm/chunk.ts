// Chunk: a piece of host memory holding one or more VMAs' pages (a block of
// the host's mmap, a reservation committed on demand, or a host MAP_SHARED
// mapping of a file), with the JS window over it and how it goes back to the
// host (piece by piece, whole, or to the pool of its HostMemory).
import { S_IFMT, S_IFREG } from '../abi/stat.js';
import { F_DUPFD_CLOEXEC } from '../abi/fcntl.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import {
  host,
  hostAlloc,
  hostAllocAt,
  hostFileInfo,
  hostMapShared,
  hostReserve,
  hostFree,
  hostViewAt,
  swapOn,
  type HostBlock,
} from '../host/libc.js';
import type { MemBackend } from './backend.js';
import type { ChunkWindow, HostMemory } from './host-memory.js';
import type { LazyPages } from './lazy.js';
import { pageUp } from './layout.js';

/** Largest piece of host memory one Chunk may view (see Chunk.alloc). */
export const MAX_CHUNK = 2 ** 32;
/** views of a chunk grow by this much (see Chunk.cover) */
const WINDOW_STEP = 65536;

/**
 * An address space using a chunk shared by fork or MAP_SHARED: its VMAs over
 * the chunk leave the engine and come back when the chunk's `valid` changes.
 */
export interface ChunkUser {
  /** The engine drops this chunk's VMAs (its `valid` is about to change). */
  unmapChunk(c: Chunk): void;
  /** The engine maps this chunk's VMAs again (after `valid` changed). */
  mapChunk(c: Chunk): void;
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
  users: Set<ChunkUser> | null = null;
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
  constructor(
    /** the Machine's host memory, where the chunk goes back to when no VMA uses it */
    readonly memory: HostMemory,
    block: HostBlock,
  ) {
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
  static mapShared(memory: HostMemory, fd: number, offset: number, size: number, writable: boolean, own = false): Chunk {
    if (!(size > 0 && size <= MAX_CHUNK)) fail(E.ENOMEM);
    const info = hostFileInfo(fd);
    if (typeof info === 'number') fail(-info);
    const block = hostMapShared(fd, offset, size, writable);
    if (typeof block === 'number') return fail(-block);
    let keep = fd;
    if (!own) {
      keep = host.fcntl(fd, F_DUPFD_CLOEXEC, 0);
      if (keep < 0) {
        hostFree(block.addr, block.size);
        fail(-keep);
      }
    }
    const c = new Chunk(memory, block);
    c.backing = { fd: keep, offset, regular: (info.mode & S_IFMT) === S_IFREG };
    c.readOnly = !writable;
    c.users = new Set();
    if (c.backing.regular) {
      c.valid = c.validFor(info.size);
      if (!own) memory.addSharedFile(c);
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
  /**
   * Memory charged to --max-memory as it is touched (lazy.ts): the pieces
   * touched, which alone the engine maps. null: all of it is mapped.
   */
  lazy: LazyPages | null = null;
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
    this.lazy?.clearWithin(off, len);
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
    this.lazy = null;
    if (this.backing === null && this.freed.length === 0 && !swapOn()) {
      const used = this.reservation ? this.committed : this.size;
      const window = this.wbytes === null ? null : { lo: this.wlo, bytes: this.wbytes, dv: this.wdv! };
      if (this.memory.put({ addr: this.addr, size: this.size, used, from: Math.min(this.dataFrom, used), reservation: this.reservation, window })) {
        this.freed = [[0, this.size]];
        this.freedBytes = this.size;
        return;
      }
    }
    this.freeAll();
  }

  /** Be the private copy of `fd`'s bytes from `offset` on (a duplicate of fd is kept), valid for its first `valid` bytes. */
  copyOf(fd: number, offset: number, valid: number): void {
    const keep = host.fcntl(fd, F_DUPFD_CLOEXEC, 0);
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
    this.lazy = null;
    if (this.backing !== null) {
      this.memory.dropSharedFile(this);
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
  static alloc(memory: HostMemory, size: number): Chunk {
    if (!(size > 0 && size <= MAX_CHUNK)) fail(E.ENOMEM);
    const pooled = memory.take(size, false);
    if (pooled !== null) return new Chunk(memory, { addr: pooled.addr, size, ptr: null }).adopt(pooled.window);
    let block: HostBlock;
    try {
      block = hostAlloc(size);
    } catch {
      return fail(E.ENOMEM);
    }
    return new Chunk(memory, block);
  }

  /** Address space only: pages are committed with `commit` (the heap). */
  static reserve(memory: HostMemory, size: number): Chunk {
    const pooled = memory.take(size, true);
    const c = pooled !== null ? new Chunk(memory, { addr: pooled.addr, size, ptr: null }).adopt(pooled.window) : new Chunk(memory, hostReserve(size));
    c.reservation = true;
    c.committed = pooled?.used ?? 0;
    return c;
  }
}
