// Zero-copy I/O as Linux's fs/splice.c and copy_file_range check it:
// splice (pipe to pipe, pipe to file, file to pipe), tee, vmsplice, and
// copy_file_range. Data moves through host memory (the files' kread and
// kwrite), a piece of at most the scratch buffer per call; a pipe is
// waited on before anything is taken, so that a retried call loses nothing.
// Host file to host file copy_file_range is the host kernel's own.
import type { Task } from '../../proc/task.js';
import type { FileDescription } from '../../fs/file.js';
import { PipeEnd } from '../../fs/pipe.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { O_APPEND, O_NONBLOCK, SEEK_CUR, SEEK_SET } from '../../abi/fcntl.js';
import { PROT_WRITE } from '../../abi/mman.js';
import { S_IFDIR, S_IFMT, S_IFREG } from '../../abi/stat.js';
import { MAX_RW_COUNT } from '../../abi/limits.js';
import { hostScratch } from '../../fs/transfer.js';
import { hostVec } from '../../host/vecio.js';
import { iovecs, raisingSigpipe, vectored } from './fs.js';
import { hostRegular } from './io.js';
import { chk, partial, supported, type Def } from './util.js';

export const SPLICE_F_MOVE = 1;
export const SPLICE_F_NONBLOCK = 2;
export const SPLICE_F_MORE = 4;
export const SPLICE_F_GIFT = 8;
const SPLICE_F_ALL = 0xf;

const pipeOf = (f: FileDescription): PipeEnd | null => (f instanceof PipeEnd ? f : null);

/** Run op with the file's O_NONBLOCK set when the call asks for it. */
function withNonblock<T>(f: FileDescription, on: boolean, op: () => T): T {
  if (!on || f.flags & O_NONBLOCK) return op();
  f.flags |= O_NONBLOCK;
  try {
    return op();
  } finally {
    f.flags &= ~O_NONBLOCK;
  }
}

/** An loff_t an argument points to (EFAULT), or null for NULL. */
function offArg(t: Task, addr: number): number | null {
  return addr === 0 ? null : t.mm.i64(addr);
}

/** Write from scratch at `off` (null: at the file position), leaving the position as it was. */
function kwriteAt(t: Task, f: FileDescription, n: number, off: number | null): number {
  const s = hostScratch();
  if (off === null) return f.kwrite(t, s, n);
  const pos = f.lseek(0, SEEK_CUR);
  f.lseek(off, SEEK_SET);
  try {
    return f.kwrite(t, s, n);
  } finally {
    f.lseek(pos, SEEK_SET);
  }
}

/** st_mode and st_dev of an open file (the host's stat layout). */
function modeDev(t: Task, f: FileDescription): { mode: number; dev: bigint } {
  const st = Buffer.from(f.statBytes(t));
  return { mode: st.readUInt32LE(24), dev: st.readBigUInt64LE(0) };
}

function splice(t: Task, fdIn: number, offInAddr: number, fdOut: number, offOutAddr: number, len: number, flags: number): number {
  if (len === 0) return 0;
  if (flags & ~SPLICE_F_ALL) fail(E.EINVAL);
  const inp = t.fds.file(fdIn);
  const out = t.fds.file(fdOut);
  const ip = pipeOf(inp);
  const op = pipeOf(out);
  if (ip && offInAddr !== 0) fail(E.ESPIPE);
  if (op && offOutAddr !== 0) fail(E.ESPIPE);
  const offOut = offArg(t, offOutAddr);
  const offIn = offArg(t, offInAddr);
  if (!inp.readable || !out.writable) fail(E.EBADF);
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  len = Math.min(len, MAX_RW_COUNT);
  const s = hostScratch();
  if (ip && op) {
    if (ip.pipe === op.pipe) fail(E.EINVAL);
    // pipe to pipe: wait for data, then for room, then move what fits
    if (!withNonblock(inp, nonblock, () => ip.waitForData(t))) return 0;
    withNonblock(out, nonblock, () => op.waitForRoom(t));
    const n = Math.min(len, ip.pipe.size, op.pipe.space, s.bytes.length);
    const got = ip.kread(t, s, n, null);
    return op.kwrite(t, s, got);
  }
  if (ip) {
    // pipe to file
    if (offOut !== null && offOut < 0) fail(E.EINVAL);
    if (out.flags & O_APPEND) fail(E.EINVAL);
    if (!withNonblock(inp, nonblock, () => ip.waitForData(t))) return 0;
    const n = Math.min(len, ip.pipe.size, s.bytes.length);
    // the bytes leave the pipe once the file has taken them
    const got = ip.kread(t, s, n, null);
    const r = kwriteAt(t, out, got, offOut);
    if (offOut !== null) t.mm.setU64(offOutAddr, offOut + r);
    return r;
  }
  if (op) {
    // file to pipe: room first, then read what fits
    if (offIn !== null && offIn < 0) fail(E.EINVAL);
    withNonblock(out, nonblock, () => op.waitForRoom(t));
    const n = Math.min(len, op.pipe.space, s.bytes.length);
    const got = inp.kread(t, s, n, offIn);
    const r = got > 0 ? op.kwrite(t, s, got) : 0;
    if (offIn !== null) t.mm.setU64(offInAddr, offIn + r);
    return r;
  }
  return fail(E.EINVAL);
}

