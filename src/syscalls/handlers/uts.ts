// uname, sethostname, setdomainname: the guest's UTS names (proc/uts.ts).
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { PROT_WRITE } from '../../abi/mman.js';
import { UTS_LEN } from '../../proc/uts.js';
import { supported, type Def } from './util.js';

const CAP_SYS_ADMIN = 1n << 21n;

function uname(t: Task, addr: number): number {
  t.mm.check(addr, UTS_LEN * 6, PROT_WRITE);
  t.mm.write(addr, (t.proc.uts ?? t.kernel.uts).bytes(t.arch.machine));
  return 0;
}

/** sethostname, setdomainname: CAP_SYS_ADMIN (EPERM), at most 64 bytes (EINVAL), then the bytes (EFAULT). */
function setName(t: Task, addr: number, len: number, which: 'nodename' | 'domainname'): number {
  if ((t.cred.caps.eff & CAP_SYS_ADMIN) === 0n) fail(E.EPERM);
  if (len < 0 || len > UTS_LEN - 1) fail(E.EINVAL);
  const name = len > 0 ? t.mm.read(addr, len) : Buffer.alloc(0);
  // the name is the bytes given, up to a NUL among them
  const end = name.indexOf(0);
  (t.proc.uts ?? t.kernel.uts)[which] = Buffer.from(end < 0 ? name : name.subarray(0, end));
  return 0;
}

export const utsDefs: Record<string, Def> = {
  uname: supported(['utsname'], (t, a) => uname(t, a.ptr(0)), "the host's kernel name, release and version; the guest's machine; the guest's own nodename and domainname (the host's at start)"),
  sethostname: supported(['strin', 'int'], (t, a) => setName(t, a.ptr(0), a.i32(1), 'nodename'), "the guest's nodename, for every guest process; the host's is untouched"),
  setdomainname: supported(['strin', 'int'], (t, a) => setName(t, a.ptr(0), a.i32(1), 'domainname'), "the guest's domainname, for every guest process; the host's is untouched"),
};
