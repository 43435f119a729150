// Linux native AIO (fs/aio.c): contexts, their rings and their requests.
//
// A context's ring lives in the guest's memory, as Linux's: a MAP_SHARED
// mapping of an anonymous "[aio]" file (a host memfd here), so a program
// (libaio's io_getevents) may read the events and move the head itself. The
// kernel's side keeps a mapping of the same memfd of its own, so what the
// guest does to its mapping (munmap, mprotect) never pulls the ring out from
// under a completion. The context id is the ring's address; the ring's id
// field is the context's slot in its address space's table, by which
// lookup_ioctx finds it, as Linux's. Request slots are counted as Linux's
// reqs_available with its per-CPU batches, for one CPU.
//
// Reads and writes complete within io_submit, as Linux's do for buffered
// files (a pipe or socket read waits in io_submit itself: Linux has no
// worker for them); IOCB_CMD_POLL waits on the file's wait queues and
// completes when they are woken with one of its events, or is cancelled.
import { readFileSync } from 'node:fs';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { POLLERR, POLLHUP } from '../abi/poll.js';
import { WaitQueue, type Waiter } from '../ctx/waitq.js';
import { hostFree, hostMapShared, hostMemfd, hostView, host, type HostBlock } from '../host/libc.js';
import type { AddressSpace } from '../mm/address-space.js';
import { Chunk } from '../mm/chunk.js';
import { Vma } from '../mm/vma.js';
import { PAGE } from '../mm/layout.js';
import { PROT_READ, PROT_WRITE } from '../abi/mman.js';
import type { IoContext } from './context.js';
import type { FileDescription } from './file.js';
import type { EventFd } from './eventfd.js';

export const AIO_RING_MAGIC = 0xa10a10a1;
/** struct aio_ring and struct io_event are 32 bytes each */
const RING_HEADER = 32;
const EVENT = 32;

/** The machine's aio-nr and aio-max-nr (/proc/sys/fs): the sum of the nr_events of live contexts, and its limit. */
export class AioLimits {
  nr = 0;
  maxNr = 65536;
}

/** num_possible_cpus() of the host, which sizes rings and request batches as Linux's do */
function possibleCpus(): number {
  try {
    let n = 0;
    for (const part of readFileSync('/sys/devices/system/cpu/possible', 'latin1').trim().split(',')) {
      const [a, b] = part.split('-').map(Number);
      n += b === undefined ? 1 : b - a + 1;
    }
    return n > 0 ? n : 1;
  } catch {
    return 1;
  }
}
const CPUS = possibleCpus();

/** One completion: struct io_event. */
export interface AioEvent {
  data: bigint;
  obj: number;
  res: number;
}

/** An armed IOCB_CMD_POLL: woken by the file's queues, cancellable by io_cancel. */
export class PollRequest implements Waiter {
  private readonly queues: WaitQueue[];
  constructor(
    private readonly ctx: AioContext,
    private readonly t: IoContext,
    private readonly file: FileDescription,
    private readonly events: number,
    private readonly ev: AioEvent,
    private readonly eventfd: EventFd | null,
  ) {
    this.queues = file.pollQueues(t, events);
    for (const q of this.queues) q.add(this);
    ctx.active.set(ev.obj, this);
  }

  /** A queue of the file was woken: done if one of the events is there (its result every event the file has, as the wake's key gives them). */
  wake(): void {
    const mask = this.file.poll(this.t, this.events);
    if (!(mask & this.events)) return;
    this.finish(mask);
  }

  /** io_cancel, or the context's end: the events there are now, which may be none. */
  cancel(): void {
    this.finish(this.file.poll(this.t, this.events) & this.events);
  }

  private finish(res: number): void {
    for (const q of this.queues) q.remove(this);
    this.ctx.active.delete(this.ev.obj);
    this.ctx.complete({ ...this.ev, res }, this.eventfd);
  }
}

export class AioContext {
  /** the ring's address in the guest: the context's id */
  readonly id: number;
  /** the ring's size in bytes, and its number of events */
  readonly size: number;
  readonly nrEvents: number;
  /** what io_setup was asked for: counted against aio-max-nr */
  readonly maxReqs: number;
  /** the kernel's own view of the ring */
  private readonly ring: DataView;
  private readonly block: HostBlock;
  private readonly memfd: number;
  /** the kernel's copy of the tail (the guest may write the ring's) */
  private tail = 0;
  private completedEvents = 0;
  private reqsAvailable: number;
  private cpuReqs = 0;
  private readonly reqBatch: number;
  dead = false;
  /** woken by each completion (io_getevents waits here) */
  readonly wait = new WaitQueue('aio');
  /** requests io_cancel can cancel, by their iocb's address */
  readonly active = new Map<number, PollRequest>();

