// Linux native AIO: io_setup, io_destroy, io_submit, io_cancel,
// io_getevents, io_pgetevents (fs/aio.c). The contexts and their rings are
// fs/aio.ts's; here are the syscalls' checks, in Linux's order, and their
// waits.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, SysError } from '../../abi/errors.js';
import { Blocked } from '../../ctx/waitq.js';
import { EventFd } from '../../fs/eventfd.js';
import { PipeEnd } from '../../fs/pipe.js';
import { Socket } from '../../net/socket.js';
import { aioLimits, destroyContext, lookupContext, PollRequest, pollEvents, setupContext, type AioContext, type AioEvent } from '../../fs/aio.js';
import { UNBLOCKABLE } from '../../proc/signals.js';
import { nowMs } from '../../host/clock.js';
import { iovecs, raisingSigpipe, type Iov } from './fs.js';
import { hostRegular, RWF_ATOMIC, RWF_DONTCACHE, RWF_NOWAIT, transferAt } from './io.js';
import { checkIoprio } from './runtime.js';
import { partial, supported, type Def } from './util.js';

const IOCB_CMD_PREAD = 0;
const IOCB_CMD_PWRITE = 1;
const IOCB_CMD_FSYNC = 2;
const IOCB_CMD_FDSYNC = 3;
const IOCB_CMD_POLL = 5;
const IOCB_CMD_PREADV = 7;
const IOCB_CMD_PWRITEV = 8;
const IOCB_FLAG_RESFD = 1;
const IOCB_FLAG_IOPRIO = 2;
const RWF_SUPPORTED = 0x1ff;
/** struct iocb */
const IOCB_SIZE = 64;

function ioSetup(t: Task, nr: number, ctxp: number): number {
  if (t.mm.u64(ctxp) !== 0 || nr === 0) fail(E.EINVAL);
  const ctx = setupContext(t.mm, aioLimits(t.vfs), nr);
  try {
    t.mm.setU64(ctxp, ctx.id);
  } catch (e) {
    destroyContext(t.mm, ctx);
    throw e;
  }
  return 0;
}

function ioDestroy(t: Task, id: number): number {
  destroyContext(t.mm, lookupContext(t.mm, id));
  return 0;
}

/** The iocb at addr, its fields by name (struct iocb, little-endian on both arches). */
interface Iocb {
  addr: number;
  data: bigint;
  rwFlags: number;
  opcode: number;
  reqprio: number;
  fildes: number;
  buf: bigint;
  nbytes: bigint;
  offset: bigint;
  reserved2: bigint;
  flags: number;
  resfd: number;
}

function readIocb(t: Task, addr: number): Iocb {
  const b = t.mm.read(addr, IOCB_SIZE);
  return {
    addr,
    data: b.readBigUInt64LE(0),
    rwFlags: b.readUInt32LE(12),
    opcode: b.readUInt16LE(16),
    reqprio: b.readInt16LE(18),
    fildes: b.readUInt32LE(20),
    buf: b.readBigUInt64LE(24),
    nbytes: b.readBigUInt64LE(32),
    offset: b.readBigInt64LE(40),
    reserved2: b.readBigUInt64LE(48),
    flags: b.readUInt32LE(56),
    resfd: b.readUInt32LE(60),
  };
}

/**
 * io_submit_one: EFAULT, EINVAL or EAGAIN before a request exists; then
 * __io_submit_one's checks. The request completes (into the ring) or is armed
 * (IOCB_CMD_POLL); a pipe or socket read waits here, as Linux's does.
 */
function submitOne(t: Task, ctx: AioContext, addr: number): void {
  const cb = readIocb(t, addr);
  if (cb.reserved2 !== 0n) fail(E.EINVAL);
  if (cb.nbytes > 0x7fffffffffffffffn) fail(E.EINVAL);
  if (!ctx.takeSlot()) fail(E.EAGAIN);
  try {
    submitReq(t, ctx, cb);
  } catch (e) {
    ctx.putSlots(1);
    throw e;
  }
}

