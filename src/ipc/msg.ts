// System V message queues (Linux's ipc/msg.c): typed messages, a queue's
// byte limit (msg_qbytes, from msgmnb), receivers choosing by type (any, a
// type, any but a type with MSG_EXCEPT, the lowest type up to a bound, the
// n-th with MSG_COPY). A sender waits while its message does not fit, a
// receiver while none matches; each retries when the queue changes (a
// receiver waiting first is woken first). Waits end with EIDRM when the
// queue is removed, and with a signal as Linux's ERESTARTNOHAND: EINTR
// after a handler, resumed after a stop.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import type { Cred } from '../ctx/cred.js';
import { WaitQueue } from '../ctx/waitq.js';
import type { IoContext } from '../fs/context.js';
import { capable, CAP_SYS_RESOURCE, IPC64_PERM_SIZE, IpcIds, IpcPerm, nowSec, S_IRUGO, S_IRWXUGO, S_IWUGO, type IpcObject } from './ids.js';
import { IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, MSG_COPY, MSG_EXCEPT, MSG_INFO, MSG_NOERROR, MSG_STAT, MSG_STAT_ANY, MSGMNB, MSGPOOL, MSGSEG, MSGSSZ } from '../abi/ipc.js';
import type { IpcLimits } from './limits.js';


const LONG_MAX = 2n ** 63n - 1n;

interface Message {
  type: bigint;
  text: Buffer;
}

export class MsgQueue implements IpcObject {
  readonly perm: IpcPerm;
  readonly messages: Message[] = [];
  cbytes = 0;
  qbytes: number;
  lspid = 0;
  lrpid = 0;
  stime = 0;
  rtime = 0;
  ctime = nowSec();
  readonly senders = new WaitQueue('msgsnd');
  readonly receivers = new WaitQueue('msgrcv');
  constructor(key: number, mode: number, c: Cred, qbytes: number) {
    this.perm = new IpcPerm(key, mode, c);
    this.qbytes = qbytes;
  }
}

export class MessageQueues {
  readonly ids: IpcIds<MsgQueue>;
  /** messages and bytes in all queues (MSG_INFO's msgmap and msgtql) */
  private hdrs = 0;
  private bytes = 0;
  /** the queue each parked sender or receiver waits on, by tid: its retry finds it removed (EIDRM) */
  private readonly parked = new Map<number, MsgQueue>();

  constructor(private readonly limits: IpcLimits) {
    this.ids = new IpcIds(() => limits.msgmni);
  }

  /** msgget(2) */
  get(t: IoContext, key: number, flags: number): number {
    return this.ids.getOrMake(
      key,
      flags,
      t.cred,
      () => {
        if (this.ids.inUse >= this.limits.msgmni) fail(E.ENOSPC);
        return new MsgQueue(key, flags & S_IRWXUGO, t.cred, this.limits.msgmnb);
      },
      () => undefined,
    );
  }

  /** msgsnd(2): the message at `addr` (a long type, then `size` bytes). */
  send(t: IoContext, id: number, addr: number, size: number, flags: number): number {
    if (size > this.limits.msgmax || size < 0 || id < 0) fail(E.EINVAL);
    const type = t.mm.read(addr, 8).readBigInt64LE(0);
    if (type < 1n) fail(E.EINVAL);
    const text = t.mm.read(addr + 8, size);
    this.removedWhileParked(t);
    const q = this.ids.get(id);
    q.perm.check(t.cred, S_IWUGO);
    if (!q.perm.valid) fail(E.EIDRM);
    // msg_fits_inqueue: the bytes, and one message per byte of msg_qbytes
    if (size + q.cbytes > q.qbytes || 1 + q.messages.length > q.qbytes) {
      if (flags & IPC_NOWAIT) fail(E.EAGAIN);
      this.parked.set(t.tid, q);
      t.block([q.senders], { restart: 'nohand' });
    }
    q.lspid = t.pid;
    q.stime = nowSec();
    q.messages.push({ type, text });
    q.cbytes += size;
    this.hdrs++;
    this.bytes += size;
    q.receivers.wake();
    return 0;
  }

  /** msgrcv(2): the message's size copied to `addr` (its type, then its text). */
  receive(t: IoContext, id: number, addr: number, size: number, type: bigint, flags: number): number {
    if (id < 0 || size < 0) fail(E.EINVAL);
    if (flags & MSG_COPY && (flags & MSG_EXCEPT || !(flags & IPC_NOWAIT))) fail(E.EINVAL);
    this.removedWhileParked(t);
    const q = this.ids.get(id);
    q.perm.check(t.cred, S_IRUGO);
    if (!q.perm.valid) fail(E.EIDRM);
    const i = this.find(q, type, flags);
    if (i < 0) {
      if (flags & IPC_NOWAIT) fail(E.ENOMSG);
      this.parked.set(t.tid, q);
      t.block([q.receivers], { restart: 'nohand' });
    }
    const m = q.messages[i];
    if (size < m.text.length && !(flags & MSG_NOERROR)) fail(E.E2BIG);
    const n = Math.min(size, m.text.length);
    if (!(flags & MSG_COPY)) {
      q.messages.splice(i, 1);
      q.cbytes -= m.text.length;
      this.hdrs--;
      this.bytes -= m.text.length;
      q.rtime = nowSec();
      q.lrpid = t.pid;
      q.senders.wake();
    }
    // the message is off the queue even if it cannot be copied out (EFAULT), as on Linux
    const out = Buffer.alloc(8 + n);
    out.writeBigInt64LE(m.type, 0);
    m.text.copy(out, 8, 0, n);
    t.mm.write(addr, out);
    return n;
  }

