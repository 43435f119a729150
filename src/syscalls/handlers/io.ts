// Vectored I/O at an offset: preadv, pwritev, preadv2, pwritev2 (RWF_*
// flags). On a host regular file the guest's iovecs become host iovecs
// over guest memory and the host kernel does the call with the guest's
// flags and offset, so its file system decides what it supports; other
// files go piece by piece through their read and write, with the flags
// applied as Linux applies them to a file system without special support.
import type { Task } from '../../proc/task.js';
import type { FileDescription } from '../../fs/file.js';
import { HostFile } from '../../fs/hostfile.js';
import { PipeEnd } from '../../fs/pipe.js';
import { Socket } from '../../net/socket.js';
import { E } from '../../abi/errno.js';
import { fail, SysError } from '../../abi/errors.js';
import { O_APPEND, O_NONBLOCK, SEEK_CUR, SEEK_SET } from '../../abi/fcntl.js';
import { PROT_READ, PROT_WRITE } from '../../abi/mman.js';
import { S_IFMT, S_IFREG } from '../../abi/stat.js';
import { IOV_MAX } from '../../abi/limits.js';
import { host, Scratch } from '../../host/libc.js';
import { hostScratch } from '../../fs/transfer.js';
import { hostVec } from '../../host/vecio.js';
import { iovecs, raisingSigpipe, type Iov } from './fs.js';
import { chk, probe, supported, type Def } from './util.js';

/** preadv2/pwritev2 flags (<linux/fs.h>) */
export const RWF_HIPRI = 0x1;
export const RWF_DSYNC = 0x2;
export const RWF_SYNC = 0x4;
export const RWF_NOWAIT = 0x8;
export const RWF_APPEND = 0x10;
export const RWF_NOAPPEND = 0x20;
export const RWF_ATOMIC = 0x40;
export const RWF_DONTCACHE = 0x80;
/** (Linux 6.17) a write to a broken pipe or socket does not raise SIGPIPE */
export const RWF_NOSIGNAL = 0x100;
const RWF_SUPPORTED = 0x1ff;

/** Is f a host regular file (whose I/O the host kernel can do as the guest asks)? */
export function hostRegular(f: FileDescription): f is HostFile {
  if (!(f instanceof HostFile)) return false;
  const s = hostScratch();
  return host.fstat(f.hostFd, s.addr) === 0 && (s.dv.getUint32(24, true) & S_IFMT) === S_IFREG;
}

let iovScratch: Scratch | null = null;

/**
 * The host iovecs over the guest buffers of iov, up to the first byte that
 * is not accessible (EFAULT if that is the first); how many were written.
 */
function hostIovecs(t: Task, iov: Iov[], prot: number): number {
  const s = (iovScratch ??= new Scratch(IOV_MAX * 16));
  let n = 0;
  let any = false;
  for (const v of iov) {
    if (v.len === 0) continue;
    let got: number;
    try {
      got = t.mm.prefixPieces(v.base, v.len, prot, (h, k) => {
        if (n === IOV_MAX) return false;
        s.dv.setBigUint64(n * 16, BigInt(h), true);
        s.dv.setBigUint64(n * 16 + 8, BigInt(k), true);
        n++;
        return true;
      });
    } catch (e) {
      if (any && e instanceof SysError) break;
      throw e;
    }
    any = true;
    if (got < v.len || n === IOV_MAX) break;
  }
  return n;
}

/**
 * preadv/pwritev (v2 false: pos must be >= 0) and preadv2/pwritev2 (pos -1:
 * at and moving the file position), in Linux's order of checks.
 */
function vecIo(t: Task, fd: number, iovAddr: number, cnt: number, pos: bigint, flags: number, write: boolean, v2: boolean): number {
  if (pos < (v2 ? -1n : 0n)) fail(E.EINVAL);
  const f = t.fds.file(fd);
  const positioned = pos >= 0n;
  const off = Number(pos);
  const onHost = hostRegular(f);
  // a file without positioned I/O (a pipe, a socket, a tty): ESPIPE, before anything else
  if (positioned && !onHost) {
    try {
      if (write) f.pwrite(t, 0, 0, off);
      else f.pread(t, 0, 0, off);
    } catch (e) {
      if (e instanceof SysError && e.errno === E.ESPIPE) throw e;
    }
  }
  if (write ? !f.writable : !f.readable) fail(E.EBADF);
  const iov = iovecs(t, iovAddr, cnt);
  let total = 0;
  for (const v of iov) total += v.len;
  if (total === 0) return 0;
  if (flags & ~RWF_SUPPORTED) fail(E.ENOTSUP);
  return transfer(t, f, iov, pos, positioned, flags, write, onHost);
}

/**
 * An asynchronous read or write (io_submit's IOCB_CMD_PREAD and the like):
 * at pos on a file with positioned I/O, at the stream's own place on one
 * without (a pipe, a socket, a tty: their read_iter and write_iter ignore
 * the position, as Linux's do); the RWF_* flags as preadv2's.
 */