function submitReq(t: Task, ctx: AioContext, cb: Iocb): void {
  const f = t.fds.file(cb.fildes > 0x7fffffff ? -1 : cb.fildes);
  let eventfd: EventFd | null = null;
  if (cb.flags & IOCB_FLAG_RESFD) {
    const e = t.fds.file(cb.resfd > 0x7fffffff ? -1 : cb.resfd);
    if (!(e instanceof EventFd)) fail(E.EINVAL);
    eventfd = e;
  }
  t.mm.setU32(cb.addr + 8, 0); // aio_key: KIOCB_KEY
  const ev: AioEvent = { data: cb.data, obj: cb.addr, res: 0 };
  switch (cb.opcode) {
    case IOCB_CMD_PREAD:
    case IOCB_CMD_PREADV:
    case IOCB_CMD_PWRITE:
    case IOCB_CMD_PWRITEV: {
      const write = cb.opcode === IOCB_CMD_PWRITE || cb.opcode === IOCB_CMD_PWRITEV;
      // aio_prep_rw: the priority, then the RWF_* flags as kiocb_set_rw_flags checks them
      if (cb.flags & IOCB_FLAG_IOPRIO) checkIoprio(t, cb.reqprio);
      const flags = cb.rwFlags;
      const stream = f instanceof PipeEnd || f instanceof Socket;
      if (flags & ~RWF_SUPPORTED) fail(E.ENOTSUP);
      if (!hostRegular(f)) {
        if (flags & RWF_NOWAIT && !stream) fail(E.ENOTSUP);
        if (flags & (RWF_ATOMIC | RWF_DONTCACHE)) fail(E.ENOTSUP);
      }
      if (write ? !f.writable : !f.readable) fail(E.EBADF);
      const vectored = cb.opcode === IOCB_CMD_PREADV || cb.opcode === IOCB_CMD_PWRITEV;
      const iov: Iov[] = vectored ? iovecs(t, Number(cb.buf), Number(cb.nbytes)) : [{ base: Number(cb.buf), len: Number(cb.nbytes) }];
      // rw_verify_area
      if (cb.offset < 0n) fail(E.EINVAL);
      const pos = Number(cb.offset);
      let res: number;
      try {
        res = write ? raisingSigpipe(t, () => transferAt(t, f, iov, pos, flags, true)) : transferAt(t, f, iov, pos, flags, false);
      } catch (e) {
        // the transfer's own error is the event's result (aio_rw_done); a wait goes up to io_submit
        if (!(e instanceof SysError)) throw e;
        res = -e.errno;
      }
      ctx.complete({ ...ev, res }, eventfd);
      return;
    }
    case IOCB_CMD_FSYNC:
    case IOCB_CMD_FDSYNC: {
      if (cb.buf !== 0n || cb.offset !== 0n || cb.nbytes !== 0n || cb.rwFlags !== 0) fail(E.EINVAL);
      let res: number;
      try {
        res = f.fsync();
      } catch (e) {
        if (!(e instanceof SysError)) throw e;
        // a file without fsync (a pipe, a socket) cannot take the request at all
        if (e.errno === E.EINVAL) throw e;
        res = -e.errno;
      }
      ctx.complete({ ...ev, res }, eventfd);
      return;
    }
    case IOCB_CMD_POLL: {
      if (cb.buf > 0xffffn) fail(E.EINVAL);
      if (cb.offset !== 0n || cb.nbytes !== 0n || cb.rwFlags !== 0) fail(E.EINVAL);
      const events = pollEvents(Number(cb.buf));
      const mask = f.poll(t, events) & events;
      if (mask !== 0) ctx.complete({ ...ev, res: mask }, eventfd);
      else new PollRequest(ctx, t, f, events, ev, eventfd);
      return;
    }
    default:
      // IOCB_CMD_NOOP too: Linux takes no such request
      fail(E.EINVAL);
  }
}

/**
 * io_submit: the iocbs in turn, up to the ring's size; the count submitted
 * before the first that fails, or its error if none. A read that waits
 * (a pipe, a socket) parks the call at that iocb; a retry goes on from it.
 */
