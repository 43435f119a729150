// The xattr calls: get, list, set and remove, each by path, by path without
// following a final link (l*), by fd (f*), and relative to a dirfd with
// AT_* flags and struct xattr_args (*at, Linux 6.13). The attributes themselves
// and their permission checks are the file system's (fs/xattr.ts, tmpfs,
// the host's file systems).
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, SysError } from '../../abi/errors.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW } from '../../abi/fcntl.js';
import { XATTR_NAME_MAX, XATTR_SIZE_MAX } from '../../abi/limits.js';
import { PathFile } from '../../fs/file.js';
import type { Loc } from '../../fs/vfs.js';
import { XATTR_CREATE, XATTR_REPLACE } from '../../fs/xattr.js';
import { fdLoc } from '../../procfs/fds.js';
import { lookupAt, partial, pathArg, type Def } from './util.js';
import type { Args } from '../../cpu/args.js';

/** An attribute's name from guest memory: EFAULT, ERANGE for an empty or too long one (import_xattr_name). */
function nameArg(t: Task, addr: number): Buffer {
  let name: Buffer;
  try {
    name = t.mm.cstring(addr, XATTR_NAME_MAX + 1);
  } catch (e) {
    // no NUL within XATTR_NAME_MAX + 1 bytes: the name is too long
    if (e instanceof SysError && e.errno === E.ENAMETOOLONG) fail(E.ERANGE);
    throw e;
  }
  if (name.length === 0 || name.length > XATTR_NAME_MAX) fail(E.ERANGE);
  return name;
}

/** Where an f* call works: the fd's file (an O_PATH fd has none: EBADF). */
function fdPlace(t: Task, fd: number): Loc {
  const f = t.fds.file(fd);
  if (f instanceof PathFile) fail(E.EBADF);
  return fdLoc(t, f);
}

type Where = (t: Task, a: Args) => Loc;
const byPath = (follow: boolean): Where => (t, a) => lookupAt(t, AT_FDCWD, pathArg(t, a.ptr(0)), follow);
const byFd: Where = (t, a) => fdPlace(t, a.i32(0));

/** The value of a get into guest memory (size 0: only its size). */
function getValue(t: Task, loc: Loc, name: Buffer, addr: number, size: number): number {
  const out = new Uint8Array(Math.min(size, XATTR_SIZE_MAX));
  const n = loc.node.getxattr(t, name, out);
  if (size > 0) t.mm.write(addr, out.subarray(0, n));
  return n;
}

function listNames(t: Task, loc: Loc, addr: number, size: number): number {
  const out = new Uint8Array(Math.min(size, XATTR_SIZE_MAX));
  const n = loc.node.listxattr(t, out);
  if (size > 0) t.mm.write(addr, out.subarray(0, n));
  return n;
}

/** A set's flags, name and value, checked and read (EINVAL, ERANGE, E2BIG, EFAULT) before the lookup, as setxattr_copy does. */
function setArgs(t: Task, nameAddr: number, valueAddr: number, size: number, flags: number): { name: Buffer; value: Buffer } {
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) fail(E.EINVAL);
  const name = nameArg(t, nameAddr);
  if (size > XATTR_SIZE_MAX) fail(E.E2BIG);
  const value = size > 0 ? t.mm.read(valueAddr, size) : Buffer.alloc(0);
  return { name, value };
}

function setValue(t: Task, loc: Loc, name: Buffer, value: Buffer, flags: number): number {
  t.kernel.vfs.writable(loc);
  loc.node.setxattr(t, name, value, flags);
  return 0;
}

function removeName(t: Task, loc: Loc, name: Buffer): number {
  t.kernel.vfs.writable(loc);
  loc.node.removexattr(t, name);
  return 0;
}

/** getxattr family: the name is read before the path is looked up, as Linux does. */
function getxattr(where: Where) {
  return (t: Task, a: Args): number => {
    const name = nameArg(t, a.ptr(1));
    return getValue(t, where(t, a), name, a.ptr(2), a.size(3));
  };
}

function listxattr(where: Where) {
  return (t: Task, a: Args): number => listNames(t, where(t, a), a.ptr(1), a.size(2));
}

/** setxattr family: EROFS on a read-only mount. */
function setxattr(where: Where) {
  return (t: Task, a: Args): number => {
    const flags = a.i32(4);
    const { name, value } = setArgs(t, a.ptr(1), a.ptr(2), a.size(3), flags);
    return setValue(t, where(t, a), name, value, flags);
  };
}

function removexattr(where: Where) {
  return (t: Task, a: Args): number => {
    const name = nameArg(t, a.ptr(1));
    return removeName(t, where(t, a), name);
  };
}

// ---- the *at calls (Linux 6.13) --------------------------------------------------------

/** struct xattr_args {u64 value; u32 size; u32 flags}: version 0 and the latest are 16 bytes */
const XATTR_ARGS_SIZE_VER0 = 16;
const PAGE_SIZE = 4096;

interface XattrArgs {
  value: number;
  size: number;
  flags: number;
}

/** struct xattr_args with copy_struct_from_user's size rules: EINVAL below 16 bytes, E2BIG past a page or for a non-zero tail, EFAULT. */
function xattrArgs(t: Task, addr: number, usize: number): XattrArgs {
  if (usize < XATTR_ARGS_SIZE_VER0) fail(E.EINVAL);
  if (usize > PAGE_SIZE) fail(E.E2BIG);
  if (usize > XATTR_ARGS_SIZE_VER0 && t.mm.read(addr + XATTR_ARGS_SIZE_VER0, usize - XATTR_ARGS_SIZE_VER0).some((b) => b !== 0)) fail(E.E2BIG);
  const b = t.mm.read(addr, XATTR_ARGS_SIZE_VER0);
  return { value: Number(b.readBigUInt64LE(0)), size: b.readUInt32LE(8), flags: b.readUInt32LE(12) };
}

