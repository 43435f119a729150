// The xattr calls: get, list, set and remove, each by path, by path without
// following a final link (l*), and by fd (f*). The attributes themselves
// and their permission checks are the file system's (fs/xattr.ts, tmpfs,
// the host's file systems).
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, SysError } from '../../abi/errors.js';
import { AT_FDCWD } from '../../abi/fcntl.js';
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

/** getxattr family: the value into guest memory (size 0: its size). The name is read before the path is looked up, as Linux does. */
function getxattr(where: Where) {
  return (t: Task, a: Args): number => {
    const name = nameArg(t, a.ptr(1));
    const loc = where(t, a);
    const size = a.size(3);
    const out = new Uint8Array(Math.min(size, XATTR_SIZE_MAX));
    const n = loc.node.getxattr(t, name, out);
    if (size > 0) t.mm.write(a.ptr(2), out.subarray(0, n));
    return n;
  };
}

function listxattr(where: Where) {
  return (t: Task, a: Args): number => {
    const loc = where(t, a);
    const size = a.size(2);
    const out = new Uint8Array(Math.min(size, XATTR_SIZE_MAX));
    const n = loc.node.listxattr(t, out);
    if (size > 0) t.mm.write(a.ptr(1), out.subarray(0, n));
    return n;
  };
}

/** setxattr family: flags, name and value are checked and read (EINVAL, ERANGE, E2BIG, EFAULT) before the lookup; EROFS on a read-only mount. */
function setxattr(where: Where) {
  return (t: Task, a: Args): number => {
    const flags = a.i32(4);
    if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) fail(E.EINVAL);
    const name = nameArg(t, a.ptr(1));
    const size = a.size(3);
    if (size > XATTR_SIZE_MAX) fail(E.E2BIG);
    const value = size > 0 ? t.mm.read(a.ptr(2), size) : Buffer.alloc(0);
    const loc = where(t, a);
    t.kernel.vfs.writable(loc);
    loc.node.setxattr(t, name, value, flags);
    return 0;
  };
}

function removexattr(where: Where) {
  return (t: Task, a: Args): number => {
    const name = nameArg(t, a.ptr(1));
    const loc = where(t, a);
    t.kernel.vfs.writable(loc);
    loc.node.removexattr(t, name);
    return 0;
  };
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
};
