// AddressSpace: a guest address space, the class the kernel uses. Its VMAs
// are page-granular, each backed by host memory (a Chunk) and mirrored into
// the CPU engine with uc_mem_map_ptr, so syscalls read and write guest memory
// in place. The engine is behind MemBackend so this class is testable
// without Unicorn.
//
// It is built in layers, one concern each: VmaSet (vma-set.ts: the VMAs and
// the engine's mirror of them), GuestMemory (access.ts: the kernel's access
// to guest memory), Mappings (mapping.ts: mprotect, brk, mremap, msync,
// madvise), and here its lifecycle: fork, the give-back of a dying space's
// memory to its heir, and destruction. Chunks are in chunk.ts, the host
// memory pool in host-memory.ts, the /proc/<pid>/maps text in procfs.ts.
import { PROT_EXEC, PROT_WRITE } from '../abi/mman.js';
import { hostCopyOver, hostCopyResident, hostRemapShared } from '../host/libc.js';
import type { MemBackend } from './backend.js';
import { Chunk } from './chunk.js';
import type { HostMemory } from './host-memory.js';
import type { Layout } from './layout.js';
import { HEAP_RESERVE, Mappings } from './mapping.js';
import { mapsLines } from './procfs.js';
import { Vma } from './vma.js';
import { PAGE } from './layout.js';


/** The largest VMA a dying space gives its heir (AddressSpace.giveTo). */
const GIVE_MAX = 1 << 20;

export class AddressSpace extends Mappings {
  /** membarrier(2)'s registrations (its MEMBARRIER_CMD_REGISTER_* bits): a fork keeps them, an exec starts without */
  membarrier = 0;
  /** run when the space is destroyed (exit, exec): kernel objects that belong to it, such as AIO contexts, end with it */
  readonly onDestroy = new Set<() => void>();
  constructor(backend: MemBackend, layout: Layout, memory: HostMemory) {
    super(backend, layout, memory);
    if ('space' in backend) (backend as { space: object | null }).space = this;
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
    child.membarrier = this.membarrier;
    // a child's mappings are not locked, nor are its future ones (Linux's dup_mmap and def_flags)
    child.brkStart = this.brkStart;
    child.brkCur = this.brkCur;
    const moved: Array<[number, number, number]> = [];
    /** the child's VMA over v's copy in `chunk` at `off` (or, with swap, over v's own pages) */
    const give = (v: Vma, chunk: Chunk, off: number): Vma => {
      let c: Vma;
      if (swap) {
        c = new Vma(v.start, v.end, v.prot, v.chunk, v.off, { ...v.info, locked: 0 });
        moved.push([v.hostAddr(v.start), chunk.addr + off, v.size]);
        v.chunk = chunk;
        v.off = off;
      } else c = new Vma(v.start, v.end, v.prot, chunk, off, { ...v.info, locked: 0 });
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
        const c = new Vma(v.start, v.end, v.prot, chunk, v.off, { ...v.info, locked: 0 });
        child.vmas.push(c);
        child.mapV(c);
        continue;
      }
      if (v === this.stack) {
        // the child's stack keeps its room to grow: a chunk as large as the reservation
        chunk = Chunk.alloc(this.memory, v.off + v.size);
        off = v.off;
        chunk.dataFrom = off;
        hostCopyResident(chunk.addr + off, v.hostAddr(v.start), v.size);
        child.stack = give(v, chunk, off);
        continue;
      }
      if (v.chunk === this.heap) {
        child.heap ??= Chunk.reserve(this.memory, HEAP_RESERVE);
        chunk = child.heap;
        off = v.off;
        chunk.commit(off, v.size);
      } else if (v.chunk.lazy !== null) {
        // memory charged as touched: the child's copy at the same offsets, so
        // that it has the same pieces touched (the kernel charges them once the
        // child is in its tables: the copy is made now, where Linux copies
        // and charges each page at its copy-on-write)
        off = v.off;
        chunk = Chunk.alloc(this.memory, off + v.size);
        const lazy = (chunk.lazy = v.chunk.lazy.copy());
        lazy.clearWithin(0, off);
        lazy.clearWithin(off + v.size, lazy.size - off - v.size);
      } else chunk = Chunk.alloc(this.memory, v.size);
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

  /**
   * Release everything (process exit, exec). Private chunks go back whole (to
   * the pool when they can), not VMA by VMA; shared ones are left by this
   * user and freed by their last.
   */
  destroy(): void {
    // the kernel objects that live with the space (AIO contexts) go first
    for (const fn of this.onDestroy) fn();
    this.onDestroy.clear();
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
  /**
   * The host raised SIGBUS at these host addresses while the engine ran (the
   * trampoline put zero pages there): a host file mapped shared shrank under
   * the guest. The file's pages go back in place, every shared file mapping
   * is cut at its file's new end, and the guest address of the first is
   * returned (-1 if none was this space's).
   */
  hostBus(hostAddrs: readonly number[]): number {
    let guest = -1;
    for (const h of hostAddrs) {
      const page = h - (h % PAGE);
      const v = this.vmas.find((v) => v.chunk.backing !== null && h >= v.chunk.addr + v.off && h < v.chunk.addr + v.off + v.size);
      if (v === undefined) continue;
      const c = v.chunk;
      hostRemapShared(page, c.backing!.fd, c.backing!.offset + (page - c.addr), PAGE, !c.readOnly);
      if (guest < 0) guest = v.start + (h - c.addr - v.off);
    }
    this.memory.refreshSharedFiles();
    return guest;
  }

  maps(): string[] {
    return mapsLines(this.vmas);
  }
}
