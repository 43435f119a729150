// The kernel's side of signal-driven I/O (fs/fasync.ts): who an owner names
// (f_getown's answer, find_vpid's ESRCH) and send_sigio: each task or process
// the owner names that passes sigio_perm gets F_SETSIG's signal queued with
// si_code the reason, si_band and si_fd, or plain SIGIO (SEND_SIG_PRIV) when
// no signal was set or a real-time queue is full (send_sigio_to_task).
import type { FOwner, SigioSender } from '../fs/fasync.js';
import { SIGIO_BAND } from '../fs/fasync.js';
import { SI_KERNEL, SIG, SIGRTMIN } from '../abi/signal.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';
import type { Task } from './task.js';
import { RT_QUEUE_MAX, type SignalTarget } from './signals.js';

/** Does a task or process group of this number exist (find_vpid)? */
export function pidExists(k: Kernel, n: number): boolean {
  if (k.tasks.has(n) || k.processes.has(n)) return true;
  for (const p of k.processes.values()) if (p.pgid === n || p.sid === n) return true;
  return false;
}

/** The processes of a process group that have not exited. */
function group(k: Kernel, pgid: number): Process[] {
  return [...k.processes.values()].filter((p) => p.pgid === pgid && p.exit === null);
}

/** Is there still what the owner names (pid_task(f_owner.pid, pid_type))? */
export function ownerAlive(k: Kernel, o: FOwner): boolean {
  if (o.pid === 0) return false;
  switch (o.type) {
    case 'tid': {
      const t = k.tasks.get(o.pid);
      return t !== undefined && t.state !== 'dead';
    }
    case 'pid': {
      // a thread group's leader: an owner set to another thread's id names no process here
      const p = k.processes.get(o.pid);
      return p !== undefined && p.exit === null;
    }
    case 'pgrp':
      return group(k, o.pid).length > 0;
  }
}

/** sigio_perm: the owner's setter is root, or its real or effective uid is the receiver's real or saved uid. */
function permitted(o: FOwner, p: Process): boolean {
  const c = p.cred;
  return o.euid === 0 || o.euid === c.suid || o.euid === c.ruid || o.uid === c.suid || o.uid === c.ruid;
}

/** SEND_SIG_PRIV's siginfo: a signal from the kernel */
function kernelInfo(sig: number): Buffer {
  const b = Buffer.alloc(128);
  b.writeInt32LE(sig, 0);
  b.writeInt32LE(SI_KERNEL, 8);
  return b;
}

function pollInfo(sig: number, reason: number, fd: number): Buffer {
  const b = Buffer.alloc(128);
  b.writeInt32LE(sig, 0);
  b.writeInt32LE(reason, 8);
  b.writeBigInt64LE(BigInt(SIGIO_BAND[reason - 1] ?? -1), 16);
  b.writeInt32LE(fd, 24);
  return b;
}

/** A real-time signal's queue on the target is full (Linux's __send_signal fails with EAGAIN). */
function full(target: SignalTarget, sig: number): boolean {
  return sig >= SIGRTMIN && (target.siginfo.get(sig)?.length ?? 0) >= RT_QUEUE_MAX;
}

/** The Machine's SigioSender. */
export function sigioSender(k: Kernel): SigioSender {
  const toTarget = (o: FOwner, fd: number, reason: number, p: Process, t: Task | null): void => {
    if (!permitted(o, p)) return;
    const send = (sig: number, info: Buffer): void => (t !== null ? k.signals.sendToTask(t, sig, info) : k.signals.sendToProcess(p, sig, info));
    const sig = o.signum;
    if (sig !== 0 && !full(t ?? p, sig)) send(sig, pollInfo(sig, reason, fd));
    else send(SIG.SIGIO, kernelInfo(SIG.SIGIO));
  };
  return {
    sigio(o, fd, reason) {
      if (o.pid === 0) return;
      if (o.type === 'pgrp') {
        for (const p of group(k, o.pid)) toTarget(o, fd, reason, p, null);
        return;
      }
      const t = k.tasks.get(o.pid);
      if (t === undefined || t.state === 'dead') return;
      toTarget(o, fd, reason, t.proc, o.type === 'tid' ? t : null);
    },
  };
}