function ioSubmit(t: Task, id: number, nr: number, iocbpp: number): number {
  if (nr < 0) fail(E.EINVAL);
  const ctx = lookupContext(t.mm, id);
  if (nr > ctx.nrEvents) nr = ctx.nrEvents;
  const from = t.restarting && t.restartState !== null ? t.restartState : 0;
  return submitFrom(t, ctx, iocbpp, from, nr, false);
}

/**
 * The iocbs from `from` on. `interrupted`: a signal is pending (it ended the
 * wait of the read at `from - 1`), so a read that would wait ends at once
 * with EINTR in its event, as Linux's does with a signal pending, and the
 * rest go on being submitted.
 */
function submitFrom(t: Task, ctx: AioContext, iocbpp: number, from: number, nr: number, interrupted: boolean): number {
  for (let i = from; i < nr; i++) {
    let addr = 0;
    try {
      addr = t.mm.u64(iocbpp + i * 8);
      submitOne(t, ctx, addr);
    } catch (e) {
      if (e instanceof Blocked) {
        if (interrupted) {
          if (!interruptedRead(t, ctx, addr)) return i;
          continue;
        }
        t.restartState = i;
        const at = addr;
        // aio_rw_done: an interrupted transfer completes with EINTR (it is never restarted); io_submit goes on with the rest
        const onInterrupt = (): number => (interruptedRead(t, ctx, at) ? submitFrom(t, ctx, iocbpp, i + 1, nr, true) : i > 0 ? i : -E.EINTR);
        throw new Blocked(e.queues, e.deadline, 'sys', e.interruptible, null, onInterrupt);
      }
      if (e instanceof SysError) return i > 0 ? i : -e.errno;
      throw e;
    }
  }
  return nr;
}

/** The request of the iocb at addr ends with EINTR (its eventfd signalled); false if there is no slot for it any more. */
function interruptedRead(t: Task, ctx: AioContext, addr: number): boolean {
  if (ctx.dead || !ctx.takeSlot()) return false;
  const cb = readIocb(t, addr);
  let eventfd: EventFd | null = null;
  if (cb.flags & IOCB_FLAG_RESFD) {
    const fd = cb.resfd > 0x7fffffff ? -1 : cb.resfd;
    const f = t.fds.has(fd) ? t.fds.file(fd) : null;
    if (f instanceof EventFd) eventfd = f;
  }
  ctx.complete({ data: cb.data, obj: addr, res: -E.EINTR }, eventfd);
  return true;
}

/** io_cancel: only an armed IOCB_CMD_POLL can be (EINPROGRESS: its event is in the ring); anything else EINVAL. */
function ioCancel(t: Task, id: number, iocb: number): number {
  const key = t.mm.u32(iocb + 8);
  if (key !== 0) fail(E.EINVAL);
  const ctx = lookupContext(t.mm, id);
  const req = ctx.active.get(iocb);
  if (req === undefined) fail(E.EINVAL);
  req.cancel();
  return -E.EINPROGRESS;
}

/** what a parked io_getevents has collected, and until when it waits */
const waits = new WeakMap<Task, { got: number; deadline: number }>();

/**
 * io_getevents and io_pgetevents: at least min_nr events (fewer when the
 * timeout ends the wait, or a signal: EINTR only if none were taken), at
 * most nr, into the array at events.
 */