function tee(t: Task, fdIn: number, fdOut: number, len: number, flags: number): number {
  if (flags & ~SPLICE_F_ALL) fail(E.EINVAL);
  if (len === 0) return 0;
  const inp = t.fds.file(fdIn);
  const out = t.fds.file(fdOut);
  if (!inp.readable || !out.writable) fail(E.EBADF);
  const ip = pipeOf(inp);
  const op = pipeOf(out);
  if (!ip || !op || ip.pipe === op.pipe) fail(E.EINVAL);
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  if (!withNonblock(inp, nonblock, () => ip.waitForData(t))) return 0;
  withNonblock(out, nonblock, () => op.waitForRoom(t));
  const s = hostScratch();
  const n = Math.min(len, ip.pipe.size, op.pipe.space, s.bytes.length);
  // a copy: the input pipe keeps its bytes
  ip.pipe.peekBytes(s.bytes.subarray(0, n));
  return op.kwrite(t, s, n);
}

function vmsplice(t: Task, fd: number, iovAddr: number, nr: number, flags: number): number {
  if (flags & ~SPLICE_F_ALL) fail(E.EINVAL);
  const f = t.fds.file(fd);
  if (!f.writable && !f.readable) fail(E.EBADF);
  const iov = iovecs(t, iovAddr, nr);
  let total = 0;
  for (const v of iov) total += v.len;
  if (total === 0) return 0;
  const p = pipeOf(f);
  if (p === null) fail(E.EBADF);
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  if (f.writable) return withNonblock(f, nonblock, () => vectored(t, iov, (b, l) => f.write(t, b, l)));
  for (const v of iov) t.mm.check(v.base, v.len, PROT_WRITE);
  return withNonblock(f, nonblock, () => vectored(t, iov, (b, l) => f.read(t, b, l)));
}

function copyFileRange(t: Task, fdIn: number, offInAddr: number, fdOut: number, offOutAddr: number, len: number, flags: number): number {
  if (flags !== 0) fail(E.EINVAL);
  const inp = t.fds.file(fdIn);
  const out = t.fds.file(fdOut);
  const offIn = offArg(t, offInAddr);
  const offOut = offArg(t, offOutAddr);
  const a = modeDev(t, inp);
  const b = modeDev(t, out);
  if ((a.mode & S_IFMT) === S_IFDIR || (b.mode & S_IFMT) === S_IFDIR) fail(E.EISDIR);
  if ((a.mode & S_IFMT) !== S_IFREG || (b.mode & S_IFMT) !== S_IFREG) fail(E.EINVAL);
  if (!inp.readable || !out.writable || out.flags & O_APPEND) fail(E.EBADF);
  if (hostRegular(inp) && hostRegular(out)) {
    // the host kernel copies, and decides (EXDEV across its file systems, EINVAL for overlaps...)
    const oi = offIn === null ? null : [BigInt(offIn)];
    const oo = offOut === null ? null : [BigInt(offOut)];
    const r = chk(hostVec.copyFileRange(inp.hostFd, oi, out.hostFd, oo, Math.min(len, MAX_RW_COUNT), 0));
    if (oi !== null) t.mm.setU64(offInAddr, Number(oi[0]));
    if (oo !== null) t.mm.setU64(offOutAddr, Number(oo[0]));
    return r;
  }
  // one file system's files only (Linux 5.19+: no copies across superblocks but by the file system itself)
  if (a.dev !== b.dev || hostRegular(inp) || hostRegular(out)) fail(E.EXDEV);
  if ((offIn !== null && offIn < 0) || (offOut !== null && offOut < 0)) fail(E.EINVAL);
  const from = offIn ?? inp.lseek(0, SEEK_CUR);
  const to = offOut ?? out.lseek(0, SEEK_CUR);
  len = Math.min(len, MAX_RW_COUNT);
  // the same file: overlapping ranges are EINVAL
  if (inp === out || Buffer.from(inp.statBytes(t)).readBigUInt64LE(8) === Buffer.from(out.statBytes(t)).readBigUInt64LE(8)) {
    if (from < to + len && to < from + len) fail(E.EINVAL);
  }
  const s = hostScratch();
  let done = 0;
  while (done < len) {
    const got = inp.kread(t, s, Math.min(len - done, s.bytes.length), from + done);
    if (got === 0) break;
    const w = kwriteAt(t, out, got, to + done);
    done += w;
    if (w < got) break;
  }
  if (offIn === null) inp.lseek(from + done, SEEK_SET);
  else t.mm.setU64(offInAddr, from + done);
  if (offOut === null) out.lseek(to + done, SEEK_SET);
  else t.mm.setU64(offOutAddr, to + done);
  return done;
}

const SPLICE_NOTE = 'pipes, and files whose data elfrun moves itself (host files, tmpfs, /dev): a socket at either end is EINVAL';

export const spliceDefs: Record<string, Def> = {
  splice: partial(['fd', 'offptr', 'fd', 'offptr', 'size', 'spliceflags'], (t, a) => raisingSigpipe(t, () => splice(t, a.i32(0), a.ptr(1), a.i32(2), a.ptr(3), a.size(4), a.u32(5))), SPLICE_NOTE),
  tee: supported(['fd', 'fd', 'size', 'spliceflags'], (t, a) => raisingSigpipe(t, () => tee(t, a.i32(0), a.i32(1), a.size(2), a.u32(3)))),
  vmsplice: supported(['fd', 'iovin', 'int', 'spliceflags'], (t, a) => raisingSigpipe(t, () => vmsplice(t, a.i32(0), a.ptr(1), a.i32(2), a.u32(3))), 'the pages are copied (SPLICE_F_GIFT gives nothing away), as Linux does for a read end'),
  copy_file_range: supported(['fd', 'offptr', 'fd', 'offptr', 'size', 'uint'], (t, a) => copyFileRange(t, a.i32(0), a.ptr(1), a.i32(2), a.ptr(3), a.size(4), a.u32(5)), 'host files by the host kernel; files of one elfrun file system (tmpfs, memfds) by elfrun; EXDEV across file systems'),
};
