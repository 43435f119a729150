// System V IPC: shmget/shmat/shmdt/shmctl, semget/semop/semtimedop/semctl,
// msgget/msgsnd/msgrcv/msgctl. Both arches number each call (neither has
// the ipc(2) multiplexer); the objects are the kernel's IPC namespace's
// (src/ipc/). Handlers decode the registers and the small structures that
// are arguments; the objects' rules are in the ipc modules.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { SemUndoList, type Sop } from '../../ipc/sem.js';
import { nowMs } from '../../host/clock.js';
import { supported, partial, type Def } from './util.js';
import { vmLimits } from './mm.js';
import { SHM_RND } from '../../abi/ipc.js';
import { PAGE } from '../../mm/layout.js';

/** KTIME_MAX (2^63-1 ns) in ms: later deadlines saturate there */
const KTIME_MAX_MS = 9223372036854.775;

/** semop's struct sembuf array (6 bytes each): EINVAL for none, E2BIG past semopm, EFAULT. */
function readSops(t: Task, addr: number, n: number): Sop[] {
  if (n < 1) fail(E.EINVAL);
  if (n > t.kernel.ipc.limits.semopm) fail(E.E2BIG);
  const b = t.mm.read(addr, n * 6);
  return Array.from({ length: n }, (_, i) => ({ num: b.readUInt16LE(i * 6), op: b.readInt16LE(i * 6 + 2), flg: b.readInt16LE(i * 6 + 4) }));
}

function semtimedop(t: Task, id: number, sopsAddr: number, n: number, timeout: number): number {
  const ipc = t.kernel.ipc;
  const undo = (): SemUndoList => (t.proc.semUndo ??= new SemUndoList());
  if (t.restarting) {
    const r = ipc.sem.retry(t, id, undo);
    if (r !== null) return r;
  }
  // the timeout is read first (EFAULT), checked after the operations (EINVAL)
  const ts = timeout === 0 ? null : t.mm.read(timeout, 16);
  if (id < 0) fail(E.EINVAL);
  const sops = readSops(t, sopsAddr, n);
  let deadline = Infinity;
  if (ts !== null) {
    const sec = Number(ts.readBigInt64LE(0));
    const nsec = Number(ts.readBigInt64LE(8));
    if (sec < 0 || nsec < 0 || nsec >= 1e9) fail(E.EINVAL);
    deadline = Math.min(nowMs() + sec * 1e3 + nsec / 1e6, KTIME_MAX_MS);
  }
  return ipc.sem.semop(t, id, sops, deadline, undo);
}

/** size_t arguments the kernel takes as long (msgsz) or size_t (shmget's size): beyond 2^53 they are too large for any limit. */
const sizeArg = (v: number): number => (Number.isFinite(v) ? v : Number.MAX_SAFE_INTEGER);

export const sysvipcDefs: Record<string, Def> = {
  shmget: partial(
    ['ipckey', 'size', 'ipcflags'],
    (t, a) => t.kernel.ipc.shm.get(t, a.i32(0), a.big(1), a.i32(2)),
    'segments are host memfds of their size; SHM_HUGETLB is reported as unsupported; SHM_NORESERVE is accepted (nothing is reserved anyway)',
  ),
  shmat: partial(
    { args: ['int', 'ptr', 'shmatflags'], ret: 'hex' },
    (t, a) => {
      // an address past 2^53 is past every task size: EINVAL if unaligned without
      // SHM_RND, else ENOMEM, as do_shmat's mapping of it fails (the ids are checked first)
      if (a.ptr(1) === Infinity) {
        if (a.i32(0) < 0) fail(E.EINVAL);
        fail(a.big(1) % BigInt(PAGE) !== 0n && !(a.i32(2) & SHM_RND) ? E.EINVAL : E.ENOMEM);
      }
      return t.kernel.ipc.shm.attach(t, a.i32(0), a.ptr(1), a.i32(2), vmLimits(t));
    },
    'the segment mapped MAP_SHARED (shared across fork); /proc/<pid>/maps names it /SYSV<key> (deleted), its inode the shmid, as Linux; ' +
      'a segment over 4 GiB cannot be attached (ENOMEM: no host mapping that large is viewed)',
  ),
  shmdt: supported(['ptr'], (t, a) => t.kernel.ipc.shm.detach(t, a.ptr(0))),
  shmctl: partial(
    ['int', 'shmcmd', 'ptr'],
    (t, a) => t.kernel.ipc.shm.ctl(t, a.i32(0), a.i32(1), a.ptr(2)),
    'IPC_STAT, IPC_SET, IPC_RMID (destroyed on the last detach), IPC_INFO, SHM_INFO (shm_rss from the host memfd, no swap), SHM_STAT, SHM_STAT_ANY; ' +
      'SHM_LOCK and SHM_UNLOCK set and clear SHM_LOCKED without locking pages (nothing is swapped out by elfrun)',
  ),
  semget: supported(['ipckey', 'int', 'ipcflags'], (t, a) => t.kernel.ipc.sem.get(t, a.i32(0), a.i32(1), a.i32(2))),
  semop: supported(['int', 'sembuf', 'uint'], (t, a) => semtimedop(t, a.i32(0), a.ptr(1), a.u32(2), 0), 'SEM_UNDO applied at exit; a signal ends a wait with EINTR, handler or not, as Linux'),
  semtimedop: supported(['int', 'sembuf', 'uint', 'ts'], (t, a) => semtimedop(t, a.i32(0), a.ptr(1), a.u32(2), a.ptr(3))),
  semctl: supported(['int', 'int', 'semcmd', 'ptr'], (t, a) => t.kernel.ipc.sem.ctl(t, a.i32(0), a.i32(1), a.i32(2), a.ptr(3), a.i32(3))),
  msgget: supported(['ipckey', 'ipcflags'], (t, a) => t.kernel.ipc.msg.get(t, a.i32(0), a.i32(1))),
  msgsnd: supported(['int', 'msgbufin', 'size', 'msgipcflags'], (t, a) => t.kernel.ipc.msg.send(t, a.i32(0), a.ptr(1), sizeArg(a.u64(2)), a.i32(3))),
  msgrcv: supported(['int', 'msgbufout', 'size', 'int', 'msgipcflags'], (t, a) =>
    t.kernel.ipc.msg.receive(t, a.i32(0), a.ptr(1), a.i64(2) < 0 ? -1 : sizeArg(a.u64(2)), BigInt.asIntN(64, a.big(3)), a.i32(4)),
  ),
  msgctl: supported(['int', 'msgcmd', 'ptr'], (t, a) => t.kernel.ipc.msg.ctl(t, a.i32(0), a.i32(1), a.ptr(2))),
};
