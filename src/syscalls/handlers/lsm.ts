// The LSM syscalls (Linux 6.8, security/lsm_syscalls.c and security.c's
// security_getselfattr/setselfattr) as a kernel whose only security module
// is the capability one answers them: it is the one module listed, and no
// module keeps process attributes (no SELinux, Smack or AppArmor: the guest
// sees none, as /proc/<pid>/attr shows), so getting or setting one is
// EOPNOTSUPP after Linux's own checks.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { partial, type Def } from './util.js';

/** LSM_ID_CAPABILITY (linux/lsm.h) */
const LSM_ID_CAPABILITY = 100n;
const LSM_ID_UNDEF = 0n;
const LSM_ATTR_UNDEF = 0;
const LSM_FLAG_SINGLE = 1;
/** struct lsm_ctx {u64 id, flags, len, ctx_len; u8 ctx[]} */
const LSM_CTX_SIZE = 32;
const PAGE_SIZE = 4096;

const u32At = (t: Task, addr: number): number => t.mm.read(addr, 4).readUInt32LE(0);
function putU32(t: Task, addr: number, v: number): void {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  t.mm.write(addr, b);
}

/** lsm_list_modules: the size needed is written back first; E2BIG when the caller's is smaller */
function listModules(t: Task, idsAddr: number, sizeAddr: number, flags: number): number {
  if (flags !== 0) fail(E.EINVAL);
  const ids = [LSM_ID_CAPABILITY];
  const total = ids.length * 8;
  const usize = u32At(t, sizeAddr);
  putU32(t, sizeAddr, total);
  if (usize < total) fail(E.E2BIG);
  const b = Buffer.alloc(total);
  ids.forEach((id, i) => b.writeBigUInt64LE(id, i * 8));
  t.mm.write(idsAddr, b);
  return ids.length;
}

/** security_getselfattr with no module answering: the checks, then a total size of 0 and EOPNOTSUPP */
function getSelfAttr(t: Task, attr: number, ctxAddr: number, sizeAddr: number, flags: number): number {
  if (attr === LSM_ATTR_UNDEF) fail(E.EINVAL);
  if (sizeAddr === 0) fail(E.EINVAL);
  u32At(t, sizeAddr);
  if (flags !== 0) {
    if (flags !== LSM_FLAG_SINGLE || ctxAddr === 0) fail(E.EINVAL);
    if (t.mm.read(ctxAddr, LSM_CTX_SIZE).readBigUInt64LE(0) === LSM_ID_UNDEF) fail(E.EINVAL);
  }
  putU32(t, sizeAddr, 0);
  return fail(E.EOPNOTSUPP);
}

/** security_setselfattr with no module answering: the struct's checks, then EOPNOTSUPP */
function setSelfAttr(t: Task, ctxAddr: number, size: number, flags: number): number {
  if (flags !== 0) fail(E.EINVAL);
  if (size < LSM_CTX_SIZE) fail(E.EINVAL);
  if (size > PAGE_SIZE) fail(E.E2BIG);
  const b = t.mm.read(ctxAddr, size);
  const len = b.readBigUInt64LE(16);
  const required = BigInt(LSM_CTX_SIZE) + b.readBigUInt64LE(24);
  // check_add_overflow on a u64: a ctx_len that wraps is EINVAL too
  if (BigInt(size) < len || required > 0xffffffffffffffffn || len < required) fail(E.EINVAL);
  return fail(E.EOPNOTSUPP);
}

const NOTE = 'as a kernel with only the capability security module: it alone is listed (the host\'s lockdown, Landlock, BPF... are not: elfrun provides none of them); no module keeps process attributes (no SELinux, Smack, AppArmor), so lsm_get_self_attr and lsm_set_self_attr give EOPNOTSUPP after their checks';

// struct lsm_ctx and the id list are shown by address (strace 6.8 decodes them)
export const lsmDefs: Record<string, Def> = {
  lsm_list_modules: partial(['ptr', 'ptr', 'hex'], (t, a) => listModules(t, a.ptr(0), a.ptr(1), a.u32(2)), NOTE),
  lsm_get_self_attr: partial(['uint', 'ptr', 'ptr', 'hex'], (t, a) => getSelfAttr(t, a.u32(0), a.ptr(1), a.ptr(2), a.u32(3)), NOTE),
  lsm_set_self_attr: partial(['uint', 'ptr', 'uint', 'hex'], (t, a) => setSelfAttr(t, a.ptr(1), a.u32(2), a.u32(3)), NOTE),
};