  constructor(
    private readonly mm: AddressSpace,
    private readonly limits: AioLimits,
    /** the slot in the address space's table: the ring's id */
    readonly slot: number,
    maxReqs: number,
    nrEvents: number,
  ) {
    this.maxReqs = maxReqs;
    const pages = Math.ceil((RING_HEADER + EVENT * (nrEvents + 2)) / PAGE);
    this.size = pages * PAGE;
    this.nrEvents = (this.size - RING_HEADER) / EVENT;
    const memfd = hostMemfd('[aio]');
    if (memfd < 0) fail(E.EAGAIN);
    if (host.ftruncate(memfd, this.size) < 0) {
      host.close(memfd);
      fail(E.EAGAIN);
    }
    const block = hostMapShared(memfd, 0, this.size, true);
    if (typeof block === 'number') {
      host.close(memfd);
      fail(E.EAGAIN);
    }
    this.memfd = memfd;
    this.block = block;
    this.ring = new DataView(hostView(block));
    let start: number;
    try {
      start = mm.findFree(this.size, 0);
      const chunk = Chunk.mapShared(mm.memory, memfd, 0, this.size, true);
      // Linux shows the ring as its anonymous file: "/[aio] (deleted)", on the anonymous-inode device
      mm.insert(new Vma(start, start + this.size, PROT_READ | PROT_WRITE, chunk, 0, { name: '/[aio] (deleted)', shared: true, offset: 0, dev: 15, ino: slot + 1 }));
    } catch (e) {
      this.release();
      throw e;
    }
    this.id = start;
    const r = this.ring;
    r.setUint32(0, slot, true);
    r.setUint32(4, this.nrEvents, true);
    r.setUint32(16, AIO_RING_MAGIC, true);
    r.setUint32(20, 1, true); // compat_features
    r.setUint32(24, 0, true); // incompat_features
    r.setUint32(28, RING_HEADER, true);
    this.reqsAvailable = this.nrEvents - 1;
    this.reqBatch = Math.max(1, Math.floor((this.nrEvents - 1) / (CPUS * 4)));
  }

  private release(): void {
    hostFree(this.block.addr, this.block.size);
    host.close(this.memfd);
  }

  private get head(): number {
    return this.ring.getUint32(8, true);
  }

  /** get_reqs_available: a slot for one more request, or false (io_submit's EAGAIN) */
  takeSlot(): boolean {
    if (this.takeCpuSlot()) return true;
    // user_refill_reqs_available: events the guest reaped give their slots back
    if (this.completedEvents > 0) this.refill(this.head);
    return this.takeCpuSlot();
  }

  private takeCpuSlot(): boolean {
    if (this.cpuReqs === 0) {
      if (this.reqsAvailable < this.reqBatch) return false;
      this.reqsAvailable -= this.reqBatch;
      this.cpuReqs += this.reqBatch;
    }
    this.cpuReqs--;
    return true;
  }

  /** put_reqs_available */
  putSlots(n: number): void {
    this.cpuReqs += n;
    while (this.cpuReqs >= this.reqBatch * 2) {
      this.cpuReqs -= this.reqBatch;
      this.reqsAvailable += this.reqBatch;
    }
  }

  /** refill_reqs_available: the completed events no longer in the ring give their slots back */
  private refill(head: number): void {
    head %= this.nrEvents;
    const inRing = head <= this.tail ? this.tail - head : this.nrEvents - (head - this.tail);
    const done = this.completedEvents > inRing ? this.completedEvents - inRing : 0;
    if (done === 0) return;
    this.completedEvents -= done;
    this.putSlots(done);
  }

  /** aio_complete: the event goes into the ring at the tail; the eventfd is signalled and waiters woken. */
  complete(ev: AioEvent, eventfd: EventFd | null): void {
    if (this.dead) return;
    const off = (this.tail + 1) * EVENT;
    const r = this.ring;
    r.setBigUint64(off, ev.data, true);
    r.setBigUint64(off + 8, BigInt(ev.obj), true);
    r.setBigInt64(off + 16, BigInt(ev.res), true);
    r.setBigInt64(off + 24, 0n, true);
    if (++this.tail >= this.nrEvents) this.tail = 0;
    r.setUint32(12, this.tail, true);
    this.completedEvents++;
    if (this.completedEvents > 1) this.refill(this.head);
    eventfd?.signal();
    this.wait.wake();
  }

