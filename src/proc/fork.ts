// clone/fork/vfork: a new task, in a new process or (CLONE_THREAD) the caller's.
import { RLIM_INFINITY, RLIMIT_NPROC } from '../abi/resource.js';
import { AddressSpace } from '../mm/address-space.js';
import { E } from '../abi/errno.js';
import { fail, Unsupported } from '../abi/errors.js';
import { Mm, Process } from './process.js';
import { Task } from './task.js';
import type { Kernel } from './kernel.js';
import { CLONE, CSIGNAL } from '../abi/sched.js';
import { SemUndoList } from '../ipc/sem.js';
import { SIG_DFL, SIG_IGN, SS_DISABLE } from '../abi/signal.js';
import { PROT_WRITE } from '../abi/mman.js';
import { O_RDWR } from '../abi/fcntl.js';
import { PidFd } from './pidfd.js';

/** the namespaces elfrun cannot give a process of its own (a new UTS namespace it can) */
const NAMESPACES = CLONE.NEWNS | CLONE.NEWCGROUP | CLONE.NEWIPC | CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWNET;

export interface CloneArgs {
  flags: number;
  stack: number;
  parentTid: number;
  childTid: number;
  tls: number;
  /** CLONE_PIDFD: where the pidfd goes (clone3's own field; clone's parentTid) */
  pidfd?: number;
  /** clone3's CLONE_CLEAR_SIGHAND: the child's handlers back to SIG_DFL (ignored signals stay ignored) */
  clearSighand?: boolean;
}

/**
 * Copy the parent's memory (fork). The child takes the parent's writable
 * memory and the parent goes on with the copies (AddressSpace.forkInto's
 * swap), and the child runs first (Kernel.handOff): the engine holds the
 * child's memory already, and switches once a fork instead of twice. Linux
 * may run either first (sched_child_runs_first).
 */
function forkMm(k: Kernel, parent: Mm): Mm {
  const space = new AddressSpace(parent.cpu.mirror(), parent.space.layout, k.memory);
  const moved = parent.space.forkInto(space, true);
  parent.cpu.handOver(parent.space, space);
  k.futexesMoved(moved);
  const mm = new Mm(parent.cpu, space);
  // mm flags are inherited; PR_MDWE_NO_INHERIT drops MDWE (mmf_init_flags)
  mm.flags = { ...parent.flags, mdwe: parent.flags.mdwe & 2 ? 0 : parent.flags.mdwe };
  return mm;
}

/** clone(2): returns the child's tid to the parent. The child returns 0. */
const CAP_SYS_ADMIN = 1n << 21n;
const CAP_SYS_RESOURCE = 1n << 24n;

/**
 * EAGAIN for a task too many: elfrun's --max-procs cap on all guest tasks,
 * and RLIMIT_NPROC as copy_process applies it (the tasks of the caller's
 * real uid; root and CAP_SYS_RESOURCE or CAP_SYS_ADMIN are exempt). Only
 * the guest's tasks are counted: the host's processes of that uid are not.
 */
function checkTaskLimits(k: Kernel, t: Task): void {
  const cap = k.opts.maxTasks;
  if (cap !== undefined && k.tasks.size >= cap) fail(E.EAGAIN);
  const lim = t.proc.rlimits[RLIMIT_NPROC]?.[0] ?? RLIM_INFINITY;
  const c = t.cred;
  if (lim >= RLIM_INFINITY || c.ruid === 0 || c.caps.eff & (CAP_SYS_ADMIN | CAP_SYS_RESOURCE)) return;
  let n = 0;
  for (const x of k.tasks.values()) if (x.cred.ruid === c.ruid) n++;
  if (BigInt(n) >= lim) fail(E.EAGAIN);
}

