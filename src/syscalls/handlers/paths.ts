// Path syscalls that change the file system (create, remove, rename, link,
// permissions, times). Until the VFS issue lands they reach the host's file
// system from the guest's cwd, with the host kernel's own checks and errors.
import type { Task } from '../../proc/task.js';
import { host } from '../../host/libc.js';
import { E, fail } from '../errno.js';
import { Unsupported } from '../dispatch.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, chk, hostOut, hostPath, pathArg, supported, partial, type Def } from './util.js';

const at = (t: Task, dirfd: number, addr: number, flags = 0): [number, Buffer] => hostPath(t, dirfd, pathArg(t, addr), flags);

function unlinkAt(t: Task, dirfd: number, addr: number, flags: number): number {
  if (flags & ~AT_REMOVEDIR) fail(E.EINVAL);
  const [d, p] = at(t, dirfd, addr);
  return chk(host.unlinkat(d, p, flags));
}

function mkdirAt(t: Task, dirfd: number, addr: number, mode: number): number {
  const [d, p] = at(t, dirfd, addr);
  return chk(host.mkdirat(d, p, mode & 0o7777 & ~t.umask));
}

const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;
const RENAME_WHITEOUT = 4;

function renameAt(t: Task, od: number, oa: number, nd: number, na: number, flags: number): number {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) fail(E.EINVAL);
  if (flags & RENAME_WHITEOUT) throw new Unsupported('renameat2 flag RENAME_WHITEOUT', E.EINVAL);
  const [d1, p1] = at(t, od, oa);
  const [d2, p2] = at(t, nd, na);
  return chk(host.renameat2(d1, p1, d2, p2, flags));
}

function symlinkAt(t: Task, targetAddr: number, dirfd: number, addr: number): number {
  const target = Buffer.concat([pathArg(t, targetAddr), Buffer.alloc(1)]);
  const [d, p] = at(t, dirfd, addr);
  return chk(host.symlinkat(target, d, p));
}

function linkAt(t: Task, od: number, oa: number, nd: number, na: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  const [d1, p1] = at(t, od, oa, flags & AT_EMPTY_PATH);
  const [d2, p2] = at(t, nd, na);
  return chk(host.linkat(d1, p1, d2, p2, flags));
}

function chmodAt(t: Task, dirfd: number, addr: number, mode: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  if (flags & AT_SYMLINK_NOFOLLOW) fail(E.ENOTSUP); // Linux's fchmodat2 answer for a path; fchmodat ignores flags
  const [d, p] = at(t, dirfd, addr, flags);
  return chk(host.fchmodat(d, p, mode & 0o7777, 0));
}

function chownAt(t: Task, dirfd: number, addr: number, uid: number, gid: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  const [d, p] = at(t, dirfd, addr, flags);
  return chk(host.fchownat(d, p, uid, gid, flags));
}

const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;

function utimensAt(t: Task, dirfd: number, addr: number, timesAddr: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  const s = t.kernel.scratch;
  let times = 0;
  if (timesAddr !== 0) {
    const b = t.mm.read(timesAddr, 32);
    for (const off of [8, 24]) {
      const ns = Number(b.readBigInt64LE(off));
      if (ns !== UTIME_NOW && ns !== UTIME_OMIT && (ns < 0 || ns >= 1e9)) fail(E.EINVAL);
    }
    s.bytes.set(b, 0);
    times = s.addr;
  }
  if (addr === 0) {
    // utimensat(fd, NULL, ...) is futimens: the fd itself
    const f = t.fds.file(dirfd);
    if (f.hostFd < 0) throw new Unsupported('futimens on an elfrun-emulated file', E.EINVAL);
    return chk(host.utimensat(f.hostFd, null, times, 0));
  }
  const [d, p] = at(t, dirfd, addr, flags);
  return chk(host.utimensat(d, p, times, flags));
}

function mknodAt(t: Task, dirfd: number, addr: number, mode: number): number {
  const type = mode & 0o170000;
  if (type === 0o020000 || type === 0o060000) throw new Unsupported('mknod of a device node', E.EPERM);
  const [d, p] = at(t, dirfd, addr);
  return chk(host.mknodat(d, p, type | (mode & 0o7777 & ~t.umask), 0));
}

function hostFdOf(t: Task, fd: number, what: string): number {
  const f = t.fds.file(fd);
  if (f.hostFd < 0) throw new Unsupported(`${what} on an elfrun-emulated file`, E.EINVAL);
  return f.hostFd;
}

