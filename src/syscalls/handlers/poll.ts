// poll, ppoll, select, pselect6: readiness from each open file; the task
// parks on the files' queues (and its deadline) until something changes.
import type { Task } from '../../proc/task.js';
import type { WaitQueue } from '../../proc/waitq.js';
import { SIG, bit } from '../../proc/signals.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM } from '../../fs/file.js';
import { E, fail } from '../errno.js';
import { supported, timeDeadline, type Def, deadlineOf } from './util.js';

const UNBLOCKABLE = bit(SIG.SIGKILL) | bit(SIG.SIGSTOP);
const POLLRDBAND = 0x80;
const POLLWRBAND = 0x200;


function writeRemaining(t: Task, addr: number, deadline: number, usec: boolean): void {
  if (addr === 0 || deadline === Infinity) return;
  const left = Math.max(0, deadline - performance.now());
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

function doPoll(t: Task, fdsAddr: number, nfds: number, deadline: number): number {
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
  if (count === 0 && performance.now() < deadline) t.block(queues, { deadline, restartable: false });
  t.mm.write(fdsAddr, raw);
  return count;
}

const FD_BITS = 64;

function doSelect(t: Task, nfds: number, rAddr: number, wAddr: number, xAddr: number, deadline: number): number {
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
  if (count === 0 && performance.now() < deadline) t.block(queues, { deadline, restartable: false });
  [rAddr, wAddr, xAddr].forEach((a, k) => a !== 0 && t.mm.write(a, out[k]!));
  return count;
}

export const pollDefs: Record<string, Def> = {
  poll: supported((t, a) => {
    const ms = a.i32(2);
    const deadline = deadlineOf(t, () => (ms < 0 ? Infinity : performance.now() + ms));
    return doPoll(t, a.ptr(0), a.u32(1), deadline);
  }),
  ppoll: supported((t, a) => {
    const deadline = deadlineOf(t, () => timeDeadline(t, a.ptr(2)));
    setTempMask(t, a.ptr(3), a.u64(4));
    const r = doPoll(t, a.ptr(0), a.u32(1), deadline);
    restoreTempMask(t, a.ptr(3));
    writeRemaining(t, a.ptr(2), deadline, false);
    return r;
  }),
  select: supported((t, a) => {
    const deadline = deadlineOf(t, () => timeDeadline(t, a.ptr(4), 'rel', true));
    const r = doSelect(t, a.i32(0), a.ptr(1), a.ptr(2), a.ptr(3), deadline);
    writeRemaining(t, a.ptr(4), deadline, true);
    return r;
  }),
  pselect6: supported((t, a) => {
    const deadline = deadlineOf(t, () => timeDeadline(t, a.ptr(4)));
    let maskAddr = 0;
    let size = 8;
    if (a.ptr(5) !== 0) {
      maskAddr = t.mm.u64(a.ptr(5));
      size = t.mm.u64(a.ptr(5) + 8);
    }
    setTempMask(t, maskAddr, size);
    const r = doSelect(t, a.i32(0), a.ptr(1), a.ptr(2), a.ptr(3), deadline);
    restoreTempMask(t, maskAddr);
    writeRemaining(t, a.ptr(4), deadline, false);
    return r;
  }),
};
