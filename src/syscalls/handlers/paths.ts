// Path syscalls that change the file system (create, remove, rename, link,
// permissions, times), through the VFS: names are resolved in the guest's
// tree, then the file system holding them makes the change.
import { ST_NOATIME, ST_NODIRATIME, ST_NOSYMFOLLOW, ST_RELATIME } from '../../abi/mount.js';
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import { host } from '../../host/libc.js';
import { type Loc, type SetAttr, type Timespec } from '../../fs/vfs.js';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_REMOVEDIR,
  AT_SYMLINK_FOLLOW,
  AT_SYMLINK_NOFOLLOW,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  RENAME_WHITEOUT,
  UTIME_NOW,
  UTIME_OMIT,
} from '../../abi/fcntl.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, ST_NODEV, ST_NOEXEC, ST_NOSUID, ST_RDONLY, W_OK, X_OK } from '../../abi/stat.js';
import { fdLoc } from '../../procfs/fds.js';
import { HostNode } from '../../fs/hostfs.js';
import { breakLease } from './locks.js';
import { denyWriteIfRunning, lookupAt, parentAt, pathArg, supported, partial, type Def } from './util.js';
import { mknodShape } from '../signature.js';

/** Is `name` in `dir` a mount point (which rmdir, unlink and rename refuse with EBUSY)? */
const mounted = (t: Task, dir: Loc, name: string): boolean => t.kernel.vfs.isMountPoint(dir, name);

/** Write and search permission on a directory of an in-memory file system (the host checks its own). */
function mayChange(t: Task, dir: Loc): void {
  if (!dir.node.fs.hostChecked) t.kernel.vfs.permission(t, dir, W_OK | X_OK);
}

function unlinkAt(t: Task, dirfd: number, addr: number, flags: number): number {
  if (flags & ~AT_REMOVEDIR) fail(E.EINVAL);
  const vfs = t.kernel.vfs;
  const { dir, name, trailing } = parentAt(t, dirfd, pathArg(t, addr));
  if (flags & AT_REMOVEDIR) {
    if (name === '.') fail(E.EINVAL);
    if (name === '..') fail(E.ENOTEMPTY);
    if (name === '') fail(E.EBUSY);
    if (mounted(t, dir, name)) fail(E.EBUSY);
    vfs.writable(dir);
    const victim = vfs.notify.count > 0 ? vfs.tryChild(t, dir, name) : null;
    dir.node.rmdir(t, name);
    if (victim !== null) vfs.notify.removed(t, dir, name, victim.node);
    return 0;
  }
  if (name === '' || name === '.' || name === '..') fail(E.EISDIR);
  if (trailing) {
    const c = vfs.child(t, dir, name);
    fail(c.node.type === S_IFDIR ? E.EISDIR : E.ENOTDIR);
  }
  if (mounted(t, dir, name)) fail(E.EBUSY);
  vfs.writable(dir);
  const victim = vfs.notify.count > 0 ? vfs.tryChild(t, dir, name) : null;
  dir.node.unlink(t, name);
  if (victim !== null) vfs.notify.removed(t, dir, name, victim.node);
  return 0;
}

function mkdirAt(t: Task, dirfd: number, addr: number, mode: number): number {
  const vfs = t.kernel.vfs;
  const { dir, name } = parentAt(t, dirfd, pathArg(t, addr));
  if (name === '' || name === '.' || name === '..' || vfs.tryChild(t, dir, name) !== null) fail(E.EEXIST);
  vfs.writable(dir);
  dir.node.mkdir(t, name, mode & 0o7777 & ~t.umask);
  vfs.notify.created(dir, name, true);
  return 0;
}