const AT_XATTR_FLAGS = AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH;

/**
 * Where an *at call works, as getname_maybe_null and its callers decide:
 * with AT_EMPTY_PATH, an empty or NULL path means dfd itself. A dfd >= 0 is
 * then its open file (an O_PATH one is EBADF); a negative one is looked up
 * as an empty path (AT_FDCWD: the cwd) by set and get, while list and
 * remove take only an open fd (AT_FDCWD is EBADF there). Without the flag an
 * empty path is ENOENT, a NULL one EFAULT.
 */
export function atPlace(t: Task, dfd: number, pathAddr: number, atFlags: number, emptyAtCwd: boolean): Loc {
  const follow = !(atFlags & AT_SYMLINK_NOFOLLOW);
  if (atFlags & AT_EMPTY_PATH) {
    const path = pathAddr === 0 ? null : pathArg(t, pathAddr);
    if (path === null || path.length === 0) {
      if (dfd >= 0 || !emptyAtCwd) return fdPlace(t, dfd);
      if (dfd !== AT_FDCWD) fail(E.EBADF);
      return lookupAt(t, AT_FDCWD, Buffer.alloc(0), follow, true);
    }
    return lookupAt(t, dfd, path, follow);
  }
  return lookupAt(t, dfd, pathArg(t, pathAddr), follow);
}

function atFlagsArg(flags: number): number {
  if (flags & ~AT_XATTR_FLAGS) fail(E.EINVAL);
  return flags;
}

function setxattrat(t: Task, a: Args): number {
  const args = xattrArgs(t, a.ptr(4), a.size(5));
  const at = atFlagsArg(a.u32(2));
  const { name, value } = setArgs(t, a.ptr(3), args.value, args.size, args.flags);
  return setValue(t, atPlace(t, a.i32(0), a.ptr(1), at, true), name, value, args.flags);
}

function getxattrat(t: Task, a: Args): number {
  const args = xattrArgs(t, a.ptr(4), a.size(5));
  if (args.flags !== 0) fail(E.EINVAL);
  const at = atFlagsArg(a.u32(2));
  const name = nameArg(t, a.ptr(3));
  return getValue(t, atPlace(t, a.i32(0), a.ptr(1), at, true), name, args.value, args.size);
}

function listxattrat(t: Task, a: Args): number {
  const at = atFlagsArg(a.u32(2));
  return listNames(t, atPlace(t, a.i32(0), a.ptr(1), at, false), a.ptr(3), a.size(4));
}

function removexattrat(t: Task, a: Args): number {
  const at = atFlagsArg(a.u32(2));
  const name = nameArg(t, a.ptr(3));
  return removeName(t, atPlace(t, a.i32(0), a.ptr(1), at, false), name);
}

const NOTE =
  "host files: the host file system's attributes, with the guest's permission checks (trusted.* needs CAP_SYS_ADMIN, user.* only on regular files and directories); " +
  'tmpfs and /dev: security., trusted. and user. attributes kept in memory; system.* (POSIX ACLs) is not supported there (EOPNOTSUPP); /proc has none (EOPNOTSUPP)';

export const xattrDefs: Record<string, Def> = {
  getxattr: partial(['path', 'name', 'xattrout', 'size'], getxattr(byPath(true)), NOTE),
  lgetxattr: partial(['path', 'name', 'xattrout', 'size'], getxattr(byPath(false)), NOTE),
  fgetxattr: partial(['fd', 'name', 'xattrout', 'size'], getxattr(byFd), NOTE),
  listxattr: partial(['path', 'strout', 'size'], listxattr(byPath(true)), NOTE),
  llistxattr: partial(['path', 'strout', 'size'], listxattr(byPath(false)), NOTE),
  flistxattr: partial(['fd', 'strout', 'size'], listxattr(byFd), NOTE),
  setxattr: partial(['path', 'name', 'xattrin', 'size', 'xattrflags'], setxattr(byPath(true)), NOTE),
  lsetxattr: partial(['path', 'name', 'xattrin', 'size', 'xattrflags'], setxattr(byPath(false)), NOTE),
  fsetxattr: partial(['fd', 'name', 'xattrin', 'size', 'xattrflags'], setxattr(byFd), NOTE),
  removexattr: partial(['path', 'name'], removexattr(byPath(true)), NOTE),
  lremovexattr: partial(['path', 'name'], removexattr(byPath(false)), NOTE),
  fremovexattr: partial(['fd', 'name'], removexattr(byFd), NOTE),
  // struct xattr_args is shown by address (strace 6.13 decodes it as {value=..., size=..., flags=...})
  setxattrat: partial(['dirfd', 'path', 'atflags', 'name', 'ptr', 'size'], setxattrat, NOTE),
  getxattrat: partial(['dirfd', 'path', 'atflags', 'name', 'ptr', 'size'], getxattrat, NOTE),
  listxattrat: partial(['dirfd', 'path', 'atflags', 'strout', 'size'], listxattrat, NOTE),
  removexattrat: partial(['dirfd', 'path', 'atflags', 'name'], removexattrat, NOTE),
};
