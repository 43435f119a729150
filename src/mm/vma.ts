// Vma: one mapping of an address space (a page range over part of a Chunk),
// and what /proc/<pid>/maps says of it (VmaInfo).
import type { Chunk } from './chunk.js';

export interface VmaInfo {
  /** what /proc/self/maps shows in its last column: a path, [heap], [stack]... */
  name: string;
  shared: boolean;
  /** file-backed mappings: offset of start within the file, and identity */
  offset: number;
  dev: number;
  ino: number;
  /** mlock's VM_LOCKED (1) and VM_LOCKONFAULT (2) bits; absent: 0 */
  locked?: number;
  /** the kernel object the mapping belongs to beyond its file (a SysV shm attach): copied with the VMA by splits, fork and mremap */
  owner?: VmaOwner;
  /** mbind's NUMA policy for the mapping (absent: none, the thread's applies); copied by splits, fork and mremap */
  policy?: MemPolicy;
  /** mseal's VM_SEALED: no unmapping, remapping, protection change or discarding advice; kept by splits and fork */
  sealed?: boolean;
}

/** A NUMA memory policy (Linux's struct mempolicy, as far as a one-node machine shows it). */
export interface MemPolicy {
  /** the mode, with its mode flags (MPOL_F_STATIC_NODES...) */
  readonly mode: number;
  /** the nodes get_mempolicy reports: the caller's own with the static or relative flags, else those that exist */
  readonly nodes: bigint;
  /** set_mempolicy_home_node's node, or -1 */
  readonly home: number;
}

/** Linux's mpol_equal: do two mappings' policies (or their absence) let them merge? */
export const samePolicy = (a: MemPolicy | undefined, b: MemPolicy | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.mode === b.mode && a.nodes === b.nodes && a.home === b.home);

/** A kernel object that made a mapping and finds its VMAs again (shmdt, shm_nattch). */
export interface VmaOwner {
  readonly kind: 'sysv-shm';
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
  ) {
    // a VMA with bounds that are not page numbers would match every lookup (NaN compares false)
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start) throw new Error(`internal: a mapping [${start}, ${end}) is not a range of addresses`);
  }
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
export const isAnon = (info: VmaInfo): boolean => info.name === '' || info.name.startsWith('[');

/** End of the part of v that may be touched, given its chunk's `valid` bytes (v.end but for files' pages past EOF). */
export const mappedEnd = (v: Vma, valid: number): number => {
  const lim = v.start + (valid - v.off);
  return lim >= v.end ? v.end : lim <= v.start ? v.start : lim;
};
