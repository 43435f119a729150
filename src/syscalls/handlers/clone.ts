// The clone family: clone and clone3 (new processes and threads,
// proc/fork.ts), and unshare (a process's own fd table, fs state, SEM_UNDO
// list or UTS namespace).
import type { Task } from '../../proc/task.js';
import { doClone } from '../../proc/fork.js';
import { CLONE, CSIGNAL } from '../../abi/sched.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import { cloneShape } from '../signature.js';
import { partial, type Def } from './util.js';

const CAP_SYS_ADMIN = 1n << 21n;
const CLONE3_CLEAR_SIGHAND = 0x100000000n;
const CLONE3_INTO_CGROUP = 0x200000000n;
const CLONE_NOTE =
  'a new UTS namespace (CLONE_NEWUTS) is the child\'s own; the other namespaces and CLONE_PTRACE are reported as unsupported, and so is CLONE_PIDFD with CLONE_THREAD; CLONE_IO is accepted (no I/O contexts)';

const clone: Def = partial(cloneShape, (t, a) => {
  // x86_64: (flags, stack, parent_tid, child_tid, tls); arm64: (flags, stack, parent_tid, tls, child_tid)
  const x86 = t.arch.name === 'x86_64';
  return doClone(t.kernel, t, {
    flags: a.u32(0),
    stack: a.ptr(1),
    parentTid: a.ptr(2),
    childTid: a.ptr(x86 ? 3 : 4),
    tls: a.ptr(x86 ? 4 : 3),
  });
}, CLONE_NOTE);

/**
 * clone3: struct clone_args (64, 80 or 88 bytes; a larger one only with
 * zeros past what elfrun knows), checked as Linux's copy_clone_args_from_user
 * and clone3_args_valid check it, then a clone.
 */
function clone3(t: Task, addr: number, size: number): number {
  if (size > 4096) fail(E.E2BIG);
  if (size < 64) fail(E.EINVAL);
  const b = t.mm.read(addr, size);
  if (size > 88 && b.subarray(88).some((x) => x !== 0)) fail(E.E2BIG);
  const u = (i: number): bigint => (8 * i + 8 <= size ? b.readBigUInt64LE(8 * i) : 0n);
  const [flags, pidfd, childTid, parentTid, exitSignal, stack, stackSize, tls, setTid, setTidSize, cgroup] = Array.from({ length: 11 }, (_, i) => u(i));
  if (setTidSize > 32n || (setTid === 0n && setTidSize > 0n) || (setTid !== 0n && setTidSize === 0n)) fail(E.EINVAL);
  if (exitSignal > 64n) fail(E.EINVAL);
  if (flags & CLONE3_INTO_CGROUP && (cgroup > 0x7fffffffn || size < 88)) fail(E.EINVAL);
  // clone3_args_valid
  if (flags & ~(0xffffffffn | CLONE3_CLEAR_SIGHAND | CLONE3_INTO_CGROUP)) fail(E.EINVAL);
  if (flags & BigInt(CLONE.DETACHED | (CSIGNAL & ~CLONE.NEWTIME))) fail(E.EINVAL);
  if (flags & BigInt(CLONE.SIGHAND) && flags & CLONE3_CLEAR_SIGHAND) fail(E.EINVAL);
  if (flags & BigInt(CLONE.THREAD | CLONE.PARENT) && exitSignal !== 0n) fail(E.EINVAL);
  if ((stack === 0n) !== (stackSize === 0n) || stack + stackSize > BigInt(t.mm.layout.taskSize)) fail(E.EINVAL);
  if (setTidSize > 0n) throw new Unsupported('clone3 with set_tid (choosing the child\'s pid)', E.EPERM);
  if (flags & CLONE3_INTO_CGROUP) throw new Unsupported('clone3 with CLONE_INTO_CGROUP', E.EINVAL);
  if (flags & BigInt(CLONE.NEWTIME)) throw new Unsupported('clone3 with CLONE_NEWTIME (time namespaces)', E.EPERM);
  const low = Number(flags & 0xffffffffn);
  return doClone(t.kernel, t, {
    flags: (low | Number(exitSignal)) >>> 0,
    // the stack grows down from its end
    stack: stack === 0n ? 0 : Number(stack + stackSize),
    parentTid: Number(parentTid),
    childTid: Number(childTid),
    tls: Number(tls),
    pidfd: Number(pidfd),
    clearSighand: (flags & CLONE3_CLEAR_SIGHAND) !== 0n,
  });
}