function renameAt(t: Task, od: number, oa: number, nd: number, na: number, flags: number): number {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) fail(E.EINVAL);
  if (flags & RENAME_NOREPLACE && flags & RENAME_EXCHANGE) fail(E.EINVAL);
  if (flags & RENAME_WHITEOUT) throw new Unsupported('renameat2 flag RENAME_WHITEOUT', E.EINVAL);
  const vfs = t.kernel.vfs;
  const from = parentAt(t, od, pathArg(t, oa));
  const to = parentAt(t, nd, pathArg(t, na));
  if (from.dir.mnt !== to.dir.mnt) fail(E.EXDEV);
  for (const n of [from.name, to.name]) if (n === '' || n === '.' || n === '..') fail(E.EBUSY);
  const src = vfs.child(t, from.dir, from.name);
  if ((from.trailing || to.trailing) && src.node.type !== S_IFDIR) fail(E.ENOTDIR);
  if (src.mnt !== from.dir.mnt || mounted(t, to.dir, to.name)) fail(E.EBUSY);
  vfs.writable(from.dir);
  mayChange(t, from.dir);
  mayChange(t, to.dir);
  const target = vfs.notify.count > 0 ? vfs.tryChild(t, to.dir, to.name) : null;
  from.dir.node.rename(t, from.name, to.dir.node, to.name, flags);
  if (target?.node.key !== src.node.key) vfs.notify.moved(t, from.dir, from.name, to.dir, to.name, src.node, target?.node ?? null, (flags & RENAME_EXCHANGE) !== 0);
  return 0;
}

function symlinkAt(t: Task, targetAddr: number, dirfd: number, addr: number): number {
  const target = pathArg(t, targetAddr);
  const vfs = t.kernel.vfs;
  const { dir, name } = parentAt(t, dirfd, pathArg(t, addr));
  if (target.length === 0) fail(E.ENOENT);
  if (name === '' || name === '.' || name === '..' || vfs.tryChild(t, dir, name) !== null) fail(E.EEXIST);
  vfs.writable(dir);
  dir.node.symlink(t, name, target);
  vfs.notify.created(dir, name, false);
  return 0;
}

function linkAt(t: Task, od: number, oa: number, nd: number, na: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  const vfs = t.kernel.vfs;
  const old = lookupAt(t, od, pathArg(t, oa), (flags & AT_SYMLINK_FOLLOW) !== 0, (flags & AT_EMPTY_PATH) !== 0);
  const { dir, name } = parentAt(t, nd, pathArg(t, na));
  if (name === '' || name === '.' || name === '..' || vfs.tryChild(t, dir, name) !== null) fail(E.EEXIST);
  if (old.mnt !== dir.mnt) fail(E.EXDEV);
  if (old.node.type === S_IFDIR) fail(E.EPERM);
  vfs.writable(dir);
  dir.node.link(t, name, old.node);
  vfs.notify.linked(dir, name, old.node);
  return 0;
}

/** A change of attributes: EROFS on a read-only mount. */
function setattr(t: Task, loc: Loc, a: SetAttr): number {
  t.kernel.vfs.writable(loc);
  loc.node.setattr(t, a);
  t.kernel.vfs.notify.onSetattr(t, loc, a);
  return 0;
}

function chmodAt(t: Task, dirfd: number, addr: number, mode: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  const loc = lookupAt(t, dirfd, pathArg(t, addr), !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) !== 0);
  if (loc.node.type === S_IFLNK) fail(E.ENOTSUP); // fchmodat2 with AT_SYMLINK_NOFOLLOW on a link
  return setattr(t, loc, { mode: mode & 0o7777 });
}

function chownAt(t: Task, dirfd: number, addr: number, uid: number, gid: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  const loc = lookupAt(t, dirfd, pathArg(t, addr), !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) !== 0);
  return setattr(t, loc, owners(uid, gid));
}

const owners = (uid: number, gid: number): SetAttr => ({ uid: uid === 0xffffffff ? undefined : uid, gid: gid === 0xffffffff ? undefined : gid });

