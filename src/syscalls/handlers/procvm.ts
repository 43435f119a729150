// process_vm_readv / process_vm_writev: copying between the caller's memory
// and another guest process's, iovec by iovec on both sides, as Linux's
// process_vm_rw does: the bytes done up to the first fault on either side
// (EFAULT only when none were), ESRCH for no such task, EPERM without ptrace
// access. The copy goes page by page of the remote side, so a fault there
// ends it at a page boundary, as pinning the remote pages does on Linux.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { IOV_MAX } from '../../abi/limits.js';
import type { AddressSpace } from '../../mm/address-space.js';
import { iovecs, type Iov } from './fs.js';
import { ptraceMayRead } from './kcmp.js';
import { supported, type Def } from './util.js';

const PAGE = 4096;

function processVm(t: Task, write: boolean, pid: number, lvec: number, lcnt: number, rvec: number, rcnt: number, flags: number): number {
  if (flags !== 0) fail(E.EINVAL);
  if (lcnt > IOV_MAX || rcnt > IOV_MAX) fail(E.EINVAL);
  const local = iovecs(t, lvec, lcnt);
  if (local.every((v) => v.len === 0)) return 0;
  const remote = iovecs(t, rvec, rcnt);
  const target = pid > 0 ? t.kernel.tasks.get(pid) : undefined;
  if (target === undefined || target.state === 'dead') fail(E.ESRCH);
  // PTRACE_MODE_ATTACH_REALCREDS
  if (!ptraceMayRead(t, target)) fail(E.EPERM);
  return copy(t.mm, local, target.mm, remote, write);
}

/** Copy between the iovecs (remote to local, or local to remote when `write`): the bytes done, EFAULT if a fault came first. */
function copy(lmm: AddressSpace, local: Iov[], rmm: AddressSpace, remote: Iov[], write: boolean): number {
  let done = 0;
  let li = 0, loff = 0;
  for (const r of remote) {
    let roff = 0;
    while (roff < r.len) {
      while (li < local.length && loff >= local[li].len) {
        li++;
        loff = 0;
      }
      if (li === local.length) return done;
      const raddr = r.base + roff;
      const laddr = local[li].base + loff;
      const n = Math.min(r.len - roff, local[li].len - loff, PAGE - (raddr % PAGE), PAGE - (laddr % PAGE));
      try {
        if (write) rmm.write(raddr, lmm.read(laddr, n));
        else lmm.write(laddr, rmm.read(raddr, n));
      } catch (err) {
        if (done === 0) throw err;
        return done;
      }
      done += n;
      roff += n;
      loff += n;
    }
  }
  return done;
}

export const procvmDefs: Record<string, Def> = {
  process_vm_readv: supported(['int', 'localiovout', 'size', 'remoteiov', 'size', 'uint'], (t, a) => processVm(t, false, a.i32(0), a.ptr(1), a.u64(2), a.ptr(3), a.u64(4), a.u64(5)),
    'between guest processes; a fault ends the copy at a page of the remote side, and at a page of the local one'),
  process_vm_writev: supported(['int', 'iovin', 'size', 'remoteiov', 'size', 'uint'], (t, a) => processVm(t, true, a.i32(0), a.ptr(1), a.u64(2), a.ptr(3), a.u64(4), a.u64(5))),
};
