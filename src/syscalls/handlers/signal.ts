// Signal dispositions and masks. Recorded faithfully; delivery comes with the processes issue.
import type { Task } from '../../proc/task.js';
import { PROT_WRITE } from '../../mm/address-space.js';
import { E, fail } from '../errno.js';
import { NSIG, SIG } from '../../proc/signals.js';
import { partial, supported, type Def } from './util.js';

const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;
const UNBLOCKABLE = (1n << BigInt(SIG.SIGKILL - 1)) | (1n << BigInt(SIG.SIGSTOP - 1));

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

const SS_ONSTACK = 1;
const SS_DISABLE = 2;
const SS_AUTODISARM = 1 << 31;

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
      if (size < t.arch.minSigStkSz || size < 2048) fail(E.ENOMEM); // MINSIGSTKSZ
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

export const signalDefs: Record<string, Def> = {
  rt_sigaction: partial((t, a) => rtSigaction(t, a.i32(0), a.ptr(1), a.ptr(2), a.u64(3)), 'dispositions are recorded; signals are not delivered yet'),
  rt_sigprocmask: partial((t, a) => rtSigprocmask(t, a.i32(0), a.ptr(1), a.ptr(2), a.u64(3)), 'the mask is recorded; signals are not delivered yet'),
  sigaltstack: supported((t, a) => sigaltstack(t, a.ptr(0), a.ptr(1))),
};
