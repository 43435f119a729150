// pidfd_open, pidfd_send_signal, pidfd_getfd: files that name processes
// (proc/pidfd.ts). waitid's P_PIDFD is in process.ts.
import type { Task } from '../../proc/task.js';
import type { Process } from '../../proc/process.js';
import { PidFd } from '../../proc/pidfd.js';
import { ProcFile } from '../../procfs/file.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { O_CLOEXEC, O_EXCL, O_NONBLOCK, O_RDWR } from '../../abi/fcntl.js';
import { NSIG, SI_TKILL } from '../../abi/signal.js';
import { mayPtrace, partial, supported, type Def } from './util.js';

const PIDFD_NONBLOCK = O_NONBLOCK;
/** a pidfd of one thread (Linux 6.9) */
const PIDFD_THREAD = O_EXCL;
const PIDFD_SIGNAL_THREAD = 1;
const PIDFD_SIGNAL_THREAD_GROUP = 2;
const PIDFD_SIGNAL_PROCESS_GROUP = 4;

function pidfdOpen(t: Task, pid: number, flags: number): number {
  if (flags & ~(PIDFD_NONBLOCK | PIDFD_THREAD) || pid <= 0) fail(E.EINVAL);
  if (flags & PIDFD_THREAD) {
    // any thread, by its tid; the file keeps the flag (F_GETFL shows O_EXCL)
    const th = t.kernel.tasks.get(pid);
    if (th === undefined || th.state === 'dead') fail(E.ESRCH);
    return t.fds.add(new PidFd(th.proc, O_RDWR | (flags & (PIDFD_NONBLOCK | PIDFD_THREAD)), t.vfs.anonIno('pidfd'), th), true);
  }
  const p = t.kernel.processes.get(pid);
  if (p === undefined) {
    // a thread's id names no process without PIDFD_THREAD: ENOENT since Linux 6.9 (EINVAL before)
    const th = t.kernel.tasks.get(pid);
    return fail(th !== undefined && th.state !== 'dead' ? E.ENOENT : E.ESRCH);
  }
  // pidfds are always close-on-exec
  return t.fds.add(new PidFd(p, O_RDWR | (flags & PIDFD_NONBLOCK), t.vfs.anonIno('pidfd')), true);
}

/** The process a pidfd names: EBADF for another kind of file. */
function pidfdProc(t: Task, fd: number): Process {
  return pidfdOf(t, fd).proc;
}
function pidfdOf(t: Task, fd: number): PidFd {
  const f = t.fds.file(fd);
  if (!(f instanceof PidFd)) fail(E.EBADF);
  return f;
}

/** The process pidfd_send_signal's fd names: a pidfd's, or that of an open /proc/<pid> directory (not a task/<tid> one); EBADF for another file. */
function signalTarget(t: Task, fd: number): Process {
  const f = t.fds.file(fd);
  if (f instanceof ProcFile && f.node.tgid !== undefined) return f.node.tgid;
  return pidfdProc(t, fd);
}

/** Linux's pidfd_send_signal: one scope flag at most; a siginfo of the caller's own only with a negative si_code other than SI_TKILL, unless to itself. */
function sendSignal(t: Task, fd: number, sig: number, infoAddr: number, flags: number): number {
  const scopes = flags & (PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP);
  if (flags !== scopes || (scopes & (scopes - 1)) !== 0) fail(E.EINVAL);
  const f = t.fds.file(fd);
  // an open /proc/<pid> directory names its process too
  const pf = f instanceof ProcFile && f.node.tgid !== undefined ? null : pidfdOf(t, fd);
  const p = pf === null ? signalTarget(t, fd) : pf.proc;
  // no scope given: a PIDFD_THREAD pidfd's thread, else its process
  if (scopes === 0 && pf !== null && pf.task !== null) return signalThread(t, pf.task, sig, infoAddr);
  const k = t.kernel;
  let info: Buffer;
  if (infoAddr !== 0) {
    info = Buffer.from(t.mm.read(infoAddr, 128));
    if (info.readInt32LE(0) !== sig) fail(E.EINVAL);
    const code = info.readInt32LE(8);
    const self = t.tid === p.pid && scopes !== PIDFD_SIGNAL_PROCESS_GROUP;
    if (!self && (code >= 0 || code === SI_TKILL)) fail(E.EPERM);
  } else {
    info = k.userInfo(sig, t.pid);
    if (scopes === PIDFD_SIGNAL_THREAD) info.writeInt32LE(SI_TKILL, 8);
  }
  if (sig < 0 || sig > NSIG) fail(E.EINVAL);
  if (scopes === PIDFD_SIGNAL_PROCESS_GROUP) {
    // the group the process leads
    const members = [...k.processes.values()].filter((q) => q.pgid === p.pid && q.exit === null);
    if (members.length === 0) fail(E.ESRCH);
    if (sig !== 0) for (const q of members) k.sendToProcess(q, sig, info);
    return 0;
  }
  if (p.reaped) fail(E.ESRCH);
  // a zombie takes the signal and does nothing with it
  if (sig === 0 || p.exit !== null) return 0;
  if (scopes === PIDFD_SIGNAL_THREAD) {
    const leader = k.tasks.get(p.pid);
    if (leader === undefined || leader.state === 'dead') fail(E.ESRCH);
    k.sendToTask(leader, sig, info);
  } else k.sendToProcess(p, sig, info);
  return 0;
}

/** A thread pidfd's default scope: the thread (SI_TKILL when no siginfo is given), ESRCH once it is gone. */
function signalThread(t: Task, th: Task, sig: number, infoAddr: number): number {
  let info: Buffer;
  if (infoAddr !== 0) {
    info = Buffer.from(t.mm.read(infoAddr, 128));
    if (info.readInt32LE(0) !== sig) fail(E.EINVAL);
    const code = info.readInt32LE(8);
    if (t !== th && (code >= 0 || code === SI_TKILL)) fail(E.EPERM);
  } else {
    info = t.kernel.userInfo(sig, t.pid);
    info.writeInt32LE(SI_TKILL, 8);
  }
  if (sig < 0 || sig > NSIG) fail(E.EINVAL);
  if (th.state === 'dead') fail(E.ESRCH);
  if (sig !== 0 && th.proc.exit === null) t.kernel.sendToTask(th, sig, info);
  return 0;
}

/** pidfd_getfd: a duplicate of the process's fd, close-on-exec, if the caller may ptrace it (its ids all the caller's, or CAP_SYS_PTRACE). */
function getfd(t: Task, fd: number, target: number, flags: number): number {
  if (flags !== 0) fail(E.EINVAL);
  const p = pidfdProc(t, fd);
  if (p.reaped) fail(E.ESRCH);
  mayPtrace(t, p);
  if (p.exit !== null) fail(E.EBADF);
  const f = p.fds.file(target);
  f.refs++;
  try {
    return t.fds.add(f, true);
  } catch (e) {
    f.refs--;
    throw e;
  }
}

export const pidfdDefs: Record<string, Def> = {
  pidfd_open: partial({ args: ['int', 'hex'], ret: 'fd' }, (t, a) => pidfdOpen(t, a.i32(0), a.u32(1)), 'the host\'s processes (when the guest sees them) have no pidfds (ESRCH)'),
  pidfd_send_signal: supported(['fd', 'sig', 'siginfo', 'hex'], (t, a) => sendSignal(t, a.i32(0), a.i32(1), a.ptr(2), a.u32(3))),
  pidfd_getfd: supported({ args: ['fd', 'int', 'hex'], ret: 'fd' }, (t, a) => getfd(t, a.i32(0), a.i32(1), a.u32(2))),
};
