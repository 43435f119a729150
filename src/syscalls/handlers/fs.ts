// File and fd syscalls: paths are resolved in the guest's tree by the VFS,
// fds are elfrun's own.
import type { Task } from '../../proc/task.js';
import { PROT_READ, PROT_WRITE } from '../../abi/mman.js';
import type { FileDescription } from '../../fs/file.js';
import { HostFile } from '../../fs/hostfile.js';
import { IN_MODIFY } from '../../abi/inotify.js';
import { hostScratch } from '../../fs/transfer.js';
import { PipeEnd } from '../../fs/pipe.js';
import { fdLoc } from '../../procfs/fds.js';
import { HostNode } from '../../fs/hostfs.js';
import type { Loc } from '../../fs/vfs.js';
import { toHostOpenFlags } from '../../fs/flags.js';
import {
  AT_EACCESS,
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_NO_AUTOMOUNT,
  AT_STATX_SYNC_TYPE,
  AT_SYMLINK_NOFOLLOW,
  CLOSE_RANGE_CLOEXEC,
  CLOSE_RANGE_UNSHARE,
  O_APPEND,
  O_CLOEXEC,
  O_NONBLOCK,
  SEEK_MAX,
} from '../../abi/fcntl.js';
import { FIOCLEX, FIONBIO, FIONCLEX, TIOCGPTPEER } from '../../abi/ioctl.js';
import { PtyMaster } from '../../fs/pty.js';
import { IOV_MAX, MAX_RW_COUNT } from '../../abi/limits.js';
import { S_IFDIR, S_IFLNK, S_IFREG, STATX__RESERVED, W_OK, X_OK } from '../../abi/stat.js';
import { guestStat, statSize, statxFromStat } from '../../fs/stat.js';
import { host } from '../../host/libc.js';
import { E } from '../../abi/errno.js';
import { fail, SysError } from '../../abi/errors.js';
import { SIG } from '../../abi/signal.js';
import type { Args } from '../../cpu/args.js';
import { chk, hostOut, lookupAt, partial, pathArg, supported, type Def } from './util.js';
import { fcntlShape } from '../signature.js';
import { asyncIoctl, fcntl } from './fcntl.js';
import { statxMountId } from './statmount.js';

/** Linux caps one read/write at MAX_RW_COUNT */
const MAX_RW = MAX_RW_COUNT;

/** What a write that failed with `e` does: a broken pipe (or a socket whose peer is gone) also raises SIGPIPE. */
function rethrowRaisingSigpipe(t: Task, e: unknown): never {
  if (e instanceof SysError && e.errno === E.EPIPE) t.raise(SIG.SIGPIPE);
  throw e;
}

/** A write that hit a broken pipe also raises SIGPIPE; it fails with EPIPE if the signal is ignored. */
export function raisingSigpipe(t: Task, write: () => number): number {
  try {
    return write();
  } catch (e) {
    return rethrowRaisingSigpipe(t, e);
  }
}

/** A write handler that raises SIGPIPE on EPIPE (no closure per call: dd bs=1 makes 200k writes). */
/**
 * A read or write call counted as Linux's vfs_read and vfs_write count it
 * for /proc/<pid>/io: the bytes moved and the call, also when the file
 * refuses it (EAGAIN...); not when the fd is bad or not open for that.
 */
function counted(dir: 'r' | 'w', fn: (t: Task, a: Args) => number, fdArg = 0): (t: Task, a: Args) => number {
  return (t, a) => {
    const c = t.proc.ioac;
    let n: number;
    try {
      n = fn(t, a);
    } catch (e) {
      if (e instanceof SysError && e.errno !== E.EBADF && e.errno !== E.EFAULT && e.errno !== E.EINVAL) dir === 'r' ? c.syscr++ : c.syscw++;
      throw e;
    }
    // IN_ACCESS or IN_MODIFY for watches on in-memory files (fsnotify_access, fsnotify_modify)
    if (n > 0 && t.kernel.vfs.notify.count > 0) t.kernel.vfs.notify.onIo(t, t.fds.file(a.i32(fdArg)), dir === 'w');
    if (dir === 'r') {
      if (n > 0) c.rchar += n;
      c.syscr++;
    } else {
      if (n > 0) c.wchar += n;
      c.syscw++;
    }
    return n;
  };
}

