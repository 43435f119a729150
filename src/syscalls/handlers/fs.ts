// File and fd syscalls. Paths reach the host's file system directly for now
// (the VFS issue puts the mount table in between); fds are elfrun's own.
import { realpathSync } from 'node:fs';
import type { Task } from '../../proc/task.js';
import { PROT_READ, PROT_WRITE } from '../../mm/address-space.js';
import { HostFile, hostScratch, type FileDescription } from '../../fs/file.js';
import { PipeEnd } from '../../fs/pipe.js';
import { guestAbsPath, openProc, ProcFile, procFollow, procNode, procStat, type ProcNode } from '../../fs/procfs.js';
import { O_CLOEXEC, O_CREAT, O_NONBLOCK, O_APPEND, O_ASYNC, O_NOATIME, OPEN_FLAGS, toHostOpenFlags } from '../../fs/flags.js';
import { guestStat, HOST_STAT_SIZE } from '../../fs/stat.js';
import { host } from '../../host/libc.js';
import { E, SysError, fail } from '../errno.js';
import { SIG } from '../../proc/signals.js';
import { Unsupported } from '../dispatch.js';
import type { Args } from '../args.js';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_NO_AUTOMOUNT,
  AT_SYMLINK_NOFOLLOW,
  AT_EACCESS,
  chk,
  hostOut,
  hostPath,
  partial,
  pathArg,
  supported,
  type Def,
} from './util.js';

const IOV_MAX = 1024;
const MAX_RW = 0x7ffff000; // Linux caps one read/write at MAX_RW_COUNT