function utimensAt(t: Task, dirfd: number, addr: number, timesAddr: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  const a: SetAttr = {};
  if (timesAddr === 0) a.atime = a.mtime = 'now';
  else {
    const b = t.mm.read(timesAddr, 32);
    const ts: Array<Timespec | 'now' | undefined> = [0, 16].map((off) => {
      const sec = Number(b.readBigInt64LE(off));
      const ns = Number(b.readBigInt64LE(off + 8));
      if (ns === UTIME_NOW) return 'now';
      if (ns === UTIME_OMIT) return undefined;
      if (ns < 0 || ns >= 1e9) fail(E.EINVAL);
      return { sec, nsec: ns };
    });
    [a.atime, a.mtime] = ts;
  }
  return setTimes(t, dirfd, addr, a, flags);
}

/** Linux's do_utimes: the times of the file at (dirfd, path), or of dirfd itself when path is NULL. */
function setTimes(t: Task, dirfd: number, addr: number, a: SetAttr, flags: number): number {
  // utimensat(fd, NULL, ...) is futimens: the fd itself (with AT_FDCWD, a NULL path is a bad address)
  if (addr === 0 && dirfd === AT_FDCWD) fail(E.EFAULT);
  const loc = addr === 0 ? fdLoc(t, t.fds.file(dirfd)) : lookupAt(t, dirfd, pathArg(t, addr), !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) !== 0);
  if (a.atime === undefined && a.mtime === undefined) return 0;
  if (addr === 0) return t.fds.file(dirfd).setattr(t, a);
  return setattr(t, loc, a);
}

/** utimes and futimesat: two struct timevals (NULL: now); microseconds out of range are EINVAL. */
function utimesAt(t: Task, dirfd: number, addr: number, tvAddr: number): number {
  const a: SetAttr = {};
  if (tvAddr === 0) a.atime = a.mtime = 'now';
  else {
    const b = t.mm.read(tvAddr, 32);
    [a.atime, a.mtime] = [0, 16].map((off) => {
      const usec = Number(b.readBigInt64LE(off + 8));
      if (usec < 0 || usec >= 1e6) fail(E.EINVAL);
      return { sec: Number(b.readBigInt64LE(off)), nsec: usec * 1000 };
    });
  }
  return setTimes(t, dirfd, addr, a, 0);
}

/** utime: a struct utimbuf {actime, modtime} in seconds (NULL: now). */
function utime(t: Task, addr: number, bufAddr: number): number {
  const a: SetAttr = {};
  if (bufAddr === 0) a.atime = a.mtime = 'now';
  else {
    const b = t.mm.read(bufAddr, 16);
    a.atime = { sec: Number(b.readBigInt64LE(0)), nsec: 0 };
    a.mtime = { sec: Number(b.readBigInt64LE(8)), nsec: 0 };
  }
  return setTimes(t, AT_FDCWD, addr, a, 0);
}

function mknodAt(t: Task, dirfd: number, addr: number, mode: number, dev: number): number {
  const type = mode & S_IFMT;
  if (type !== 0 && type !== S_IFREG && type !== S_IFIFO && type !== S_IFSOCK && type !== S_IFCHR && type !== S_IFBLK) fail(E.EINVAL);
  const vfs = t.kernel.vfs;
  const { dir, name } = parentAt(t, dirfd, pathArg(t, addr));
  if (name === '' || name === '.' || name === '..' || vfs.tryChild(t, dir, name) !== null) fail(E.EEXIST);
  if ((type === S_IFCHR || type === S_IFBLK) && dir.node instanceof HostNode) throw new Unsupported('mknod of a device node on a host file system', E.EPERM);
  vfs.writable(dir);
  dir.node.mknod(t, name, (type || S_IFREG) | (mode & 0o7777 & ~t.umask), dev);
  vfs.notify.created(dir, name, false);
  return 0;
}