export function transferAt(t: Task, f: FileDescription, iov: Iov[], pos: number, flags: number, write: boolean): number {
  const onHost = hostRegular(f);
  let positioned = true;
  if (!onHost) {
    try {
      if (write) f.pwrite(t, 0, 0, pos);
      else f.pread(t, 0, 0, pos);
    } catch (e) {
      if (e instanceof SysError && e.errno === E.ESPIPE) positioned = false;
    }
  }
  let total = 0;
  for (const v of iov) total += v.len;
  if (total === 0) return 0;
  return transfer(t, f, iov, BigInt(pos), positioned, flags, write, onHost);
}

/** The transfer of preadv2 and the like, once the arguments are checked. */
function transfer(t: Task, f: FileDescription, iov: Iov[], pos: bigint, positioned: boolean, flags: number, write: boolean, onHost: boolean): number {
  const off = Number(pos);
  const prot = write ? PROT_READ : PROT_WRITE;
  if (onHost) {
    const n = hostIovecs(t, iov, prot);
    return chk(write ? hostVec.pwritev2(f.hostFd, iovScratch!.addr, n, pos, flags) : hostVec.preadv2(f.hostFd, iovScratch!.addr, n, pos, flags));
  }
  // what a file system without atomic writes or uncached I/O answers; only pipes and sockets take RWF_NOWAIT (tmpfs does not)
  if (flags & (RWF_ATOMIC | RWF_DONTCACHE)) fail(E.ENOTSUP);
  const stream = f instanceof PipeEnd || f instanceof Socket;
  if (flags & RWF_NOWAIT && !stream) fail(E.ENOTSUP);
  // a stream must not lose what it read into a buffer it then cannot write
  if (stream) for (const v of iov) t.mm.check(v.base, v.len, prot);
  const saved = f.flags;
  let mode = saved;
  if (flags & RWF_NOWAIT) mode |= O_NONBLOCK;
  if (write && flags & RWF_APPEND) mode |= O_APPEND;
  if (write && flags & RWF_NOAPPEND) mode &= ~O_APPEND;
  // RWF_APPEND at an offset appends, and leaves the file position where it was
  const appendAt = write && positioned && (mode & O_APPEND) !== 0;
  const keepPos = appendAt ? f.lseek(0, SEEK_CUR) : -1;
  f.flags = mode;
  try {
    let at = off;
    return vectoredIo(iov, (b, l) => {
      const r = positioned && !appendAt ? (write ? f.pwrite(t, b, l, at) : f.pread(t, b, l, at)) : write ? f.write(t, b, l) : f.read(t, b, l);
      at += r;
      return r;
    });
  } finally {
    f.flags = (f.flags & ~(O_NONBLOCK | O_APPEND)) | (saved & (O_NONBLOCK | O_APPEND));
    if (keepPos >= 0) f.lseek(keepPos, SEEK_SET);
  }
}

/** The pieces in turn; a short one ends it; an error after some bytes returns those bytes. */
function vectoredIo(iov: Iov[], op: (base: number, len: number) => number): number {
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

const V2_NOTE = 'on host regular files the host kernel applies the RWF_* flags; on other files RWF_NOWAIT does not block, RWF_APPEND/NOAPPEND as Linux, RWF_HIPRI/DSYNC/SYNC change nothing (no cache to flush), RWF_ATOMIC and RWF_DONTCACHE are EOPNOTSUPP as on a file system without them, RWF_NOWAIT on tmpfs files too (as on Linux, whose shmem lacks it); RWF_NOSIGNAL leaves out SIGPIPE';

export const ioDefs: Record<string, Def> = {
  // a kernel built without CONFIG_IO_URING (or CONFIG_SECURITY_LANDLOCK) answers ENOSYS, and these callers go on without
  io_uring_setup: probe(['uint', 'ptr'], 'libuv >= 1.45 tries io_uring for its file operations and uses its thread pool on ENOSYS'),
  landlock_create_ruleset: probe(['ptr', 'size', 'hex'], 'xz >= 5.6 and other sandboxing programs ask the Landlock ABI version and run without the sandbox on ENOSYS'),
  preadv: supported(['fd', 'iovout', 'int', 'off'], (t, a) => vecIo(t, a.i32(0), a.ptr(1), a.i32(2), BigInt.asIntN(64, a.big(3)), 0, false, false)),
  pwritev: supported(['fd', 'iovin', 'int', 'off'], (t, a) => raisingSigpipe(t, () => vecIo(t, a.i32(0), a.ptr(1), a.i32(2), BigInt.asIntN(64, a.big(3)), 0, true, false))),
  preadv2: supported({ args: ['fd', 'iovout', 'int', 'off', ['rwflags', 5]], ret: 'int' }, (t, a) => vecIo(t, a.i32(0), a.ptr(1), a.i32(2), BigInt.asIntN(64, a.big(3)), a.i32(5), false, true), V2_NOTE),
  pwritev2: supported({ args: ['fd', 'iovin', 'int', 'off', ['rwflags', 5]], ret: 'int' }, (t, a) => {
    const io = (): number => vecIo(t, a.i32(0), a.ptr(1), a.i32(2), BigInt.asIntN(64, a.big(3)), a.i32(5), true, true);
    return a.i32(5) & RWF_NOSIGNAL ? io() : raisingSigpipe(t, io);
  }, V2_NOTE),
};