/** A write that hit a broken pipe also raises SIGPIPE (then fails with EPIPE if the signal is ignored). */
function epipe<T extends unknown[]>(fn: (t: Task, ...rest: T) => number): (t: Task, ...rest: T) => number {
  return (t, ...rest) => {
    try {
      return fn(t, ...rest);
    } catch (e) {
      if (e instanceof SysError && e.errno === E.EPIPE) t.raise(SIG.SIGPIPE);
      throw e;
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

/** A /proc path of the guest: its node (or the host path a /proc link leads to), else null. */
function procLookup(t: Task, dirfd: number, path: Buffer, follow: boolean): ProcNode | string | null {
  const abs = guestAbsPath(t, dirfd, path.toString('latin1'));
  if (abs === null) return null;
  const n = procNode(t, abs);
  if (n === null) return null;
  return follow ? procFollow(t, n) : n;
}

function openAt(t: Task, dirfd: number, pathAddr: number, flags: number, mode: number): number {
  let path = pathArg(t, pathAddr);
  const proc = procLookup(t, dirfd, path, !(flags & OPEN_FLAGS[t.arch.name].O_NOFOLLOW));
  if (proc !== null && typeof proc !== 'string') {
    const f = openProc(proc, flags & ~O_CLOEXEC);
    return t.fds.add(f, (flags & O_CLOEXEC) !== 0);
  }
  if (typeof proc === 'string') path = Buffer.from(proc, 'latin1');
  const [hd, hp] = hostPath(t, dirfd, path);
  const hflags = toHostOpenFlags(t.arch.name, flags) | O_CLOEXEC;
  const m = flags & O_CREAT || (flags & 0o20000000) !== 0 ? mode & 0o7777 & ~t.umask : 0;
  const fd = chk(host.openat(hd, hp, hflags, m));
  const file = new HostFile(fd, flags & ~O_CLOEXEC, path.toString());
  try {
    return t.fds.add(file, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    file.release();
    throw e;
  }
}

interface Iov {
  base: number;
  len: number;
}

function iovecs(t: Task, addr: number, count: number): Iov[] {
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

function vectored(t: Task, iov: Iov[], op: (base: number, len: number) => number): number {
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

function doStat(t: Task, addr: number, fill: (hostAddr: number) => number): number {
  const size = t.arch.name === 'x86_64' ? 144 : 128;
  t.mm.check(addr, size, PROT_WRITE);
  const s = hostScratch();
  chk(fill(s.addr));
  t.mm.write(addr, guestStat(t.arch.name, s.bytes.subarray(0, HOST_STAT_SIZE)));
  return 0;
}

function fstatAt(t: Task, dirfd: number, pathAddr: number, statAddr: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) fail(E.EINVAL);
  let path = pathArg(t, pathAddr);
  const proc = path.length ? procLookup(t, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW)) : null;
  if (proc !== null && typeof proc !== 'string') {
    t.mm.check(statAddr, t.arch.name === 'x86_64' ? 144 : 128, PROT_WRITE);
    procStat(t, proc, statAddr);
    return 0;
  }
  if (typeof proc === 'string') path = Buffer.from(proc, 'latin1');
  if (path.length === 0 && flags & AT_EMPTY_PATH) {
    if (dirfd === AT_FDCWD) {
      const [hd, hp] = hostPath(t, dirfd, path, flags);
      return doStat(t, statAddr, (h) => host.fstatat(hd, hp, h, 0));
    }
    const f = t.fds.file(dirfd);
    f.fstat(t, statAddr);
    return 0;
  }
  const [hd, hp] = hostPath(t, dirfd, path, flags);
  return doStat(t, statAddr, (h) => host.fstatat(hd, hp, h, flags & AT_SYMLINK_NOFOLLOW));
}

function readlinkAt(t: Task, dirfd: number, pathAddr: number, buf: number, size: number): number {
  const path = pathArg(t, pathAddr);
  if (size <= 0 || size > 0x7fffffff) fail(E.EINVAL);
  const proc = path.length ? procLookup(t, dirfd, path, false) : null;
  if (proc !== null && typeof proc !== 'string') {
    if (proc.kind !== 'link') fail(E.EINVAL);
    const target = Buffer.from(proc.target(), 'latin1');
    const n = Math.min(target.length, size);
    t.mm.write(buf, target.subarray(0, n));
    return n;
  }
  const [hd, hp] = hostPath(t, dirfd, path, AT_EMPTY_PATH);
  return hostOut(t, buf, Math.min(size, 65536), (h) => chk(host.readlinkat(hd, hp, h, Math.min(size, 65536))));
}

function faccessAt(t: Task, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if (mode & ~7) fail(E.EINVAL);
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail(E.EINVAL);
  let path = pathArg(t, pathAddr);
  const proc = path.length ? procLookup(t, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW)) : null;
  if (proc !== null && typeof proc !== 'string') {
    if (mode & 2 /* W_OK */) fail(E.EACCES);
    if (mode & 1 /* X_OK */ && proc.kind === 'file') fail(E.EACCES);
    return 0;
  }
  if (typeof proc === 'string') path = Buffer.from(proc, 'latin1');
  const [hd, hp] = hostPath(t, dirfd, path, flags);
  return chk(host.faccessat(hd, hp, mode, flags));
}

const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const F_SETLK = 6;
const F_SETLKW = 7;
const F_GETLK = 5;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;

function fcntl(t: Task, a: Args): number {
  const fd = a.i32(0);
  const cmd = a.i32(1);
  const e = t.fds.get(fd);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = a.i32(2);
      if (min < 0 || min >= t.fds.limit) fail(E.EINVAL);
      e.file.refs++;
      try {
        return t.fds.add(e.file, cmd === F_DUPFD_CLOEXEC, min);
      } catch (err) {
        e.file.refs--;
        throw err;
      }
    }
    case F_GETFD:
      return e.cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      e.cloexec = (a.i32(2) & FD_CLOEXEC) !== 0;
      return 0;
    case F_GETFL:
      return e.file.getFlags(t);
    case F_SETFL: {
      // only these status flags can change; the access mode and creation flags are ignored
      const changeable = O_APPEND | O_NONBLOCK | O_ASYNC | OPEN_FLAGS[t.arch.name].O_DIRECT | O_NOATIME;
      const want = a.i32(2);
      const cur = e.file.getFlags(t);
      e.file.setFlags(toHostOpenFlags(t.arch.name, (cur & ~changeable) | (want & changeable)));
      e.file.flags = (e.file.flags & ~changeable) | (want & changeable);
      return 0;
    }
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
      throw new Unsupported(`fcntl command ${cmd} (record locks)`, E.EINVAL);
    default:
      throw new Unsupported(`fcntl command ${cmd}`, E.EINVAL);
  }
}

const FIOCLEX = 0x5451;
const FIONCLEX = 0x5450;
const FIONBIO = 0x5421;

function ioctl(t: Task, a: Args): number {
  const fd = a.i32(0);
  const req = a.u32(1);
  const e = t.fds.get(fd);
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

function getcwd(t: Task, buf: number, size: number): number {
  const cwd = Buffer.from(t.cwd + '\0');
  if (size < cwd.length) fail(size === 0 ? E.EINVAL : E.ERANGE);
  t.mm.write(buf, cwd);
  return cwd.length;
}

function chdir(t: Task, path: Buffer, dirfd = AT_FDCWD): number {
  const [hd, hp] = hostPath(t, dirfd, path, AT_EMPTY_PATH);
  const s = hostScratch();
  chk(host.fstatat(hd, hp, s.addr, path.length === 0 ? AT_EMPTY_PATH : 0));
  const mode = s.dv.getUint32(24, true);
  if ((mode & 0o170000) !== 0o040000) fail(E.ENOTDIR);
  chk(host.faccessat(hd, hp, 1 /* X_OK */, 0));
  const rel = hp.subarray(0, hp.length - 1).toString();
  t.cwd = realpathSync.native(hd === AT_FDCWD ? rel : `/proc/self/fd/${hd}/${rel}`);
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
  let r: number;
  if (inp instanceof HostFile && out instanceof HostFile) {
    r = chk(host.sendfile(out.hostFd, inp.hostFd, off, count));
  } else if (inp instanceof HostFile && out instanceof PipeEnd) {
    // file -> pipe: wait for room first, then move what fits through scratch memory
    const p = out.pipe;
    if (count === 0) {
      if (p.readers === 0) fail(E.EPIPE);
      return 0;
    }
    out.waitForRoom(t);
    const s = hostScratch();
    const n = Math.min(count, p.space, s.bytes.length);
    r = chk(off ? host.pread(inp.hostFd, s.addr, n, off[0]) : host.read(inp.hostFd, s.addr, n));
    if (off) off[0] += r;
    p.putBytes(s.bytes.subarray(0, r));
  } else if (inp instanceof PipeEnd && out instanceof HostFile) {
    if (off) fail(E.ESPIPE);
    const p = inp.pipe;
    if (count === 0 || !inp.waitForData(t)) return 0;
    const s = hostScratch();
    const n = p.takeBytes(s.bytes.subarray(0, Math.min(count, s.bytes.length)));
    r = chk(host.write(out.hostFd, s.addr, n));
  } else if (inp instanceof ProcFile && (out instanceof HostFile || out instanceof PipeEnd)) {
    if (off) fail(E.ESPIPE);
    if (out instanceof PipeEnd) {
      const p = out.pipe;
      if (p.readers === 0) fail(E.EPIPE);
      if (count > 0) out.waitForRoom(t);
      const data = inp.takeBytes(Math.min(count, p.space));
      p.putBytes(data);
      r = data.length;
    } else {
      const s = hostScratch();
      const data = inp.takeBytes(Math.min(count, s.bytes.length));
      s.bytes.set(data);
      r = chk(host.write(out.hostFd, s.addr, data.length));
    }
  } else {
    throw new Unsupported('sendfile between these kinds of files', E.EINVAL);
  }
  if (off && offAddr !== 0) t.mm.setU64(offAddr, off[0]);
  return r;
}

const SEEK_MAX = 4; // SEEK_SET..SEEK_HOLE

export const fsDefs: Record<string, Def> = {
  read: supported((t, a) => readableFile(t, a.i32(0)).read(t, a.ptr(1), Math.min(a.size(2), MAX_RW))),
  write: supported(epipe((t, a) => writableFile(t, a.i32(0)).write(t, a.ptr(1), Math.min(a.size(2), MAX_RW)))),
  pread64: supported((t, a) => {
    const off = a.i64(3);
    if (off < 0) fail(E.EINVAL);
    return readableFile(t, a.i32(0)).pread(t, a.ptr(1), Math.min(a.size(2), MAX_RW), off);
  }),
  pwrite64: supported(epipe((t, a) => {
    const off = a.i64(3);
    if (off < 0) fail(E.EINVAL);
    return writableFile(t, a.i32(0)).pwrite(t, a.ptr(1), Math.min(a.size(2), MAX_RW), off);
  })),
  readv: supported((t, a) => {
    const f = readableFile(t, a.i32(0));
    const iov = iovecs(t, a.ptr(1), a.i32(2));
    for (const v of iov) t.mm.check(v.base, v.len, PROT_WRITE);
    return vectored(t, iov, (b, l) => f.read(t, b, l));
  }),
  writev: supported(epipe((t, a) => {
    const f = writableFile(t, a.i32(0));
    const iov = iovecs(t, a.ptr(1), a.i32(2));
    for (const v of iov) t.mm.check(v.base, v.len, PROT_READ);
    return vectored(t, iov, (b, l) => f.write(t, b, l));
  })),
  lseek: supported((t, a) => {
    const whence = a.u32(2);
    const f = t.fds.file(a.i32(0));
    if (whence > SEEK_MAX) fail(E.EINVAL);
    return f.lseek(a.i64(1), whence);
  }),
  openat: supported((t, a) => openAt(t, a.i32(0), a.ptr(1), a.i32(2), a.u32(3))),
  open: supported((t, a) => openAt(t, AT_FDCWD, a.ptr(0), a.i32(1), a.u32(2))),
  creat: supported((t, a) => openAt(t, AT_FDCWD, a.ptr(0), 0o1101 /* O_CREAT|O_WRONLY|O_TRUNC */, a.u32(1))),
  close: supported((t, a) => {
    t.fds.close(a.i32(0));
    return 0;
  }),
  fstat: supported((t, a) => {
    const f = t.fds.file(a.i32(0));
    t.mm.check(a.ptr(1), t.arch.name === 'x86_64' ? 144 : 128, PROT_WRITE);
    f.fstat(t, a.ptr(1));
    return 0;
  }),
  newfstatat: supported((t, a) => fstatAt(t, a.i32(0), a.ptr(1), a.ptr(2), a.i32(3))),
  stat: supported((t, a) => fstatAt(t, AT_FDCWD, a.ptr(0), a.ptr(1), 0)),
  lstat: supported((t, a) => fstatAt(t, AT_FDCWD, a.ptr(0), a.ptr(1), AT_SYMLINK_NOFOLLOW)),
  statx: supported((t, a) => {
    const dirfd = a.i32(0);
    const path = pathArg(t, a.ptr(1));
    const flags = a.i32(2);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | 0x6000 /* AT_STATX_SYNC_TYPE */)) fail(E.EINVAL);
    if ((flags & 0x6000) === 0x6000) fail(E.EINVAL);
    const mask = a.u32(3);
    if (mask & 0x80000000) fail(E.EINVAL); // STATX__RESERVED
    let hd: number;
    let hp: Buffer;
    if (path.length === 0 && flags & AT_EMPTY_PATH && dirfd !== AT_FDCWD) {
      const f = t.fds.file(dirfd);
      if (f.hostFd < 0) throw new Unsupported('statx on a non-host fd', E.EINVAL);
      [hd, hp] = [f.hostFd, Buffer.from('\0')];
    } else [hd, hp] = hostPath(t, dirfd, path, flags);
    return hostOut(t, a.ptr(4), 256, (h) => chk(host.statx(hd, hp, flags, mask, h)));
  }),
  getdents64: supported((t, a) => {
    const f = t.fds.file(a.i32(0));
    return f.getdents64(t, a.ptr(1), Math.min(a.size(2), 0x7fffffff));
  }),
  ioctl: partial(ioctl, 'FIOCLEX, FIONCLEX, FIONBIO; terminals: TCGETS, TCSETS/W/F, TIOCGWINSZ, TIOCSWINSZ, FIONREAD passed to the host tty; other requests are reported as unsupported'),
  fcntl: partial(fcntl, 'F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD/SETFD, F_GETFL/SETFL; record locks and leases are not implemented'),
  dup: supported((t, a) => {
    const f = t.fds.file(a.i32(0));
    f.refs++;
    try {
      return t.fds.add(f, false);
    } catch (e) {
      f.refs--;
      throw e;
    }
  }),
  dup2: supported((t, a) => {
    const oldfd = a.i32(0);
    const newfd = a.i32(1);
    if (oldfd === newfd) {
      t.fds.get(oldfd);
      return newfd;
    }
    return dup3(t, oldfd, newfd, 0);
  }),
  dup3: supported((t, a) => dup3(t, a.i32(0), a.i32(1), a.i32(2))),
  readlinkat: supported((t, a) => readlinkAt(t, a.i32(0), a.ptr(1), a.ptr(2), a.i32(3))),
  readlink: supported((t, a) => readlinkAt(t, AT_FDCWD, a.ptr(0), a.ptr(1), a.i32(2))),
  faccessat: supported((t, a) => faccessAt(t, a.i32(0), a.ptr(1), a.i32(2), 0)),
  faccessat2: supported((t, a) => faccessAt(t, a.i32(0), a.ptr(1), a.i32(2), a.i32(3))),
  access: supported((t, a) => faccessAt(t, AT_FDCWD, a.ptr(0), a.i32(1), 0)),
  getcwd: supported((t, a) => getcwd(t, a.ptr(0), a.size(1))),
  chdir: supported((t, a) => chdir(t, pathArg(t, a.ptr(0)))),
  fchdir: supported((t, a) => {
    t.fds.file(a.i32(0));
    return chdir(t, Buffer.alloc(0), a.i32(0));
  }),
  umask: supported((t, a) => {
    const old = t.umask;
    t.umask = a.u32(0) & 0o777;
    return old;
  }),
  ftruncate: supported((t, a) => {
    const len = a.i64(1);
    if (len < 0) fail(E.EINVAL);
    const f = t.fds.file(a.i32(0));
    if (!f.writable) fail(E.EINVAL);
    return f.ftruncate(len);
  }),
  sendfile: partial(epipe(sendfile), 'host file to host file (the host kernel copies), host file or procfs file to pipe, pipe or procfs file to host file; other pairs are reported as unsupported'),
  fsync: supported((t, a) => t.fds.file(a.i32(0)).fsync()),
  fdatasync: supported((t, a) => t.fds.file(a.i32(0)).fsync()),
};