  /** A retried wait whose queue was removed meanwhile: EIDRM. */
  private removedWhileParked(t: IoContext): void {
    const q = t.restarting ? this.parked.get(t.tid) : undefined;
    this.parked.delete(t.tid);
    if (q !== undefined && !q.perm.valid) fail(E.EIDRM);
  }

  /** find_msg, by convert_mode's search: the index of the message to take, -1 for none. */
  private find(q: MsgQueue, type: bigint, flags: number): number {
    const ms = q.messages;
    if (flags & MSG_COPY) return type >= 0n && type < BigInt(ms.length) ? Number(type) : -1;
    if (type === 0n) return ms.length > 0 ? 0 : -1;
    if (type < 0n) {
      const bound = type === -(2n ** 63n) ? LONG_MAX : -type;
      let best = -1;
      for (let i = 0; i < ms.length; i++) if (ms[i].type <= bound && (best < 0 || ms[i].type < ms[best].type)) best = i;
      return best;
    }
    if (flags & MSG_EXCEPT) return ms.findIndex((m) => m.type !== type);
    return ms.findIndex((m) => m.type === type);
  }

  /** msgctl(2) */
  ctl(t: IoContext, id: number, cmd: number, buf: number): number {
    if (id < 0 || cmd < 0) fail(E.EINVAL);
    const c = t.cred;
    switch (cmd) {
      case IPC_INFO:
      case MSG_INFO: {
        const l = this.limits;
        const info = cmd === MSG_INFO;
        const b = Buffer.alloc(32);
        // msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql, msgseg (unsigned short)
        const v = [info ? this.ids.inUse : MSGPOOL, info ? this.hdrs : MSGMNB, l.msgmax, l.msgmnb, l.msgmni, MSGSSZ, info ? this.bytes : MSGMNB];
        v.forEach((x, i) => b.writeInt32LE(Math.min(x, 0x7fffffff) | 0, i * 4));
        b.writeUInt16LE(MSGSEG, 28);
        t.mm.write(buf, b);
        return Math.max(this.ids.maxIdx(), 0);
      }
      case IPC_STAT:
      case MSG_STAT:
      case MSG_STAT_ANY: {
        const q = cmd === IPC_STAT ? this.ids.get(id) : this.ids.at(id);
        if (cmd !== MSG_STAT_ANY) q.perm.check(c, S_IRUGO);
        t.mm.write(buf, this.encode(q));
        return cmd === IPC_STAT ? 0 : q.perm.id;
      }
      case IPC_SET:
      case IPC_RMID: {
        const b = cmd === IPC_SET ? t.mm.read(buf, 120) : null;
        const q = this.ids.get(id);
        q.perm.checkOwner(c);
        if (b !== null) {
          const qbytes = Number(b.readBigUInt64LE(88));
          if (qbytes > this.limits.msgmnb && !capable(c, CAP_SYS_RESOURCE)) fail(E.EPERM);
          q.perm.update(b.subarray(0, IPC64_PERM_SIZE));
          q.qbytes = qbytes;
          q.ctime = nowSec();
          // senders may fit now; receivers retry (their permission may have changed)
          q.senders.wake();
          q.receivers.wake();
          return 0;
        }
        this.ids.remove(q);
        this.hdrs -= q.messages.length;
        this.bytes -= q.cbytes;
        q.messages.length = 0;
        q.senders.wake();
        q.receivers.wake();
        return 0;
      }
      default:
        return fail(E.EINVAL);
    }
  }

  /** struct msqid64_ds (120 bytes, the same on x86_64 and arm64). */
  private encode(q: MsgQueue): Buffer {
    const b = Buffer.alloc(120);
    q.perm.encode(b, 0);
    b.writeBigInt64LE(BigInt(q.stime), 48);
    b.writeBigInt64LE(BigInt(q.rtime), 56);
    b.writeBigInt64LE(BigInt(q.ctime), 64);
    b.writeBigUInt64LE(BigInt(q.cbytes), 72);
    b.writeBigUInt64LE(BigInt(q.messages.length), 80);
    b.writeBigUInt64LE(BigInt(q.qbytes), 88);
    b.writeInt32LE(q.lspid, 96);
    b.writeInt32LE(q.lrpid, 100);
    return b;
  }

  /** /proc/sysvipc/msg */
  procText(): string {
    let out = '       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n';
    for (const q of [...this.ids.values()].sort((a, b) => (a.perm.id % 32768) - (b.perm.id % 32768))) {
      const p = q.perm;
      out +=
        `${String(p.key | 0).padStart(10)} ${String(p.id).padStart(10)}  ${p.mode.toString(8).padStart(4)}  ${String(q.cbytes).padStart(10)} ${String(q.messages.length).padStart(10)} ` +
        `${String(q.lspid).padStart(5)} ${String(q.lrpid).padStart(5)} ${String(p.uid).padStart(5)} ${String(p.gid).padStart(5)} ${String(p.cuid).padStart(5)} ${String(p.cgid).padStart(5)} ` +
        `${String(q.stime).padStart(10)} ${String(q.rtime).padStart(10)} ${String(q.ctime).padStart(10)}\n`;
    }
    return out;
  }
}