function epipe(fn: (t: Task, a: Args) => number): (t: Task, a: Args) => number {
  return (t, a) => {
    try {
      return fn(t, a);
    } catch (e) {
      return rethrowRaisingSigpipe(t, e);
    }
  };
}

function readableFile(t: Task, fd: number): FileDescription {
  const f = t.fds.file(fd);
  if (!f.readable) fail(E.EBADF);
  return f;
}
function writableFile(t: Task, fd: number): FileDescription {
  const f = t.fds.file(fd);
  if (!f.writable) fail(E.EBADF);
  return f;
}

export interface Iov {
  base: number;
  len: number;
}

export function iovecs(t: Task, addr: number, count: number): Iov[] {
  if (count < 0 || count > IOV_MAX) fail(E.EINVAL);
  if (count === 0) return [];
  const raw = t.mm.read(addr, count * 16);
  const out: Iov[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const base = raw.readUInt32LE(i * 16) + raw.readUInt32LE(i * 16 + 4) * 0x100000000;
    const lenBig = raw.readBigUInt64LE(i * 16 + 8);
    if (lenBig > 0x7fffffffffffffffn) fail(E.EINVAL);
    const len = Number(lenBig);
    total += len;
    if (total > 0x7fffffffffffffff) fail(E.EINVAL);
    out.push({ base, len: Math.min(len, MAX_RW - (total - len) > 0 ? MAX_RW - (total - len) : 0) });
  }
  return out;
}

/** readv/writev over iov: stops at a short piece; an error after some bytes returns those bytes. */
export function vectored(t: Task, iov: Iov[], op: (base: number, len: number) => number): number {
  let total = 0;
  for (const v of iov) {
    if (v.len === 0) continue;
    let r: number;
    try {
      r = op(v.base, v.len);
    } catch (e) {
      if (total > 0) return total;
      throw e;
    }
    total += r;
    if (r < v.len) break;
  }
  return total;
}

function putStat(t: Task, addr: number, st: Uint8Array): number {
  t.mm.check(addr, statSize(t.arch.name), PROT_WRITE);
  t.mm.write(addr, guestStat(t.arch.name, st));
  return 0;
}

function fstatAt(t: Task, dirfd: number, pathAddr: number, statAddr: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) fail(E.EINVAL);
  const path = pathArg(t, pathAddr);
  if (path.length === 0 && flags & AT_EMPTY_PATH && dirfd !== AT_FDCWD) return putStat(t, statAddr, t.fds.file(dirfd).statBytes(t));
  const loc = lookupAt(t, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) !== 0);
  return putStat(t, statAddr, loc.node.stat(t));
}

function readlinkAt(t: Task, dirfd: number, pathAddr: number, buf: number, size: number): number {
  const path = pathArg(t, pathAddr);
  if (size <= 0 || size > 0x7fffffff) fail(E.EINVAL);
  const loc = lookupAt(t, dirfd, path, false, true);
  if (path.length === 0 && loc.node.type !== S_IFLNK) fail(E.ENOENT);
  const target = loc.node.readlink(t);
  const n = Math.min(target.length, size);
  t.mm.write(buf, target.subarray(0, n));
  return n;
}

function faccessAt(t: Task, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if (mode & ~7) fail(E.EINVAL);
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  const loc = lookupAt(t, dirfd, pathArg(t, pathAddr), !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) !== 0);
  if (mode === 0) return 0;
  const type = loc.node.type;
  if (mode & W_OK && loc.mnt.readonly && (type === S_IFREG || type === S_IFDIR || type === S_IFLNK)) fail(E.EROFS);
  loc.node.access(t, mode);
  return 0;
}

