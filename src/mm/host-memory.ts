// HostMemory: the host memory of one Machine's address spaces, beyond what
// their VMAs hold: the pool of whole private chunks that dead address spaces
// left behind, the chunks that map regular files MAP_SHARED (whose mapped
// length follows the file's size), and the read-only pages of the programs
// and libraries it runs. The Kernel owns one; every
// AddressSpace and Chunk of the Machine gets it at construction, so two
// Machines in one Node process never hand each other memory.
import type { Chunk } from './chunk.js';
import { hostFree, hostZeroResident } from '../host/libc.js';

// ---- the pool of host memory ---------------------------------------------------
//
// Whole private chunks of dead address spaces (a forked child's data, heap and
// stack, an exec'd image's) are kept for the next ones, which mostly need the
// same sizes: a shell's children are copies of the shell. Reusing them skips
// the host's munmap (a TLB shootdown across Node's threads), mmap and the
// page faults of fresh memory. A reused chunk reads as zero: its touched
// pages are cleared, and they stay resident.

/** A view of a chunk's host memory from offset lo (see Chunk.cover). */
export interface ChunkWindow {
  lo: number;
  bytes: Uint8Array;
  dv: DataView;
}

/** A pooled chunk's host memory. */
export interface Pooled {
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

/** at most this many chunks and bytes (of `used`) are kept; the oldest go back to the host */
const POOL_ENTRIES = 16;
const POOL_BYTES = 64 << 20;
/** larger pieces are given back at once */
const POOL_MAX = 16 << 20;

/** A chunk mapping a regular file MAP_SHARED (Chunk.mapShared). */
export interface SharedFileChunk {
  /** Look at the file's size again; the mappings of every user follow it. */
  refresh(): void;
}

export class HostMemory {
  private readonly pool: Pooled[] = [];
  private pooledBytes = 0;
  /** Shared chunks of regular files, whose `valid` must follow the file's size. */
  private readonly fileChunks = new Set<SharedFileChunk>();
  /**
   * Read-only pages of executables and libraries, by file identity, offset,
   * size and protection (the loader's key): every process running a file maps
   * the same host memory, so the engine keeps its translated code across fork
   * and exec. A chunk leaves when its last user frees it.
   */
  readonly images = new Map<string, Chunk>();
  /**
   * Under --max-memory, the kernel's charge of the memory an address space
   * touches first in a lazy chunk (lazy.ts); its OOM killer may act then.
   * null: no cap, and no chunk is lazy.
   */
  charge: ((space: object, bytes: number) => void) | null = null;

  /** Keep a dead chunk's memory for reuse; false if it is too large to keep (the caller frees it). */
  put(e: Pooled): boolean {
    if (e.used > POOL_MAX) return false;
    const pool = this.pool;
    while (pool.length > 0 && (pool.length >= POOL_ENTRIES || this.pooledBytes + e.used > POOL_BYTES)) {
      const old = pool.shift()!;
      this.pooledBytes -= old.used;
      hostFree(old.addr, old.size);
    }
    pool.push(e);
    this.pooledBytes += e.used;
    return true;
  }

  /** A pooled chunk of this size and kind, zeroed, or null. The most recently pooled first. */
  take(size: number, reservation: boolean): Pooled | null {
    const pool = this.pool;
    for (let i = pool.length - 1; i >= 0; i--) {
      const e = pool[i];
      if (e.size !== size || e.reservation !== reservation) continue;
      pool.splice(i, 1);
      this.pooledBytes -= e.used;
      hostZeroResident(e.addr + e.from, e.used - e.from);
      return e;
    }
    return null;
  }

  /** How many chunks, and how many bytes that may hold data, the pool keeps. */
  get pooled(): { entries: number; bytes: number } {
    return { entries: this.pool.length, bytes: this.pooledBytes };
  }

  /** Give every pooled chunk back to the host (the Machine is done). */
  drain(): void {
    for (const e of this.pool.splice(0)) hostFree(e.addr, e.size);
    this.pooledBytes = 0;
  }

  // ---- shared mappings of files ------------------------------------------------

  addSharedFile(c: SharedFileChunk): void {
    this.fileChunks.add(c);
  }

  dropSharedFile(c: SharedFileChunk): void {
    this.fileChunks.delete(c);
  }

  /**
   * Files may have shrunk (truncate, ftruncate, O_TRUNC...): every shared
   * mapping of a file re-checks its end, so that no page past EOF stays mapped
   * in an engine (the host would SIGBUS elfrun itself on access).
   */
  refreshSharedFiles(): void {
    for (const c of this.fileChunks) c.refresh();
  }

  /** Are there shared mappings of files whose size matters? */
  sharedFilesMapped(): boolean {
    return this.fileChunks.size > 0;
  }
}
