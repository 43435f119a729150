// process_vm_readv / process_vm_writev (copies between the caller's memory
// and another guest process's, as a debugger's or a checkpointer's) and kcmp
// (are two processes' resources the same kernel object?), with the
// permission checks of ptrace access.
import type { Task } from '../../proc/task.js';
import type { Process } from '../../proc/process.js';
import { PROT_READ, PROT_WRITE } from '../../abi/mman.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import { iovecs } from './fs.js';
import { mayPtrace, supported, partial, type Def } from './util.js';
import { kcmpShape } from '../signature.js';
import { EpollFile } from '../../fs/epoll.js';

/** The process a pid or tid names (ESRCH). */
function processOf(t: Task, pid: number): Process {
  const task = pid === 0 ? t : t.kernel.tasks.get(pid);
  if (task === undefined || task.state === 'dead' || task.proc.exit !== null) fail(E.ESRCH);
  return task.proc;
}

/** ptrace access, which a process always has to itself (same_thread_group) */
function mayAccess(t: Task, p: Process): void {
  if (p !== t.proc) mayPtrace(t, p);
}

/**
 * process_vm_rw: the remote iovecs in order, each up to its first page the
 * target cannot access that way (not mapped; read-only for a write), into
 * or from the local iovecs up to their first bad byte. The bytes moved, or
 * EFAULT if a fault came before any.
 */
function processVm(t: Task, pid: number, lvec: number, liovcnt: number, rvec: number, riovcnt: number, flags: number, write: boolean): number {
  if (flags !== 0) fail(E.EINVAL);
  const local = iovecs(t, lvec, liovcnt);
  if (local.every((v) => v.len === 0)) return 0;
  const remote = iovecs(t, rvec, riovcnt);
  if (remote.every((v) => v.len === 0)) return 0;
  const p = processOf(t, pid);
  mayAccess(t, p);
  const space = p.mm.space;
  const rprot = write ? PROT_WRITE : PROT_READ;
  const lprot = write ? PROT_READ : PROT_WRITE;
  let total = 0;
  let li = 0;
  let lo = 0;
  outer: for (const r of remote) {
    if (r.len === 0) continue;
    const ok = space.accessiblePrefix(r.base, r.len, rprot);
    let off = 0;
    while (off < ok) {
      if (li >= local.length) break outer;
      const l = local[li];
      if (lo >= l.len) {
        li++;
        lo = 0;
        continue;
      }
      const n = Math.min(l.len - lo, ok - off);
      const lok = t.mm.accessiblePrefix(l.base + lo, n, lprot);
      if (lok > 0) {
        if (write) space.write(r.base + off, t.mm.read(l.base + lo, lok));
        else t.mm.write(l.base + lo, space.read(r.base + off, lok));
      }
      total += lok;
      off += lok;
      lo += lok;
      if (lok < n) break outer;
    }
    if (ok < r.len) break;
  }
  if (total === 0) fail(E.EFAULT);
  return total;
}

const KCMP_FILE = 0;
const KCMP_VM = 1;
const KCMP_FILES = 2;
const KCMP_FS = 3;
const KCMP_SIGHAND = 4;
const KCMP_IO = 5;
const KCMP_SYSVSEM = 6;
const KCMP_EPOLL_TFD = 7;

/** A number for each kernel object kcmp compares: its order stands for the kernel's obfuscated pointers. */
const ids = new WeakMap<object, number>();
let nextId = 1;
const idOf = (o: object | null): number => {
  if (o === null) return 0;
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
};

/** kcmp: 0 if both name one object, else 1 or 2 by an order of the objects that holds for the life of the run. */
function kcmp(t: Task, pid1: number, pid2: number, type: number, idx1: number, idx2: number): number {
  const p1 = processOf(t, pid1);
  const p2 = processOf(t, pid2);
  mayAccess(t, p1);
  mayAccess(t, p2);
  let a: object | null;
  let b: object | null;
  switch (type) {
    case KCMP_FILE:
      if (!p1.fds.has(idx1) || !p2.fds.has(idx2)) fail(E.EBADF);
      a = p1.fds.file(idx1);
      b = p2.fds.file(idx2);
      break;
    case KCMP_VM:
      [a, b] = [p1.mm, p2.mm];
      break;
    case KCMP_FILES:
      [a, b] = [p1.fds, p2.fds];
      break;
    case KCMP_FS:
      [a, b] = [p1.fs, p2.fs];
      break;
    case KCMP_SIGHAND:
      [a, b] = [p1.sighand, p2.sighand];
      break;
    case KCMP_SYSVSEM:
      // the SEM_UNDO lists: none for a process that never used one (both none: equal, as two NULLs)
      [a, b] = [p1.semUndo, p2.semUndo];
      break;
    case KCMP_IO:
      throw new Unsupported('kcmp KCMP_IO (I/O contexts)', E.EINVAL);
    case KCMP_EPOLL_TFD: {
      // idx2 points at struct kcmp_epoll_slot {efd, tfd, toff}: the file p2's epoll efd watches as fd tfd
      // (the toff-th such registration), against p1's fd idx1
      const slot = t.mm.read(idx2, 12);
      if (!p1.fds.has(idx1)) fail(E.EBADF);
      a = p1.fds.file(idx1);
      const efd = slot.readInt32LE(0);
      if (!p2.fds.has(efd)) fail(E.EBADF);
      const ep = p2.fds.file(efd);
      if (!(ep instanceof EpollFile)) fail(E.EINVAL);
      const tfd = slot.readUInt32LE(4);
      const hit = ep.interestList().filter((i) => i.fd === tfd)[slot.readUInt32LE(8)];
      if (hit === undefined) fail(E.ENOENT);
      b = hit.file;
      break;
    }
    default:
      return fail(E.EINVAL);
  }
  const x = idOf(a);
  const y = idOf(b);
  return x === y ? 0 : x < y ? 1 : 2;
}

export const pvmDefs: Record<string, Def> = {
  process_vm_readv: supported(['int', 'localiovout', 'size', 'remoteiov', 'size', 'uint'], (t, a) => processVm(t, a.i32(0), a.ptr(1), a.u64(2), a.ptr(3), a.u64(4), a.u64(5), false), 'from any guest process the caller may ptrace; stops at the first page it cannot read'),
  process_vm_writev: supported(['int', 'iovin', 'size', 'remoteiov', 'size', 'uint'], (t, a) => processVm(t, a.i32(0), a.ptr(1), a.u64(2), a.ptr(3), a.u64(4), a.u64(5), true), 'into any guest process the caller may ptrace; stops at the first page it cannot write (read-only memory too, as without FOLL_FORCE)'),
  kcmp: partial(kcmpShape, (t, a) => kcmp(t, a.i32(0), a.i32(1), a.i32(2), a.u64(3), a.u64(4)), 'KCMP_FILE, KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND, KCMP_SYSVSEM and KCMP_EPOLL_TFD; KCMP_IO is reported as unsupported'),
};