export const pathDefs: Record<string, Def> = {
  unlinkat: supported((t, a) => unlinkAt(t, a.i32(0), a.ptr(1), a.i32(2))),
  unlink: supported((t, a) => unlinkAt(t, AT_FDCWD, a.ptr(0), 0)),
  rmdir: supported((t, a) => unlinkAt(t, AT_FDCWD, a.ptr(0), AT_REMOVEDIR)),
  mkdirat: supported((t, a) => mkdirAt(t, a.i32(0), a.ptr(1), a.u32(2))),
  mkdir: supported((t, a) => mkdirAt(t, AT_FDCWD, a.ptr(0), a.u32(1))),
  renameat2: partial((t, a) => renameAt(t, a.i32(0), a.ptr(1), a.i32(2), a.ptr(3), a.u32(4)), 'RENAME_WHITEOUT is reported as unsupported'),
  renameat: supported((t, a) => renameAt(t, a.i32(0), a.ptr(1), a.i32(2), a.ptr(3), 0)),
  rename: supported((t, a) => renameAt(t, AT_FDCWD, a.ptr(0), AT_FDCWD, a.ptr(1), 0)),
  symlinkat: supported((t, a) => symlinkAt(t, a.ptr(0), a.i32(1), a.ptr(2))),
  symlink: supported((t, a) => symlinkAt(t, a.ptr(0), AT_FDCWD, a.ptr(1))),
  linkat: supported((t, a) => linkAt(t, a.i32(0), a.ptr(1), a.i32(2), a.ptr(3), a.i32(4))),
  link: supported((t, a) => linkAt(t, AT_FDCWD, a.ptr(0), AT_FDCWD, a.ptr(1), 0)),
  fchmodat: supported((t, a) => chmodAt(t, a.i32(0), a.ptr(1), a.u32(2), 0)),
  chmod: supported((t, a) => chmodAt(t, AT_FDCWD, a.ptr(0), a.u32(1), 0)),
  fchmod: supported((t, a) => chk(host.fchmod(hostFdOf(t, a.i32(0), 'fchmod'), a.u32(1) & 0o7777))),
  fchownat: supported((t, a) => chownAt(t, a.i32(0), a.ptr(1), a.u32(2), a.u32(3), a.i32(4))),
  chown: supported((t, a) => chownAt(t, AT_FDCWD, a.ptr(0), a.u32(1), a.u32(2), 0)),
  lchown: supported((t, a) => chownAt(t, AT_FDCWD, a.ptr(0), a.u32(1), a.u32(2), AT_SYMLINK_NOFOLLOW)),
  fchown: supported((t, a) => chk(host.fchown(hostFdOf(t, a.i32(0), 'fchown'), a.u32(1), a.u32(2)))),
  utimensat: supported((t, a) => utimensAt(t, a.i32(0), a.ptr(1), a.ptr(2), a.i32(3))),
  truncate: supported((t, a) => {
    const len = a.i64(1);
    if (len < 0) fail(E.EINVAL);
    const [, p] = at(t, AT_FDCWD, a.ptr(0));
    return chk(host.truncate(p, len));
  }),
  mknodat: partial((t, a) => mknodAt(t, a.i32(0), a.ptr(1), a.u32(2)), 'regular files, FIFOs and sockets; device nodes are reported as unsupported'),
  mknod: partial((t, a) => mknodAt(t, AT_FDCWD, a.ptr(0), a.u32(1)), 'regular files, FIFOs and sockets; device nodes are reported as unsupported'),
  // struct statfs is the same 120 bytes on x86_64 and arm64
  statfs: supported((t, a) => {
    const [, p] = at(t, AT_FDCWD, a.ptr(0));
    return hostOut(t, a.ptr(1), 120, (h) => chk(host.statfs(p, h)));
  }, 'the host file system\'s figures'),
  fstatfs: supported((t, a) => hostOut(t, a.ptr(1), 120, (h) => chk(host.fstatfs(hostFdOf(t, a.i32(0), 'fstatfs'), h))), 'the host file system\'s figures'),
  sync: supported(() => {
    host.sync();
    return 0;
  }),
  syncfs: supported((t, a) => chk(host.syncfs(hostFdOf(t, a.i32(0), 'syncfs')))),
  fadvise64: supported((t, a) => {
    t.fds.file(a.i32(0));
    const advice = a.i32(3);
    if (advice < 0 || advice > 5) fail(E.EINVAL);
    return 0; // advice only: no effect on what the guest reads
  }),
};
