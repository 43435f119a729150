// Signal dispositions, masks, the alternate stack, pending and queued
// signals, itimers: what the kernel's delivery (proc/deliver.ts) acts on.
import { ITIMER_PROF, ITIMER_REAL, ITIMER_VIRTUAL } from '../../abi/time.js';
import type { ItimerValue } from '../../proc/itimer.js';
import type { Task } from '../../proc/task.js';
import { PROT_WRITE } from '../../abi/mman.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import { MINSIGSTKSZ, NSIG, SIG, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SI_TKILL, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK } from '../../abi/signal.js';
import { deadlineOf, partial, supported, timeDeadline, type Def } from './util.js';
import { UNBLOCKABLE, takeSignal } from '../../proc/signals.js';
import type { Process } from '../../proc/process.js';
import { nowMs } from '../../host/clock.js';

function rtSigaction(t: Task, sig: number, act: number, oact: number, size: number): number {
  if (size !== 8) fail(E.EINVAL);
  if (sig < 1 || sig > NSIG) fail(E.EINVAL);
  if (act !== 0 && (sig === SIG.SIGKILL || sig === SIG.SIGSTOP)) fail(E.EINVAL);
  let next = null;
  if (act !== 0) {
    const b = t.mm.read(act, 32);
    next = {
      handler: Number(b.readBigUInt64LE(0)),
      flags: Number(b.readBigUInt64LE(8) & 0xffffffffn),
      restorer: Number(b.readBigUInt64LE(16)),
      mask: b.readBigUInt64LE(24) & ~UNBLOCKABLE,
    };
  }
  if (oact !== 0) {
    const cur = t.sigactions[sig];
    t.mm.check(oact, 32, PROT_WRITE);
    const b = Buffer.alloc(32);
    b.writeBigUInt64LE(BigInt(cur.handler), 0);
    b.writeBigUInt64LE(BigInt(cur.flags >>> 0), 8);
    b.writeBigUInt64LE(BigInt(cur.restorer), 16);
    b.writeBigUInt64LE(cur.mask, 24);
    t.mm.write(oact, b);
  }
  if (next) t.sigactions[sig] = next;
  return 0;
}

function rtSigprocmask(t: Task, how: number, set: number, oset: number, size: number): number {
  if (size !== 8) fail(E.EINVAL);
  let next: bigint | null = null;
  if (set !== 0) {
    const s = t.mm.big64(set);
    if (how === SIG_BLOCK) next = t.sigmask | s;
    else if (how === SIG_UNBLOCK) next = t.sigmask & ~s;
    else if (how === SIG_SETMASK) next = s;
    else fail(E.EINVAL);
  }
  if (oset !== 0) t.mm.setU64(oset, t.sigmask);
  if (next !== null) t.sigmask = next & ~UNBLOCKABLE;
  return 0;
}

function sigaltstack(t: Task, ss: number, oss: number): number {
  let next = null;
  if (ss !== 0) {
    const b = t.mm.read(ss, 24);
    const sp = Number(b.readBigUInt64LE(0));
    const flags = b.readInt32LE(8);
    const size = Number(b.readBigUInt64LE(16));
    const mode = flags & ~SS_AUTODISARM;
    if (mode !== 0 && mode !== SS_DISABLE && mode !== SS_ONSTACK) fail(E.EINVAL);
    if (mode === SS_DISABLE) next = { sp: 0, flags: SS_DISABLE, size: 0 };
    else {
      if (size < t.arch.minSigStkSz || size < MINSIGSTKSZ) fail(E.ENOMEM);
      next = { sp, flags: flags & SS_AUTODISARM, size };
    }
  }
  if (oss !== 0) {
    const b = Buffer.alloc(24);
    b.writeBigUInt64LE(BigInt(t.altstack.sp), 0);
    b.writeInt32LE(t.altstack.flags | 0, 8);
    b.writeBigUInt64LE(BigInt(t.altstack.size), 16);
    t.mm.write(oss, b);
  }
  if (next) t.altstack = next;
  return 0;
}

/** rt_sigpending: signals raised while blocked, for this thread or its process. */
function rtSigpending(t: Task, set: number, size: number): number {
  if (size > 8) fail(E.EINVAL);
  const pend = (t.pending | t.proc.pending) & t.sigmask;
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(pend);
  t.mm.write(set, b.subarray(0, size));
  return 0;
}

/** rt_sigtimedwait: take one of the signals of `set` (normally blocked), waiting for one up to the timeout. */
function rtSigtimedwait(t: Task, setAddr: number, infoAddr: number, tsAddr: number, size: number): number {
  if (size !== 8) fail(E.EINVAL);
  const set = t.mm.big64(setAddr) & ~UNBLOCKABLE;
  const deadline = deadlineOf(t, () => timeDeadline(t, tsAddr));
  const ready = (t.pending | t.proc.pending) & set;
  if (ready !== 0n) {
    t.sigwait = 0n;
    let sig = 1;
    while ((ready & (1n << BigInt(sig - 1))) === 0n) sig++;
    const own = (t.pending & (1n << BigInt(sig - 1))) !== 0n;
    const info = takeSignal(own ? t : t.proc, sig) ?? t.kernel.userInfo(sig, 0);
    if (infoAddr !== 0) t.mm.write(infoAddr, info);
    return sig;
  }
  if (nowMs() >= deadline) {
    t.sigwait = 0n;
    fail(E.EAGAIN);
  }
  t.sigwait = set; // these wake the wait although they are blocked
  // EINTR even after a stop and continue, as signal(7) lists it
  return t.block([], { deadline, restart: 'intr' });
}