  /**
   * aio_read_events_ring: up to nr events from the head into the guest's
   * array at dst (in mm, the caller's memory); how many. EFAULT leaves them
   * in the ring.
   */
  take(mm: AddressSpace, dst: number, nr: number): number {
    let head = this.head;
    let tail = this.ring.getUint32(12, true);
    if (head === tail) return 0;
    head %= this.nrEvents;
    tail %= this.nrEvents;
    let got = 0;
    const bytes = new Uint8Array(this.ring.buffer);
    while (got < nr) {
      if (head === tail) break;
      const avail = Math.min((head <= tail ? tail : this.nrEvents) - head, nr - got);
      mm.write(dst + got * EVENT, bytes.subarray((head + 1) * EVENT, (head + 1 + avail) * EVENT));
      got += avail;
      head = (head + avail) % this.nrEvents;
    }
    this.ring.setUint32(8, head, true);
    return got;
  }

  /** kill_ioctx: the ring is unmapped, pending requests cancelled, the count given back */
  kill(): void {
    if (this.dead) return;
    for (const p of [...this.active.values()]) p.cancel();
    this.dead = true;
    this.limits.nr -= this.maxReqs;
    this.wait.wake();
    this.release();
  }

  /** io_destroy unmaps whatever is where the ring was (vm_munmap of its range) */
  unmap(): void {
    this.mm.removeRange(this.id, this.id + this.size);
  }
}

/** Each address space's contexts by slot (mm->ioctx_table): a forked child has none, nor an exec'd image. */
const tables = new WeakMap<AddressSpace, Map<number, AioContext>>();

/**
 * io_setup's ioctx_alloc: a context of nr events (already checked against
 * 0) in mm, counted in limits; EINVAL or EAGAIN as Linux's.
 */
export function setupContext(mm: AddressSpace, limits: AioLimits, nr: number): AioContext {
  const maxReqs = nr >>> 0;
  // room for the events other CPUs may hold, doubled as Linux does (u32 arithmetic)
  const nrEvents = (Math.max(maxReqs, CPUS * 4) * 2) >>> 0;
  if (nrEvents > 0x10000000 / EVENT) fail(E.EINVAL);
  if (nrEvents === 0 || maxReqs > limits.maxNr) fail(E.EAGAIN);
  let table = tables.get(mm);
  if (table === undefined) {
    table = new Map();
    tables.set(mm, table);
    const own = table;
    mm.onDestroy.add(() => {
      for (const c of own.values()) c.kill();
      own.clear();
    });
  }
  let slot = 0;
  while (table.has(slot)) slot++;
  if (limits.nr + maxReqs > limits.maxNr) fail(E.EAGAIN);
  const ctx = new AioContext(mm, limits, slot, maxReqs, nrEvents);
  limits.nr += maxReqs;
  table.set(slot, ctx);
  return ctx;
}

/** lookup_ioctx: the ring's id field names the slot, whose context must have this id (EINVAL otherwise). */
export function lookupContext(mm: AddressSpace, id: number): AioContext {
  const table = tables.get(mm);
  if (table === undefined) fail(E.EINVAL);
  let slot: number;
  try {
    slot = mm.u32(id);
  } catch {
    return fail(E.EINVAL);
  }
  const ctx = table.get(slot);
  if (ctx === undefined || ctx.id !== id || ctx.dead) fail(E.EINVAL);
  return ctx;
}

/** io_destroy: the context leaves its table, its ring is unmapped. */
export function destroyContext(mm: AddressSpace, ctx: AioContext): void {
  tables.get(mm)?.delete(ctx.slot);
  ctx.kill();
  ctx.unmap();
}

/** IOCB_CMD_POLL's events as Linux's aio_poll takes them: always POLLERR and POLLHUP too. */
export const pollEvents = (events: number): number => events | POLLERR | POLLHUP;

const machineLimits = new WeakMap<object, AioLimits>();
/** The machine's AIO counts, by its Vfs (one per Machine). */
export function aioLimits(vfs: object): AioLimits {
  let l = machineLimits.get(vfs);
  if (l === undefined) {
    l = new AioLimits();
    machineLimits.set(vfs, l);
  }
  return l;
}