function ioctl(t: Task, a: Args): number {
  const fd = a.i32(0);
  const req = a.u32(1);
  const e = t.fds.get(fd);
  const r = asyncIoctl(t, e.file, fd, req, a.ptr(2));
  if (r !== null) return r;
  switch (req) {
    case FIOCLEX:
      e.cloexec = true;
      return 0;
    case FIONCLEX:
      e.cloexec = false;
      return 0;
    case FIONBIO: {
      const on = t.mm.i32(a.ptr(2)) !== 0;
      const cur = e.file.getFlags(t);
      const next = on ? cur | O_NONBLOCK : cur & ~O_NONBLOCK;
      e.file.setFlags(toHostOpenFlags(t.arch.name, next));
      e.file.flags = on ? e.file.flags | O_NONBLOCK : e.file.flags & ~O_NONBLOCK;
      return 0;
    }
    case TIOCGPTPEER: {
      // a new fd: the pty's slave, opened with these flags (Linux's ptm_open_peer)
      if (!(e.file instanceof PtyMaster)) return e.file.ioctl(t, req, a.ptr(2));
      const flags = a.i32(2);
      const peer = e.file.openPeer(t, flags & ~O_CLOEXEC);
      try {
        return t.fds.add(peer, (flags & O_CLOEXEC) !== 0);
      } catch (err) {
        peer.unref();
        throw err;
      }
    }
  }
  return e.file.ioctl(t, req, a.ptr(2));
}

function dup3(t: Task, oldfd: number, newfd: number, flags: number): number {
  if (flags & ~O_CLOEXEC) fail(E.EINVAL);
  if (oldfd === newfd) fail(E.EINVAL);
  const f = t.fds.file(oldfd);
  t.fds.set(newfd, f, (flags & O_CLOEXEC) !== 0);
  return newfd;
}

/** close_range: close (or mark close-on-exec) every open fd in [first, last]. */
function closeRange(t: Task, first: number, last: number, flags: number): number {
  if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) || first > last) fail(E.EINVAL);
  if (flags & CLOSE_RANGE_UNSHARE && t.proc.fds.refs > 1) {
    // the caller gets its own copy of a table it shared (CLONE_FILES)
    t.proc.fds.refs--;
    t.proc.fds = t.proc.fds.clone();
  }
  for (const [fd, e] of t.fds.entries()) {
    if (fd < first || fd > last) continue;
    if (flags & CLOSE_RANGE_CLOEXEC) e.cloexec = true;
    else t.fds.close(fd);
  }
  return 0;
}

function getcwd(t: Task, buf: number, size: number): number {
  // from the process's root; a cwd outside it (after chroot) is "(unreachable)" and its whole path
  const cwd = Buffer.from(t.kernel.vfs.shownPath(t, t.cwd, '(unreachable)') + '\0', 'latin1');
  if (size < cwd.length) fail(size === 0 ? E.EINVAL : E.ERANGE);
  t.mm.write(buf, cwd);
  return cwd.length;
}

function chdirTo(t: Task, loc: Loc): number {
  if (loc.node.type !== S_IFDIR) fail(E.ENOTDIR);
  loc.node.access(t, X_OK);
  t.cwd = loc;
  return 0;
}

function sendfile(t: Task, a: Args): number {
  const out = t.fds.file(a.i32(0));
  const inp = t.fds.file(a.i32(1));
  const offAddr = a.ptr(2);
  const count = Math.min(a.size(3), MAX_RW);
  if (!inp.readable || !out.writable) fail(E.EBADF);
  if (out.flags & O_APPEND) fail(E.EINVAL);
  let off: [number] | null = null;
  if (offAddr !== 0) {
    t.mm.check(offAddr, 8, PROT_WRITE);
    off = [t.mm.i64(offAddr)];
    if (off[0] < 0) fail(E.EINVAL);
  }
  // a pipe is no input for sendfile (Linux's splice_direct_to_actor), at an offset not even seekable
  if (inp instanceof PipeEnd) fail(off ? E.ESPIPE : E.EINVAL);
  let r: number;
  if (inp instanceof HostFile && out instanceof HostFile) {
    r = chk(host.sendfile(out.hostFd, inp.hostFd, off, count));
  } else {
    // through elfrun: read a piece into host memory, write it out (a pipe first makes room)
    const s = hostScratch();
    let n = Math.min(count, s.bytes.length);
    if (out instanceof PipeEnd) {
      if (out.pipe.readers === 0) fail(E.EPIPE);
      if (count === 0) return 0;
      out.waitForRoom(t);
      n = Math.min(n, out.pipe.space);
    }
    if (n === 0) return 0;
    r = inp.kread(t, s, n, off ? off[0] : null);
    if (off) off[0] += r;
    if (r > 0) out.kwrite(t, s, r);
  }
  if (off && offAddr !== 0) t.mm.setU64(offAddr, off[0]);
  return r;
}