function getEvents(t: Task, id: number, minNr: number, nr: number, events: number, timeout: number, restart: 'intr' | 'nohand'): number {
  let w = t.restarting ? waits.get(t) : undefined;
  if (w === undefined) {
    let deadline = Infinity;
    if (timeout !== 0) {
      const b = t.mm.read(timeout, 16);
      // Linux takes the time as it is (no check of tv_nsec); a negative one waits without end, as 6.x was seen to
      const ms = Number(b.readBigInt64LE(0)) * 1e3 + Number(b.readBigInt64LE(8)) / 1e6;
      deadline = ms < 0 ? Infinity : ms === 0 ? 0 : nowMs() + ms;
    }
    w = { got: 0, deadline };
  }
  waits.delete(t);
  const ctx = lookupContext(t.mm, id);
  if (!(minNr <= nr && minNr >= 0)) fail(E.EINVAL);
  for (;;) {
    if (ctx.dead) return w.got > 0 ? w.got : fail(E.EINVAL);
    let n: number;
    try {
      n = ctx.take(t.mm, events + w.got * 32, nr - w.got);
    } catch (e) {
      if (w.got > 0 && e instanceof SysError) return w.got;
      throw e;
    }
    w.got += n;
    if (w.got >= minNr) return w.got;
    if (w.deadline === 0 || nowMs() >= w.deadline) return w.got;
    waits.set(t, w);
    t.block([ctx.wait], { deadline: w.deadline, restart, ...(w.got > 0 ? { partial: w.got } : {}) });
  }
}

function ioPgetevents(t: Task, id: number, minNr: number, nr: number, events: number, timeout: number, usig: number): number {
  let maskAddr = 0;
  if (usig !== 0) {
    const u = t.mm.read(usig, 16);
    maskAddr = Number(u.readBigUInt64LE(0));
    // set_user_sigmask: the temporary mask, restored on return, or once a handler has run (savedMask)
    if (maskAddr !== 0 && !t.restarting) {
      if (Number(u.readBigUInt64LE(8)) !== 8) fail(E.EINVAL);
      const m = t.mm.big64(maskAddr);
      t.savedMask = t.sigmask;
      t.sigmask = m & ~UNBLOCKABLE;
    }
  }
  try {
    const r = getEvents(t, id, minNr, nr, events, timeout, 'nohand');
    restoreMask(t, maskAddr);
    return r;
  } catch (e) {
    if (!(e instanceof Blocked)) restoreMask(t, maskAddr);
    throw e;
  }
}

function restoreMask(t: Task, maskAddr: number): void {
  if (maskAddr !== 0 && t.savedMask !== null) {
    t.sigmask = t.savedMask;
    t.savedMask = null;
  }
}

const SUBMIT_NOTE =
  'reads and writes complete within io_submit, as Linux does for buffered files (O_DIRECT too: the host does them synchronously); ' +
  'an IOCB_CMD_POLL that completes later reports every event the file has (Linux: the wake-up\'s events); on a host socket or tty it is seen only when the host poller watches that fd';

export const aioDefs: Record<string, Def> = {
  io_setup: supported({ args: ['uint', 'aioctxout'], ret: 'int' }, (t, a) => ioSetup(t, a.u32(0), a.ptr(1))),
  io_destroy: supported({ args: ['hex'], ret: 'int' }, (t, a) => ioDestroy(t, a.ptr(0))),
  io_submit: partial({ args: ['hex', 'int', 'iocbs'], ret: 'int' }, (t, a) => ioSubmit(t, a.ptr(0), Number(BigInt.asIntN(64, a.big(1))), a.ptr(2)), SUBMIT_NOTE),
  io_cancel: supported({ args: ['hex', 'iocb', 'ptr'], ret: 'int' }, (t, a) => ioCancel(t, a.ptr(0), a.ptr(1))),
  io_getevents: supported({ args: ['hex', 'int', 'int', 'ioevents', 'ts'], ret: 'int' }, (t, a) =>
    getEvents(t, a.ptr(0), Number(BigInt.asIntN(64, a.big(1))), Number(BigInt.asIntN(64, a.big(2))), a.ptr(3), a.ptr(4), 'intr'),
  ),
  io_pgetevents: supported({ args: ['hex', 'int', 'int', 'ioevents', 'ts', 'aiosigset'], ret: 'int' }, (t, a) =>
    ioPgetevents(t, a.ptr(0), Number(BigInt.asIntN(64, a.big(1))), Number(BigInt.asIntN(64, a.big(2))), a.ptr(3), a.ptr(4), a.ptr(5)),
  ),
};