/**
 * unshare: the calling process's own fd table (CLONE_FILES), cwd, root and
 * umask (CLONE_FS), SEM_UNDO list (CLONE_SYSVSEM) and UTS namespace
 * (CLONE_NEWUTS), with Linux's implied flags and checks. Other namespaces
 * are reported as unsupported.
 */
function unshare(t: Task, flags: number): number {
  const all = CLONE.THREAD | CLONE.FS | CLONE.NEWNS | CLONE.SIGHAND | CLONE.VM | CLONE.FILES | CLONE.SYSVSEM | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWCGROUP | CLONE.NEWTIME;
  let f = flags >>> 0;
  if (f & ~all) fail(E.EINVAL);
  // ksys_unshare's implied flags
  if (f & CLONE.NEWUSER) f |= CLONE.THREAD | CLONE.FS;
  if (f & CLONE.VM) f |= CLONE.SIGHAND;
  if (f & CLONE.SIGHAND) f |= CLONE.THREAD;
  if (f & CLONE.NEWNS) f |= CLONE.FS;
  const p = t.proc;
  // check_unshare_flags: a thread group, handlers or memory shared with others cannot be left
  if (f & (CLONE.THREAD | CLONE.SIGHAND | CLONE.VM) && p.threads.size > 1) fail(E.EINVAL);
  if (f & (CLONE.SIGHAND | CLONE.VM) && p.sighand.refs > 1) fail(E.EINVAL);
  if (f & CLONE.VM && p.mm.refs > 1) fail(E.EINVAL);
  const other = f & (CLONE.NEWNS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWCGROUP | CLONE.NEWTIME);
  if (f & (CLONE.NEWUTS | other) && !(f & CLONE.NEWUSER) && !(t.cred.caps.eff & CAP_SYS_ADMIN)) fail(E.EPERM);
  if (other) throw new Unsupported(`unshare of namespaces 0x${other.toString(16)} (only a UTS namespace can be a process's own)`, E.EPERM);
  if (f & CLONE.FS && p.fs.refs > 1) {
    p.fs.refs--;
    p.fs = p.fs.clone();
  }
  if (f & CLONE.FILES && p.fds.refs > 1) {
    p.fds.refs--;
    p.fds = p.fds.clone();
  }
  if (f & CLONE.SYSVSEM && p.semUndo !== null && p.semUndo.refs > 1) {
    // the shared list stays with the others; this process starts a list of its own (exit_sem on its share)
    p.semUndo.refs--;
    p.semUndo = null;
  }
  if (f & CLONE.NEWUTS) p.uts = (p.uts ?? t.kernel.uts).clone();
  return 0;
}

export const cloneDefs: Record<string, Def> = {
  clone,
  clone3: partial(['clone3args', 'size'], (t, a) => clone3(t, a.ptr(0), a.u64(1)), `${CLONE_NOTE}; set_tid and CLONE_INTO_CGROUP are reported as unsupported`),
  unshare: partial(['unshareflags'], (t, a) => unshare(t, a.u32(0)), 'CLONE_FILES, CLONE_FS, CLONE_SYSVSEM and CLONE_NEWUTS; the checks of CLONE_THREAD, CLONE_SIGHAND and CLONE_VM; other namespaces are reported as unsupported'),
};