function truncatePath(t: Task, addr: number, len: number): number {
  if (len < 0) fail(E.EINVAL);
  const loc = lookupAt(t, AT_FDCWD, pathArg(t, addr), true);
  if (loc.node.type === S_IFDIR) fail(E.EISDIR);
  if (loc.node.type !== S_IFREG) fail(E.EINVAL);
  if (!loc.node.fs.hostChecked) t.kernel.vfs.permission(t, loc, W_OK);
  denyWriteIfRunning(t, loc);
  breakLease(t, loc, true, false);
  return setattr(t, loc, { size: len });
}

/** struct statfs (120 bytes on both arches) of the file system holding loc; ST_RDONLY (the mount's or the file system's), ST_NOSUID... ST_NOSYMFOLLOW from the mount's flags. */
function statfsOf(t: Task, loc: Loc, out: number): number {
  const b = Buffer.from(loc.mnt.fs.statfs(t, loc.node));
  const o = loc.mnt.opts;
  const flags =
    (loc.mnt.readonly ? ST_RDONLY : 0) | (o.nosuid ? ST_NOSUID : 0) | (o.nodev ? ST_NODEV : 0) | (o.noexec ? ST_NOEXEC : 0) |
    (o.atime === 'noatime' ? ST_NOATIME : o.atime === undefined ? ST_RELATIME : 0) | (o.nodiratime ? ST_NODIRATIME : 0) | (o.nosymfollow ? ST_NOSYMFOLLOW : 0);
  b.writeBigInt64LE(b.readBigInt64LE(80) | BigInt(flags), 80);
  t.mm.write(out, b);
  return 0;
}

const CAP_SYS_CHROOT = 1n << 18n;

/**
 * chroot: the directory becomes the process's root (absolute paths, `..`
 * and symlinks stop there; getcwd and /proc/<pid>/{cwd,root} are shown from
 * it). The cwd stays where it is, as Linux leaves it.
 */
function chroot(t: Task, addr: number): number {
  const loc = lookupAt(t, AT_FDCWD, pathArg(t, addr), true);
  if (loc.node.type !== S_IFDIR) fail(E.ENOTDIR);
  loc.node.access(t, X_OK);
  if ((t.cred.caps.eff & CAP_SYS_CHROOT) === 0n) fail(E.EPERM);
  t.proc.fs.root = loc;
  return 0;
}