export const fsDefs: Record<string, Def> = {
  read: supported(['fd', 'strout', 'size'], counted('r', (t, a) => readableFile(t, a.i32(0)).read(t, a.ptr(1), Math.min(a.size(2), MAX_RW)))),
  write: supported(['fd', 'strin', 'size'], epipe(counted('w', (t, a) => writableFile(t, a.i32(0)).write(t, a.ptr(1), Math.min(a.size(2), MAX_RW))))),
  pread64: supported(['fd', 'strout', 'size', 'off'], counted('r', (t, a) => {
    const off = a.i64(3);
    if (off < 0) fail(E.EINVAL);
    return readableFile(t, a.i32(0)).pread(t, a.ptr(1), Math.min(a.size(2), MAX_RW), off);
  })),
  pwrite64: supported(['fd', 'strin', 'size', 'off'], epipe(counted('w', (t, a) => {
    const off = a.i64(3);
    if (off < 0) fail(E.EINVAL);
    return writableFile(t, a.i32(0)).pwrite(t, a.ptr(1), Math.min(a.size(2), MAX_RW), off);
  }))),
  readv: supported(['fd', 'iovout', 'int'], counted('r', (t, a) => {
    const f = readableFile(t, a.i32(0));
    const iov = iovecs(t, a.ptr(1), a.i32(2));
    for (const v of iov) t.mm.check(v.base, v.len, PROT_WRITE);
    return vectored(t, iov, (b, l) => f.read(t, b, l));
  })),
  writev: supported(['fd', 'iovin', 'int'], epipe(counted('w', (t, a) => {
    const f = writableFile(t, a.i32(0));
    const iov = iovecs(t, a.ptr(1), a.i32(2));
    for (const v of iov) t.mm.check(v.base, v.len, PROT_READ);
    return vectored(t, iov, (b, l) => f.write(t, b, l));
  }))),
  lseek: supported(['fd', 'off', 'whence'], (t, a) => {
    const whence = a.u32(2);
    const f = t.fds.file(a.i32(0));
    if (whence > SEEK_MAX) fail(E.EINVAL);
    return f.lseek(a.i64(1), whence);
  }),
  close: supported(['fd'], (t, a) => {
    t.fds.close(a.i32(0));
    return 0;
  }),
  fstat: supported(['fd', 'stat'], (t, a) => {
    const f = t.fds.file(a.i32(0));
    t.mm.check(a.ptr(1), statSize(t.arch.name), PROT_WRITE);
    f.fstat(t, a.ptr(1));
    return 0;
  }),
  newfstatat: supported(['dirfd', 'path', 'stat', 'atflags'], (t, a) => fstatAt(t, a.i32(0), a.ptr(1), a.ptr(2), a.i32(3))),
  stat: supported(['path', 'stat'], (t, a) => fstatAt(t, AT_FDCWD, a.ptr(0), a.ptr(1), 0)),
  lstat: supported(['path', 'stat'], (t, a) => fstatAt(t, AT_FDCWD, a.ptr(0), a.ptr(1), AT_SYMLINK_NOFOLLOW)),
  statx: supported(['dirfd', 'path', 'statxflags', 'statxmask', 'statx'], (t, a) => {
    const dirfd = a.i32(0);
    const path = pathArg(t, a.ptr(1));
    const flags = a.i32(2);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) fail(E.EINVAL);
    if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) fail(E.EINVAL);
    const mask = a.u32(3);
    if (mask & STATX__RESERVED) fail(E.EINVAL);
    const out = a.ptr(4);
    t.mm.check(out, 256, PROT_WRITE);
    // a host file: the host's own statx (birth time, attributes, mount id); elsewhere the basic fields
    let hostFd = -1;
    let hostP: Buffer | null = null;
    // the mount id is the guest's (statmount's and mountinfo's numbering), not the host's
    let loc: Loc | null;
    if (path.length === 0 && flags & AT_EMPTY_PATH && dirfd !== AT_FDCWD) {
      const f = t.fds.file(dirfd);
      loc = f.loc;
      if (f instanceof HostFile) hostFd = f.hostFd;
      else if (f.loc?.node instanceof HostNode) hostP = f.loc.node.fs.hp(f.loc.node.path);
      else return (t.mm.write(out, statxFromStat(f.statBytes(t))), statxMountId(t, out, loc, mask), 0);
    } else {
      loc = lookupAt(t, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) !== 0);
      if (!(loc.node instanceof HostNode)) return (t.mm.write(out, statxFromStat(loc.node.stat(t))), statxMountId(t, out, loc, mask), 0);
      hostP = loc.node.fs.hp(loc.node.path);
    }
    const hf = hostP === null ? AT_EMPTY_PATH : AT_SYMLINK_NOFOLLOW;
    hostOut(t, out, 256, (h) => chk(host.statx(hostP === null ? hostFd : AT_FDCWD, hostP ?? Buffer.from('\0'), hf | (flags & AT_STATX_SYNC_TYPE), mask, h)));
    statxMountId(t, out, loc, mask);
    return 0;
  }),
  // (strace decodes the terminal structures a successful TCGETS or TIOCGWINSZ returns; shown here by address, as strace shows them on ENOTTY)
  ioctl: partial(['fd', 'ioctl', 'ptr'], ioctl, 'FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC (files with Linux\'s ->fasync: pipes, sockets, ttys, inotify; ENOTTY elsewhere), FIOSETOWN/FIOGETOWN and SIOCSPGRP/SIOCGPGRP on sockets; terminals: TCGETS, TCSETS/W/F, TIOCGWINSZ, TIOCSWINSZ, FIONREAD passed to the host tty, TIOCGPGRP/TIOCSPGRP/TIOCGSID/TIOCSCTTY/TIOCNOTTY answered with the guest\'s own foreground group, session and controlling terminal (background groups get SIGTTIN/SIGTTOU or EIO as Linux\'s tty_check_change decides); the guest\'s own ptys (/dev/ptmx, /dev/pts): TIOCGPTN, TIOCSPTLCK/TIOCGPTLCK, TIOCGPTPEER, TIOCPKT/TIOCGPKT, TIOCSIG on the master, TCGETS/TCSETS*, TIOCGWINSZ/TIOCSWINSZ (SIGWINCH), FIONREAD, TIOCOUTQ, TCFLSH, TCXONC, TCSBRK, TIOCSTI (the caller\'s controlling terminal or CAP_SYS_ADMIN, as the host\'s dev.tty.legacy_tiocsti allows) and the job-control requests on either side; other requests are reported as unsupported'),
  fcntl: partial(fcntlShape, fcntl, 'F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD/SETFD, F_GETFL/SETFL, F_GETPIPE_SZ/SETPIPE_SZ (no per-user pipe page limits); ' +
      'record locks F_GETLK/F_SETLK/F_SETLKW and F_OFD_GETLK/F_OFD_SETLK/F_OFD_SETLKW between the guest\'s processes (EDEADLK between them), ' +
      'on host files as host OFD locks too (a host process\'s lock is waited for by asking the host again every 20 ms; a host process\'s F_GETLK sees ' +
      'the guest\'s POSIX locks with l_pid -1); F_ADD_SEALS/F_GET_SEALS (memfds and tmpfs files; a host file\'s are the host\'s); F_DUPFD_QUERY, F_CREATED_QUERY, F_GET_RW_HINT/F_SET_RW_HINT (kept per inode: a hint for storage, which elfrun has none of); ' +
      'O_ASYNC with F_SETOWN/F_GETOWN, F_SETOWN_EX/F_GETOWN_EX, F_SETSIG/F_GETSIG on pipes, FIFOs, sockets (AF_UNIX, AF_INET: a host socket\'s readiness from a host epoll), ' +
      'ptys, host terminals and inotify fds (a signal for each wake of the file\'s wait queues that leaves it ready, so not always one per Linux kill_fasync: ' +
      'a socket\'s or pty\'s POLL_OUT only when room comes back; real-time queues overflow at 4096 per target, not RLIMIT_SIGPENDING); ' +
      'F_NOTIFY (dnotify) on in-memory and host directories (host directories through the host\'s inotify, so host processes\' changes too); ' +
      'leases F_SETLEASE/F_GETLEASE between the guest\'s processes (an open or truncate(2) by another description breaks them; lease-break-time is the host\'s; ' +
      'no lease is taken on the host, so host processes\' opens neither break nor are refused by them, and descriptions held only by SCM_RIGHTS messages or mappings are not counted as opens); ' +
      'other commands are reported as unsupported'),
  dup: supported({ args: ['fd'], ret: 'fd' }, (t, a) => {
    const f = t.fds.file(a.i32(0));
    f.refs++;
    try {
      return t.fds.add(f, false);
    } catch (e) {
      f.refs--;
      throw e;
    }
  }),
  dup2: supported({ args: ['fd', 'fd'], ret: 'fd' }, (t, a) => {
    const oldfd = a.i32(0);
    const newfd = a.i32(1);
    if (oldfd === newfd) {
      t.fds.get(oldfd);
      return newfd;
    }
    return dup3(t, oldfd, newfd, 0);
  }),
  dup3: supported({ args: ['fd', 'fd', 'statusflags'], ret: 'fd' }, (t, a) => dup3(t, a.i32(0), a.i32(1), a.i32(2))),
  readlinkat: supported(['dirfd', 'path', 'strout', 'size'], (t, a) => readlinkAt(t, a.i32(0), a.ptr(1), a.ptr(2), a.i32(3))),
  readlink: supported(['path', 'strout', 'size'], (t, a) => readlinkAt(t, AT_FDCWD, a.ptr(0), a.ptr(1), a.i32(2))),
  faccessat: supported(['dirfd', 'path', 'accmode'], (t, a) => faccessAt(t, a.i32(0), a.ptr(1), a.i32(2), 0)),
  faccessat2: supported(['dirfd', 'path', 'accmode', 'atflags'], (t, a) => faccessAt(t, a.i32(0), a.ptr(1), a.i32(2), a.i32(3))),
  access: supported(['path', 'accmode'], (t, a) => faccessAt(t, AT_FDCWD, a.ptr(0), a.i32(1), 0)),
  getcwd: supported(['strout', 'size'], (t, a) => getcwd(t, a.ptr(0), a.size(1))),
  chdir: supported(['path'], (t, a) => chdirTo(t, lookupAt(t, AT_FDCWD, pathArg(t, a.ptr(0)), true))),
  fchdir: supported(['fd'], (t, a) => chdirTo(t, fdLoc(t, t.fds.file(a.i32(0))))),
  umask: supported(['umask'], (t, a) => {
    const old = t.umask;
    t.umask = a.u32(0) & 0o777;
    return old;
  }),
  ftruncate: supported(['fd', 'off'], (t, a) => {
    const len = a.i64(1);
    if (len < 0) fail(E.EINVAL);
    const f = t.fds.file(a.i32(0));
    if (!f.writable) fail(E.EINVAL);
    const r = f.ftruncate(t, len);
    if (f.notified !== null) t.kernel.vfs.notify.onFile(t, f.loc, IN_MODIFY);
    return r;
  }),
  sendfile: supported(['fd', 'fd', 'sendoff', 'size'], epipe(counted('r', counted('w', sendfile), 1)), 'host file to host file by the host kernel; other pairs through elfrun'),
  close_range: supported(['uint', 'uint', 'closerange'], (t, a) => closeRange(t, a.u32(0), a.u32(1), a.u32(2))),
  fsync: supported(['fd'], (t, a) => t.fds.file(a.i32(0)).fsync()),
  fdatasync: supported(['fd'], (t, a) => t.fds.file(a.i32(0)).fsync()),
};
