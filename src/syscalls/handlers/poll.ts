// poll, ppoll, select, pselect6: readiness from each open file; the task
// parks on the files' queues (and its deadline) until something changes.
import type { Task } from '../../proc/task.js';
import type { WaitQueue } from '../../ctx/waitq.js';
import type { Restart } from '../../abi/restart.js';
import { SIG, bit } from '../../abi/signal.js';
import { EPOLL_CLOEXEC, EPOLL_CTL_DEL, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../../abi/poll.js';
import { O_RDWR } from '../../abi/fcntl.js';
import { S_IFDIR, S_IFMT, S_IFREG } from '../../abi/stat.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { partial, supported, timeDeadline, type Def, deadlineOf } from './util.js';
import { EpollFile, epollEventLayout, epollWait } from '../../fs/epoll.js';
import { statFields } from '../../fs/stat.js';
import type { Args } from '../../cpu/args.js';
import { nowMs } from '../../host/clock.js';

const UNBLOCKABLE = bit(SIG.SIGKILL) | bit(SIG.SIGSTOP);


function writeRemaining(t: Task, addr: number, deadline: number, usec: boolean): void {
  if (addr === 0 || deadline === Infinity) return;
  const left = Math.max(0, deadline - nowMs());
  const b = Buffer.alloc(16);
  const sec = Math.floor(left / 1e3);
  b.writeBigInt64LE(BigInt(sec), 0);
  b.writeBigInt64LE(BigInt(Math.floor((left - sec * 1e3) * (usec ? 1e3 : 1e6))), 8);
  try {
    t.mm.write(addr, b);
  } catch {
    /* Linux ignores a failure to write the remaining time back */
  }
}

/** ppoll/pselect6's temporary signal mask: set on entry, restored on return. */
function setTempMask(t: Task, maskAddr: number, size: number): void {
  if (maskAddr === 0 || t.restarting) return;
  if (size !== 8) fail(E.EINVAL);
  const m = t.mm.big64(maskAddr);
  t.savedMask = t.sigmask;
  t.sigmask = m & ~UNBLOCKABLE;
}

function restoreTempMask(t: Task, maskAddr: number): void {
  if (maskAddr !== 0 && t.savedMask !== null) {
    t.sigmask = t.savedMask;
    t.savedMask = null;
  }
}

function doPoll(t: Task, fdsAddr: number, nfds: number, deadline: number, restart: Restart, onInterrupt?: () => void): number {
  if (nfds > t.fds.limit) fail(E.EINVAL);
  const raw = t.mm.read(fdsAddr, nfds * 8);
  let count = 0;
  const queues: WaitQueue[] = [];
  for (let i = 0; i < nfds; i++) {
    const fd = raw.readInt32LE(i * 8);
    const events = raw.readUInt16LE(i * 8 + 4);
    let revents = 0;
    if (fd >= 0) {
      if (!t.fds.has(fd)) revents = POLLNVAL;
      else {
        const f = t.fds.file(fd);
        revents = f.poll(t, events) & (events | POLLERR | POLLHUP);
        if (revents === 0) queues.push(...f.pollQueues(t, events));
      }
    }
    raw.writeUInt16LE(revents, i * 8 + 6);
    if (revents) count++;
  }
  if (count === 0 && nowMs() < deadline) t.block(queues, { deadline, restart, onInterrupt });
  t.mm.write(fdsAddr, raw);
  return count;
}

const FD_BITS = 64;

function doSelect(t: Task, nfds: number, rAddr: number, wAddr: number, xAddr: number, deadline: number, onInterrupt: () => void): number {
  if (nfds < 0) fail(E.EINVAL);
  nfds = Math.min(nfds, t.fds.limit);
  const bytes = Math.ceil(nfds / FD_BITS) * 8;
  const sets = [rAddr, wAddr, xAddr].map((a) => (a === 0 ? null : t.mm.read(a, bytes)));
  const out = sets.map((s) => (s === null ? null : Buffer.alloc(bytes)));
  const want = [POLLIN | POLLRDNORM | POLLHUP | POLLERR, POLLOUT | POLLWRNORM | POLLERR, POLLPRI | POLLRDBAND | POLLWRBAND];
  let count = 0;
  const queues: WaitQueue[] = [];
  for (let fd = 0; fd < nfds; fd++) {
    const byte = fd >> 3;
    const m = 1 << (fd & 7);
    const asked = sets.map((s) => s !== null && (s[byte] & m) !== 0);
    if (!asked.some(Boolean)) continue;
    if (!t.fds.has(fd)) fail(E.EBADF);
    const f = t.fds.file(fd);
    const events = (asked[0] ? POLLIN : 0) | (asked[1] ? POLLOUT : 0) | (asked[2] ? POLLPRI : 0);
    const rev = f.poll(t, events);
    let hit = false;
    for (let k = 0; k < 3; k++) {
      if (asked[k] && rev & want[k]) {
        out[k]![byte] |= m;
        count++;
        hit = true;
      }
    }
    if (!hit) queues.push(...f.pollQueues(t, events));
  }
  // select, pselect6: ERESTARTNOHAND, the time left written back on EINTR too
  if (count === 0 && nowMs() < deadline) t.block(queues, { deadline, restart: 'nohand', onInterrupt });
  [rAddr, wAddr, xAddr].forEach((a, k) => a !== 0 && t.mm.write(a, out[k]!));
  return count;
}

export const pollDefs: Record<string, Def> = {
  poll: supported({ args: ['pollfds', 'uint', 'int'], ret: 'poll' }, (t, a) => {
    const ms = a.i32(2);
    const deadline = deadlineOf(t, () => (ms < 0 ? Infinity : nowMs() + ms));
    // a timeout resumes through restart_syscall with what is left of it
    return doPoll(t, a.ptr(0), a.u32(1), deadline, deadline === Infinity ? 'nohand' : 'block');
  }),
  ppoll: supported({ args: ['pollfds', 'uint', 'ts', 'sigset', 'size'], ret: 'ppoll' }, (t, a) => {
    const deadline = deadlineOf(t, () => timeDeadline(t, a.ptr(2)));
    setTempMask(t, a.ptr(3), a.u64(4));
    const r = doPoll(t, a.ptr(0), a.u32(1), deadline, 'nohand', () => writeRemaining(t, a.ptr(2), deadline, false));
    restoreTempMask(t, a.ptr(3));
    writeRemaining(t, a.ptr(2), deadline, false);
    return r;
  }),
  select: supported({ args: ['int', 'fdset', 'fdset', 'fdset', 'tv'], ret: 'select' }, (t, a) => {
    const deadline = deadlineOf(t, () => timeDeadline(t, a.ptr(4), 'rel', true));
    const r = doSelect(t, a.i32(0), a.ptr(1), a.ptr(2), a.ptr(3), deadline, () => writeRemaining(t, a.ptr(4), deadline, true));
    writeRemaining(t, a.ptr(4), deadline, true);
    return r;
  }),
  pselect6: supported({ args: ['int', 'fdset', 'fdset', 'fdset', 'ts', 'pselectmask'], ret: 'pselect6' }, (t, a) => {
    const deadline = deadlineOf(t, () => timeDeadline(t, a.ptr(4)));
    let maskAddr = 0;
    let size = 8;
    if (a.ptr(5) !== 0) {
      maskAddr = t.mm.u64(a.ptr(5));
      size = t.mm.u64(a.ptr(5) + 8);
    }
    setTempMask(t, maskAddr, size);
    const r = doSelect(t, a.i32(0), a.ptr(1), a.ptr(2), a.ptr(3), deadline, () => writeRemaining(t, a.ptr(4), deadline, false));
    restoreTempMask(t, maskAddr);
    writeRemaining(t, a.ptr(4), deadline, false);
    return r;
  }),
};

// ---- epoll -------------------------------------------------------------------------

const EP_MAX_EVENTS = 0x7fffffff / 16;

function epollCreate(t: Task, flags: number): number {
  if (flags & ~EPOLL_CLOEXEC) fail(E.EINVAL);
  return t.fds.add(new EpollFile(O_RDWR, t.vfs.anonIno('epoll')), (flags & EPOLL_CLOEXEC) !== 0);
}

function epollOf(t: Task, epfd: number): EpollFile {
  const f = t.fds.file(epfd);
  if (!(f instanceof EpollFile)) fail(E.EINVAL);
  return f;
}

function epollCtl(t: Task, epfd: number, op: number, fd: number, eventAddr: number): number {
  // Linux's order: the event is read first (EFAULT), then both fds (EBADF), the target's poll support (EPERM), the epoll (EINVAL)
  let events = 0;
  let data = 0n;
  if (op !== EPOLL_CTL_DEL) {
    const { size, dataOff } = epollEventLayout(t);
    const b = t.mm.read(eventAddr, size);
    events = b.readUInt32LE(0);
    data = b.readBigUInt64LE(dataOff);
  }
  const epf = t.fds.file(epfd);
  const f = t.fds.file(fd);
  // regular files and directories have no poll method: Linux refuses them
  let type = 0;
  try {
    type = statFields(f.statBytes(t)).mode & S_IFMT;
  } catch {
    /* no inode: pollable */
  }
  if (type === S_IFREG || type === S_IFDIR) fail(E.EPERM);
  if (!(epf instanceof EpollFile) || f === epf) fail(E.EINVAL);
  epf.ctl(t, op, fd, f, events, data);
  return 0;
}

function epollPwait(t: Task, a: Args, deadline: number, maskAddr: number, size: number): number {
  const ep = epollOf(t, a.i32(0));
  const max = a.i32(2);
  if (max <= 0 || max > EP_MAX_EVENTS) fail(E.EINVAL);
  setTempMask(t, maskAddr, size);
  const r = epollWait(t, ep, a.ptr(1), max, deadline);
  restoreTempMask(t, maskAddr);
  return r;
}

const EPOLL_NOTE = 'items hook their files\' wake-ups (Linux\'s ep_poll_callback): EPOLLET reports once per wake-up after the last report (a host socket\'s or host pipe\'s edges come from a host epoll holding it with EPOLLET), EPOLLONESHOT disarms until EPOLL_CTL_MOD, EPOLLEXCLUSIVE wakes one of several epolls, nesting with ELOOP past EPOLL_MAX_NESTS; lacks: wake-ups carry no event key (an EPOLLET item wakes on any change of its file\'s queues), and an inotify instance watching host files has edges only when it turns readable';
const msDeadline = (ms: number): number => (ms < 0 ? Infinity : nowMs() + ms);

export const epollDefs: Record<string, Def> = {
  epoll_create: partial({ args: ['int'], ret: 'fd' }, (t, a) => (a.i32(0) <= 0 ? fail(E.EINVAL) : epollCreate(t, 0)), EPOLL_NOTE),
  epoll_create1: partial({ args: ['epollflags'], ret: 'fd' }, (t, a) => epollCreate(t, a.i32(0)), EPOLL_NOTE),
  epoll_ctl: partial(['fd', 'epollop', 'fd', 'epollev'], (t, a) => epollCtl(t, a.i32(0), a.i32(1), a.i32(2), a.ptr(3)), EPOLL_NOTE),
  epoll_wait: partial(['fd', 'epollevs', 'int', 'int'], (t, a) => epollPwait(t, a, deadlineOf(t, () => msDeadline(a.i32(3))), 0, 8), EPOLL_NOTE),
  epoll_pwait: partial(['fd', 'epollevs', 'int', 'int', 'sigset', 'size'], (t, a) => epollPwait(t, a, deadlineOf(t, () => msDeadline(a.i32(3))), a.ptr(4), a.u64(5)), EPOLL_NOTE),
  epoll_pwait2: partial(['fd', 'epollevs', 'int', 'ts', 'sigset', 'size'], (t, a) => epollPwait(t, a, deadlineOf(t, () => timeDeadline(t, a.ptr(3))), a.ptr(4), a.u64(5)), EPOLL_NOTE),
};
