// kcmp(2): whether two tasks share a kernel resource (an open file
// description, address space, fd table, fs state, signal handlers, SEM_UNDO
// list), with Linux's ptrace access check on both. Linux orders unequal
// resources by obfuscated pointers (1: less, 2: greater); here by an id each
// object gets when first compared, which is as stable and as meaningless.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import { partial, type Def } from './util.js';
import type { Args } from '../../cpu/args.js';
import type { Shape } from '../signature.js';

const KCMP_FILE = 0;
const KCMP_VM = 1;
const KCMP_FILES = 2;
const KCMP_FS = 3;
const KCMP_SIGHAND = 4;
const KCMP_IO = 5;
const KCMP_SYSVSEM = 6;
const KCMP_EPOLL_TFD = 7;

const CAP_SYS_PTRACE = 1n << 19n;

/** the id of an object, given on first sight (what kcmp orders by) */
const ids = new WeakMap<object, number>();
let nextId = 1;
const idOf = (o: object | null): number => {
  if (o === null) return 0;
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
};
/** kcmp_ptr: 0 equal, 1 less, 2 greater */
const order = (a: object | null, b: object | null): number => {
  const x = idOf(a), y = idOf(b);
  return x === y ? 0 : x < y ? 1 : 2;
};

/**
 * ptrace_may_access(PTRACE_MODE_READ_REALCREDS): a thread of one's own
 * process; else the caller's real uid and gid those of all the target's
 * ids, and the target dumpable; or CAP_SYS_PTRACE.
 */
export function ptraceMayRead(t: Task, target: Task): boolean {
  if (target.proc === t.proc) return true;
  const c = t.cred, tc = target.cred;
  if (c.caps.eff & CAP_SYS_PTRACE) return true;
  const sameIds = c.ruid === tc.euid && c.ruid === tc.suid && c.ruid === tc.ruid && c.rgid === tc.egid && c.rgid === tc.sgid && c.rgid === tc.rgid;
  return sameIds && target.proc.dumpable === 1;
}

function kcmp(t: Task, pid1: number, pid2: number, type: number, idx1: number, idx2: number): number {
  const t1 = t.kernel.tasks.get(pid1);
  const t2 = t.kernel.tasks.get(pid2);
  if (t1 === undefined || t2 === undefined || t1.state === 'dead' || t2.state === 'dead') fail(E.ESRCH);
  if (!ptraceMayRead(t, t1) || !ptraceMayRead(t, t2)) fail(E.EPERM);
  switch (type) {
    case KCMP_FILE: // EBADF for an fd either task lacks
      return order(t1.fds.file(idx1), t2.fds.file(idx2));
    case KCMP_VM:
      return order(t1.proc.mm, t2.proc.mm);
    case KCMP_FILES:
      return order(t1.proc.fds, t2.proc.fds);
    case KCMP_FS:
      return order(t1.proc.fs, t2.proc.fs);
    case KCMP_SIGHAND:
      return order(t1.proc.sighand, t2.proc.sighand);
    case KCMP_SYSVSEM:
      return order(t1.proc.semUndo, t2.proc.semUndo);
    case KCMP_IO:
      throw new Unsupported('kcmp KCMP_IO (elfrun keeps no I/O contexts)', E.EINVAL);
    case KCMP_EPOLL_TFD:
      throw new Unsupported('kcmp KCMP_EPOLL_TFD', E.EINVAL);
    default:
      fail(E.EINVAL);
  }
}

/** strace shows the two indexes only for the types that use them */
const kcmpShape = (a: Args): Shape => {
  const type = a.u32(2);
  if (type === KCMP_EPOLL_TFD) return { args: ['int', 'int', 'kcmptype', 'uint', 'ptr'], ret: 'int' };
  // the resource types without indexes; an unknown type shows both
  return { args: type >= KCMP_VM && type <= KCMP_SYSVSEM ? ['int', 'int', 'kcmptype'] : ['int', 'int', 'kcmptype', 'uint', 'uint'], ret: 'int' };
};

export const kcmpDefs: Record<string, Def> = {
  kcmp: partial(kcmpShape, (t, a) => kcmp(t, a.i32(0), a.i32(1), a.i32(2), a.u32(3), a.u32(4)),
    'KCMP_FILE, KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND, KCMP_SYSVSEM, with the ptrace access check; KCMP_IO and KCMP_EPOLL_TFD are reported as unsupported'),
};