export function doClone(k: Kernel, t: Task, a: CloneArgs): number {
  const f = a.flags;
  if (t.restarting && t.restartState !== null) {
    // a vfork parent woken: done once the child has exec'd or exited
    const child = k.processes.get(t.restartState);
    if (child && child.vforkParent !== null) t.block([t.proc.vforkDone], { interruptible: false });
    return t.restartState;
  }
  if (f & CLONE.THREAD && !(f & CLONE.SIGHAND)) fail(E.EINVAL);
  if (f & CLONE.SIGHAND && !(f & CLONE.VM)) fail(E.EINVAL);
  if (f & CLONE.FS && f & CLONE.NEWNS) fail(E.EINVAL);
  if (f & NAMESPACES) throw new Unsupported(`clone namespace flags 0x${(f & NAMESPACES).toString(16)}`, E.EPERM);
  if (f & CLONE.NEWUTS) {
    if (!(t.cred.caps.eff & CAP_SYS_ADMIN)) fail(E.EPERM);
    // Linux's namespaces are per thread; elfrun keeps a UTS namespace per process
    if (f & CLONE.THREAD) throw new Unsupported('a thread with a UTS namespace of its own (CLONE_THREAD with CLONE_NEWUTS)', E.EINVAL);
  }
  if (f & CLONE.PIDFD) {
    if (f & CLONE.DETACHED) fail(E.EINVAL);
    if (f & CLONE.THREAD) throw new Unsupported('a thread\'s pidfd (CLONE_PIDFD with CLONE_THREAD)', E.EINVAL);
    // clone's pidfd goes where its parent tid would
    if (a.pidfd === undefined && f & CLONE.PARENT_SETTID) fail(E.EINVAL);
    t.mm.check(a.pidfd ?? a.parentTid, 4, PROT_WRITE);
    if (!t.fds.hasRoom()) fail(E.EMFILE);
  }
  if (f & CLONE.PTRACE) throw new Unsupported('clone flag CLONE_PTRACE', E.EINVAL);

  checkTaskLimits(k, t);
  const parent = t.proc;
  // a new address space copies the parent's private writable memory: under
  // --max-memory it must fit, or fork fails as dup_mmap's accounting makes it fail
  if (!(f & CLONE.VM) && k.opts.maxMemory !== undefined && parent.mm.space.committed() > k.commitRoom()) fail(E.ENOMEM);
  const regs = t.args.regs;
  const tid = k.allocPid();
  let proc: Process;
  if (f & CLONE.THREAD) {
    proc = parent;
    // CLONE_SYSVSEM makes the SEM_UNDO list (get_undo_list allocates it), which kcmp's KCMP_SYSVSEM tells from a fork child's none
    if (f & CLONE.SYSVSEM) parent.semUndo ??= new SemUndoList();
  } else {
    const mm = f & CLONE.VM ? parent.mm : forkMm(k, parent.mm);
    if (f & CLONE.VM) mm.refs++;
    else k.ipc.shm.forked(mm.space, parent.pid);
    const fds = f & CLONE.FILES ? parent.fds : parent.fds.clone();
    if (f & CLONE.FILES) fds.refs++;
    const fs = f & CLONE.FS ? parent.fs : parent.fs.clone();
    if (f & CLONE.FS) fs.refs++;
    const sighand = f & CLONE.SIGHAND ? parent.sighand : parent.sighand.clone();
    if (f & CLONE.SIGHAND) sighand.refs++;
    // CLONE_CLEAR_SIGHAND: handlers back to the default; ignored signals stay ignored
    else if (a.clearSighand) for (const act of sighand.actions) if (act.handler !== SIG_IGN) Object.assign(act, { handler: SIG_DFL, flags: 0, restorer: 0, mask: 0n });
    proc = new Process(tid, parent.arch, mm, fds, fs, sighand);
    proc.parent = f & CLONE.PARENT ? parent.parent : parent;
    if (proc.parent === null) proc.parent = parent;
    proc.parentThread = f & CLONE.PARENT && proc.parent !== parent ? parent.parentThread : t;
    proc.hasChildSubreaper = proc.parent.hasChildSubreaper || proc.parent.subreaper;
    proc.parent.children.add(proc);
    proc.pgid = parent.pgid;
    proc.sid = parent.sid;
    proc.ctty = parent.ctty;
    proc.exitSignal = f & CSIGNAL;
    proc.exePath = parent.exePath;
    proc.exe = parent.exe;
    proc.exeId = parent.exeId;
    proc.cred = parent.cred.clone();
    proc.nice = parent.nice;
    proc.comm = parent.comm;
    proc.start = parent.start;
    proc.rlimits = parent.rlimits.map(([s, h]) => [s, h]);
    proc.sigtramp = parent.sigtramp;
    proc.dumpable = parent.dumpable;
    proc.tunables = { ...parent.tunables };
    proc.noNewPrivs = parent.noNewPrivs;
    proc.uts = f & CLONE.NEWUTS ? (parent.uts ?? k.uts).clone() : parent.uts;
    // CLONE_SYSVSEM shares the SEM_UNDO adjustments; a fork starts with none
    if (f & CLONE.SYSVSEM) {
      parent.semUndo ??= new SemUndoList();
      parent.semUndo.refs++;
      proc.semUndo = parent.semUndo;
    }
  }

  const child = new Task(k, tid, proc, t.opts);
  child.comm = t.comm; // the creating thread's name, as Linux copies it
  child.sigmask = t.sigmask;
  child.lastFault = { ...t.lastFault }; // the thread struct is copied
  child.mempolicy = { ...t.mempolicy };
  child.personality = t.personality;
  child.ioprio = t.ioprio;
  child.affinity = t.affinity;
  child.seccomp = t.seccomp;
  child.mceKill = t.mceKill;
  child.ioFlusher = t.ioFlusher;
  child.taggedAddr = t.taggedAddr;
  child.specForceDisabled = t.specForceDisabled;
  child.altstack = f & CLONE.VM && !(f & CLONE.VFORK) ? { sp: 0, flags: SS_DISABLE, size: 0 } : { ...t.altstack };
  // The child starts from the parent's registers at this syscall, returning 0 after it.
  child.ctx = t.cpu.saveContext(null);
  const arch = t.arch;
  const ret = new Uint32Array(arch.returnRegs.length * 2);
  arch.syscallReturn(0, regs, ret);
  arch.returnRegs.forEach((r, i) => child.pendingRegs.push([r, ret[2 * i] + ret[2 * i + 1] * 0x100000000]));
  child.pendingRegs.push([arch.pcReg, arch.syscallInsnAddr(regs) + (arch.name === 'x86_64' ? 2 : 4)]);
  if (a.stack !== 0) child.pendingRegs.push([arch.spReg, a.stack]);
  if (f & CLONE.SETTLS) child.pendingRegs.push([arch.tlsReg, a.tls]);

  if (f & CLONE.PARENT_SETTID) t.mm.setI32(a.parentTid, tid);
  // the pidfd is the parent's only (installed after the child's fd table was copied), close-on-exec
  if (f & CLONE.PIDFD) t.mm.setI32(a.pidfd ?? a.parentTid, t.fds.add(new PidFd(proc, O_RDWR, t.vfs.anonIno('pidfd')), true));
  if (f & CLONE.CHILD_SETTID) proc.mm.space.setI32(a.childTid, tid);
  if (f & CLONE.CHILD_CLEARTID) child.clearChildTid = a.childTid;

  k.addTask(child);
  // the child's copy of memory charged as touched (MAP_NORESERVE) may pass --max-memory: the OOM killer
  if (!(f & CLONE.VM)) k.oom.charge(0);
  k.events?.clone(t, child, (f & CLONE.THREAD) !== 0);
  // a debugger asked for fork events: it stops the parent here, the syscall done
  if (!(f & CLONE.THREAD)) k.gdb?.forked(t, child, (f & CLONE.VFORK) !== 0);
  // the parent's memory is now the child's in the engine (forkMm): the child runs first
  if (!(f & CLONE.VM)) k.handOff(t, child);
  if (f & CLONE.VFORK) {
    proc.vforkParent = parent;
    t.restartState = tid;
    t.block([parent.vforkDone], { interruptible: false });
  }
  return tid;
}
