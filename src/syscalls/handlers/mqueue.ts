// POSIX message queues: mq_open, mq_unlink, mq_timedsend, mq_timedreceive,
// mq_notify, mq_getsetattr. The queues are the kernel's IPC namespace's
// (src/ipc/mqueue.ts); an open queue is an fd. The libc strips the name's
// leading slash before the call.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, SysError } from '../../abi/errors.js';
import { O_CREAT } from '../../abi/fcntl.js';
import { NAME_MAX } from '../../abi/limits.js';
import { checkSigevent, MqFile } from '../../ipc/mqueue.js';
import { MQ_PRIO_MAX } from '../../abi/ipc.js';
import { nowMs } from '../../host/clock.js';
import { partial, supported, type Def } from './util.js';
import { mqOpenShape } from '../signature.js';
import { timeDeadline } from './util.js';

/** The queue open as fd (EBADF for anything else). */
function queueFile(t: Task, fd: number): MqFile {
  const f = t.fds.file(fd);
  if (!(f instanceof MqFile)) return fail(E.EBADF);
  return f;
}

/** A queue name: up to NAME_MAX bytes (ENAMETOOLONG past it), EFAULT, ENOENT for the empty name. */
function nameArg(t: Task, addr: number): string {
  let b: Buffer;
  try {
    b = t.mm.cstring(addr, 4096);
  } catch (e) {
    if (e instanceof SysError && e.errno === E.ENAMETOOLONG) fail(E.ENAMETOOLONG);
    throw e;
  }
  if (b.length === 0) fail(E.ENOENT);
  if (b.length > NAME_MAX) fail(E.ENAMETOOLONG);
  return b.toString('latin1');
}

function mqOpen(t: Task, nameAddr: number, oflag: number, mode: number, attrAddr: number): number {
  const name = nameArg(t, nameAddr);
  let attr: [number, number] | null = null;
  if (attrAddr !== 0) {
    const b = t.mm.read(attrAddr, 64);
    // only with O_CREAT do the values count; they are read (EFAULT) anyway
    if (oflag & O_CREAT) attr = [Number(b.readBigInt64LE(8)), Number(b.readBigInt64LE(16))];
  }
  const f = t.kernel.ipc.mq.open(t, name, oflag, mode & ~t.umask, attr);
  try {
    // always close-on-exec, as Linux's do_mq_open makes it
    return t.fds.add(f, true);
  } catch (e) {
    f.unref();
    throw e;
  }
}

/** An absolute CLOCK_REALTIME timeout (EFAULT, EINVAL), Infinity for none. */
const absTimeout = (t: Task, addr: number): number => timeDeadline(t, addr, 'abs-real');

function mqTimedsend(t: Task, fd: number, addr: number, len: number, prio: number, timeout: number): number {
  const deadline = absTimeout(t, timeout);
  if (prio >= MQ_PRIO_MAX) fail(E.EINVAL);
  const f = queueFile(t, fd);
  return t.kernel.ipc.mq.send(t, f, len, () => t.mm.read(addr, len), prio, deadline, nowMs());
}

function mqTimedreceive(t: Task, fd: number, addr: number, len: number, prioAddr: number, timeout: number): number {
  const deadline = absTimeout(t, timeout);
  const f = queueFile(t, fd);
  const m = t.kernel.ipc.mq.receive(t, f, len, deadline, nowMs());
  // the message is taken even if it cannot be written out (EFAULT), as on Linux
  if (prioAddr !== 0) t.mm.setU32(prioAddr, m.prio);
  t.mm.write(addr, m.data);
  return m.data.length;
}

function mqNotify(t: Task, fd: number, sevAddr: number): number {
  let sev = null;
  if (sevAddr !== 0) {
    const b = t.mm.read(sevAddr, 16);
    sev = { value: b.readBigInt64LE(0), signo: b.readInt32LE(8), notify: b.readInt32LE(12) };
    checkSigevent(sev);
  }
  return t.kernel.ipc.mq.notify(t, queueFile(t, fd), sev);
}

function mqGetsetattr(t: Task, fd: number, newAddr: number, oldAddr: number): number {
  let flags: number | null = null;
  if (newAddr !== 0) {
    const v = t.mm.read(newAddr, 8).readBigInt64LE(0);
    if (v & ~BigInt(0o4000)) fail(E.EINVAL);
    flags = Number(v);
  }
  const f = queueFile(t, fd);
  if (oldAddr !== 0) t.mm.check(oldAddr, 64, 2);
  const old = t.kernel.ipc.mq.getsetattr(f, flags);
  if (oldAddr !== 0) {
    const b = Buffer.alloc(64);
    old.forEach((v, i) => b.writeBigInt64LE(BigInt(v), i * 8));
    t.mm.write(oldAddr, b);
  }
  return 0;
}

export const mqueueDefs: Record<string, Def> = {
  mq_open: partial(
    mqOpenShape,
    (t, a) => mqOpen(t, a.ptr(0), a.i32(1), a.u32(2), a.ptr(3)),
    'queues of the guest\'s IPC namespace with fs.mqueue\'s limits (the host\'s); RLIMIT_MSGQUEUE is not charged; a mount of mqueue lists, opens, creates and unlinks them (chmod and chown of a queue are refused)',
  ),
  mq_unlink: supported(['name'], (t, a) => t.kernel.ipc.mq.unlink(t, nameArg(t, a.ptr(0)))),
  mq_timedsend: supported(['fd', 'strin', 'size', 'uint', 'ts'], (t, a) => mqTimedsend(t, a.i32(0), a.ptr(1), a.size(2), a.u32(3), a.ptr(4))),
  mq_timedreceive: supported(['fd', 'strout', 'size', 'idout', 'ts'], (t, a) => mqTimedreceive(t, a.i32(0), a.ptr(1), a.size(2), a.ptr(3), a.ptr(4))),
  mq_notify: partial(['fd', 'ptr'], (t, a) => mqNotify(t, a.i32(0), a.ptr(1)), 'SIGEV_SIGNAL and SIGEV_NONE; SIGEV_THREAD (a netlink socket glibc reads) is reported as unsupported; a registration ends when the queue has no open fd or its process exits'),
  mq_getsetattr: supported(['fd', 'mqattr', 'mqattrout'], (t, a) => mqGetsetattr(t, a.i32(0), a.ptr(1), a.ptr(2))),
};