/** rt_sigqueueinfo / rt_tgsigqueueinfo: a signal with the caller's siginfo (sigqueue). */
function sigqueue(t: Task, tgid: number, tid: number | null, sig: number, infoAddr: number): number {
  if (sig < 0 || sig > NSIG) fail(E.EINVAL);
  const info = Buffer.from(t.mm.read(infoAddr, 128));
  const code = info.readInt32LE(8);
  const k = t.kernel;
  const target = tid === null ? (k.processes.get(tgid) ?? null) : (k.tasks.get(tid) ?? null);
  if (target === null || (tid !== null && (target as Task).proc.pid !== tgid)) fail(E.ESRCH);
  const self = tid === null ? target === t.proc : (target as Task).proc === t.proc;
  // only the kernel may claim a kernel-generated code (>= 0) or SI_TKILL, except to oneself
  if ((code >= 0 || code === SI_TKILL) && !self) fail(E.EPERM);
  info.writeInt32LE(sig, 0);
  if (sig === 0) return 0;
  if (tid === null) k.sendToProcess(target as Process, sig, info);
  else k.sendToTask(target as Task, sig, info);
  return 0;
}


/** setitimer/getitimer: struct itimerval (interval, then value; timevals) of ITIMER_REAL, _VIRTUAL or _PROF. */
function itimer(t: Task, which: number, newAddr: number, oldAddr: number, set: boolean): number {
  if (which !== ITIMER_REAL && which !== ITIMER_VIRTUAL && which !== ITIMER_PROF) fail(E.EINVAL);
  const tv = (b: Buffer, off: number): number => {
    const sec = Number(b.readBigInt64LE(off));
    const usec = Number(b.readBigInt64LE(off + 8));
    if (sec < 0 || usec < 0 || usec >= 1e6) fail(E.EINVAL);
    return sec * 1e3 + usec / 1e3;
  };
  const p = t.proc;
  let old: ItimerValue;
  if (set) {
    const b = newAddr !== 0 ? t.mm.read(newAddr, 32) : Buffer.alloc(32);
    old = t.kernel.setItimer(p, which, tv(b, 16), tv(b, 0));
  } else old = t.kernel.itimers.get(p, which);
  if (oldAddr !== 0) {
    const out = Buffer.alloc(32);
    const put = (ms: number, off: number): void => {
      const us = Math.ceil(ms * 1000);
      out.writeBigInt64LE(BigInt(Math.floor(us / 1e6)), off);
      out.writeBigInt64LE(BigInt(us % 1e6), off + 8);
    };
    put(old.interval, 0);
    put(old.left, 16);
    t.mm.write(oldAddr, out);
  }
  return 0;
}

/** alarm(2): SIGALRM in `secs` seconds; returns the seconds left of the previous one (rounded up). */
function alarm(t: Task, secs: number): number {
  const old = t.kernel.setItimer(t.proc, ITIMER_REAL, secs * 1000, 0);
  return old.left > 0 ? Math.max(1, Math.round(old.left / 1000)) : 0;
}

const ITIMER_NOTE =
  'ITIMER_REAL (SIGALRM), ITIMER_VIRTUAL (SIGVTALRM) and ITIMER_PROF (SIGPROF); the CPU timers count the time the guest runs ' +
  'in the engine and in its syscalls alike (user and system time are not told apart), charged at the end of each run of at most a time slice';

export const signalDefs: Record<string, Def> = {
  // elfrun resumes an interrupted call itself (with its own number), so a guest's
  // own call finds no restart block: EINTR, as Linux's do_no_restart_syscall
  restart_syscall: supported([], () => -E.EINTR, 'called by a guest itself: EINTR, as with no interrupted call to resume'),
  rt_sigaction: supported(['sig', 'sigact', 'sigactout', 'size'], (t, a) => rtSigaction(t, a.i32(0), a.ptr(1), a.ptr(2), a.u64(3))),
  rt_sigprocmask: supported(['sighow', 'sigset', 'sigsetout', 'size'], (t, a) => rtSigprocmask(t, a.i32(0), a.ptr(1), a.ptr(2), a.u64(3))),
  rt_sigpending: supported(['sigsetout', 'size'], (t, a) => rtSigpending(t, a.ptr(0), a.u64(1))),
  rt_sigtimedwait: supported({ args: ['sigset', 'siginfoout', 'ts', 'size'], ret: 'sig' }, (t, a) => rtSigtimedwait(t, a.ptr(0), a.ptr(1), a.ptr(2), a.u64(3))),
  rt_sigqueueinfo: supported(['int', 'sig', 'siginfo'], (t, a) => sigqueue(t, a.i32(0), null, a.i32(1), a.ptr(2))),
  rt_tgsigqueueinfo: supported(['int', 'int', 'sig', 'siginfo'], (t, a) => sigqueue(t, a.i32(0), a.i32(1), a.i32(2), a.ptr(3))),
  setitimer: partial(['itimer', 'itimerval', 'itimervalout'], (t, a) => itimer(t, a.i32(0), a.ptr(1), a.ptr(2), true), ITIMER_NOTE),
  getitimer: partial(['itimer', 'itimervalout'], (t, a) => itimer(t, a.i32(0), 0, a.ptr(1), false), ITIMER_NOTE),
  alarm: supported(['uint'], (t, a) => alarm(t, a.u32(0))),
  sigaltstack: supported(['stackin', 'stackout'], (t, a) => sigaltstack(t, a.ptr(0), a.ptr(1))),
};