export const pathDefs: Record<string, Def> = {
  chroot: partial(['path'], (t, a) => chroot(t, a.ptr(0)), "a chroot's root is not a mount boundary for /proc/<pid>/mountinfo, which still lists every mount with its whole path"),
  unlinkat: supported(['dirfd', 'path', 'atflags'], (t, a) => unlinkAt(t, a.i32(0), a.ptr(1), a.i32(2))),
  unlink: supported(['path'], (t, a) => unlinkAt(t, AT_FDCWD, a.ptr(0), 0)),
  rmdir: supported(['path'], (t, a) => unlinkAt(t, AT_FDCWD, a.ptr(0), AT_REMOVEDIR)),
  mkdirat: supported(['dirfd', 'path', 'mode'], (t, a) => mkdirAt(t, a.i32(0), a.ptr(1), a.u32(2))),
  mkdir: supported(['path', 'mode'], (t, a) => mkdirAt(t, AT_FDCWD, a.ptr(0), a.u32(1))),
  renameat2: partial(['dirfd', 'path', 'dirfd', 'path', 'renameflags'], (t, a) => renameAt(t, a.i32(0), a.ptr(1), a.i32(2), a.ptr(3), a.u32(4)), 'RENAME_WHITEOUT is reported as unsupported'),
  renameat: supported(['dirfd', 'path', 'dirfd', 'path'], (t, a) => renameAt(t, a.i32(0), a.ptr(1), a.i32(2), a.ptr(3), 0)),
  rename: supported(['path', 'path'], (t, a) => renameAt(t, AT_FDCWD, a.ptr(0), AT_FDCWD, a.ptr(1), 0)),
  symlinkat: supported(['path', 'dirfd', 'path'], (t, a) => symlinkAt(t, a.ptr(0), a.i32(1), a.ptr(2))),
  symlink: supported(['path', 'path'], (t, a) => symlinkAt(t, a.ptr(0), AT_FDCWD, a.ptr(1))),
  linkat: supported(['dirfd', 'path', 'dirfd', 'path', 'atflags'], (t, a) => linkAt(t, a.i32(0), a.ptr(1), a.i32(2), a.ptr(3), a.i32(4))),
  link: supported(['path', 'path'], (t, a) => linkAt(t, AT_FDCWD, a.ptr(0), AT_FDCWD, a.ptr(1), 0)),
  fchmodat: supported(['dirfd', 'path', 'mode'], (t, a) => chmodAt(t, a.i32(0), a.ptr(1), a.u32(2), 0)),
  fchmodat2: supported(['dirfd', 'path', 'mode', 'atflags'], (t, a) => chmodAt(t, a.i32(0), a.ptr(1), a.u32(2), a.i32(3))),
  chmod: supported(['path', 'mode'], (t, a) => chmodAt(t, AT_FDCWD, a.ptr(0), a.u32(1), 0)),
  fchmod: supported(['fd', 'mode'], (t, a) => t.fds.file(a.i32(0)).setattr(t, { mode: a.u32(1) & 0o7777 })),
  fchownat: supported(['dirfd', 'path', 'int', 'int', 'atflags'], (t, a) => chownAt(t, a.i32(0), a.ptr(1), a.u32(2), a.u32(3), a.i32(4))),
  chown: supported(['path', 'int', 'int'], (t, a) => chownAt(t, AT_FDCWD, a.ptr(0), a.u32(1), a.u32(2), 0)),
  lchown: supported(['path', 'int', 'int'], (t, a) => chownAt(t, AT_FDCWD, a.ptr(0), a.u32(1), a.u32(2), AT_SYMLINK_NOFOLLOW)),
  fchown: supported(['fd', 'int', 'int'], (t, a) => t.fds.file(a.i32(0)).setattr(t, owners(a.u32(1), a.u32(2)))),
  utimensat: supported(['dirfd', 'path', 'utimens', 'atflags'], (t, a) => utimensAt(t, a.i32(0), a.ptr(1), a.ptr(2), a.i32(3))),
  // x86_64 only: the older calls, in microseconds and seconds
  futimesat: supported(['dirfd', 'path', 'ptr'], (t, a) => utimesAt(t, a.i32(0), a.ptr(1), a.ptr(2))),
  utimes: supported(['path', 'ptr'], (t, a) => utimesAt(t, AT_FDCWD, a.ptr(0), a.ptr(1))),
  utime: supported(['path', 'ptr'], (t, a) => utime(t, a.ptr(0), a.ptr(1))),
  truncate: supported(['path', 'off'], (t, a) => truncatePath(t, a.ptr(0), a.i64(1))),
  mknodat: partial(mknodShape(true), (t, a) => mknodAt(t, a.i32(0), a.ptr(1), a.u32(2), a.u32(3)), 'device nodes only on in-memory file systems (tmpfs, /dev); on a host directory they are reported as unsupported'),
  mknod: partial(mknodShape(false), (t, a) => mknodAt(t, AT_FDCWD, a.ptr(0), a.u32(1), a.u32(2)), 'device nodes only on in-memory file systems (tmpfs, /dev); on a host directory they are reported as unsupported'),
  statfs: supported(['path', 'statfs'], (t, a) => statfsOf(t, lookupAt(t, AT_FDCWD, pathArg(t, a.ptr(0)), true), a.ptr(1))),
  fstatfs: supported(['fd', 'statfs'], (t, a) => statfsOf(t, fdLoc(t, t.fds.file(a.i32(0))), a.ptr(1))),
  sync: supported([], () => {
    host.sync();
    return 0;
  }),
  syncfs: supported(['fd'], (t, a) => {
    t.fds.file(a.i32(0));
    host.sync();
    return 0;
  }, 'syncs every host file system, as sync(2) does'),
};
