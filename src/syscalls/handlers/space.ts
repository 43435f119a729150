// A file's space and its page cache: fallocate, sync_file_range, readahead,
// fadvise64, cachestat, with Linux's checks in Linux's order. A host regular file gets
// the host kernel's own call, so the host file system decides which
// fallocate modes it has; a tmpfs file's bytes are a host memfd, so the
// host's shmem answers for it, as Linux's tmpfs would (the default mode,
// KEEP_SIZE and PUNCH_HOLE; EOPNOTSUPP for the others).
import type { Task } from '../../proc/task.js';
import type { FileDescription } from '../../fs/file.js';
import { TmpFile } from '../../fs/tmpfile.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG } from '../../abi/stat.js';
import { host } from '../../host/libc.js';
import { hostVec } from '../../host/vecio.js';
import { hostScratch } from '../../fs/transfer.js';
import { hostRegular } from './io.js';
import { chk, supported, type Def } from './util.js';

export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
export const FALLOC_FL_COLLAPSE_RANGE = 0x08;
export const FALLOC_FL_ZERO_RANGE = 0x10;
export const FALLOC_FL_INSERT_RANGE = 0x20;
export const FALLOC_FL_UNSHARE_RANGE = 0x40;
/** (Linux 6.17) */
export const FALLOC_FL_WRITE_ZEROES = 0x80;
const FALLOC_FL_MODE_MASK = 0xfe;

/** the file type of an open file (S_IFMT bits) */
const fileType = (t: Task, f: FileDescription): number => Buffer.from(f.statBytes(t)).readUInt32LE(24) & S_IFMT;

/** vfs_fallocate's checks of the mode, before the file is looked at */
function checkMode(mode: number): void {
  if (mode & ~(FALLOC_FL_MODE_MASK | FALLOC_FL_KEEP_SIZE)) fail(E.ENOTSUP);
  switch (mode & FALLOC_FL_MODE_MASK) {
    case 0:
    case FALLOC_FL_UNSHARE_RANGE:
    case FALLOC_FL_ZERO_RANGE:
      break;
    case FALLOC_FL_PUNCH_HOLE:
      if (!(mode & FALLOC_FL_KEEP_SIZE)) fail(E.ENOTSUP);
      break;
    case FALLOC_FL_COLLAPSE_RANGE:
    case FALLOC_FL_INSERT_RANGE:
    case FALLOC_FL_WRITE_ZEROES:
      if (mode & FALLOC_FL_KEEP_SIZE) fail(E.ENOTSUP);
      break;
    default:
      fail(E.ENOTSUP);
  }
}

function fallocate(t: Task, fd: number, mode: number, off: bigint, len: bigint): number {
  const f = t.fds.file(fd);
  if (hostRegular(f)) return chk(hostVec.fallocate(f.hostFd, mode, off, len));
  if (off < 0n || len <= 0n) fail(E.EINVAL);
  checkMode(mode);
  if (!f.writable) fail(E.EBADF);
  const type = fileType(t, f);
  if (type === S_IFIFO) fail(E.ESPIPE);
  if (type === S_IFDIR) fail(E.EISDIR);
  if (type !== S_IFREG && type !== S_IFBLK) fail(E.ENODEV);
  if (off + len > 0x7fffffffffffffffn) fail(E.EFBIG);
  if (!(f instanceof TmpFile)) fail(E.ENOTSUP);
  // tmpfs: the node's memfd is shmem on the host too; its size follows
  const node = f.node;
  // allocating counts against a memory cap (ENOMEM past it, as shmem_fallocate's accounting fails); punching frees
  if (!(mode & FALLOC_FL_PUNCH_HOLE) && off + len <= BigInt(Number.MAX_SAFE_INTEGER) && node.writable(Number(off), Number(len)) < Number(len)) fail(E.ENOMEM);
  chk(hostVec.fallocate(node.fd(), mode, off, len));
  node.remeasure();
  const s = hostScratch();
  chk(host.fstat(node.memfd, s.addr));
  const size = Number(s.dv.getBigInt64(48, true));
  node.size = size;
  // as shmem_fallocate: the change time always, the modification time for a punched hole
  const now = nowTs();
  node.ctime = now;
  if (mode & FALLOC_FL_PUNCH_HOLE) node.mtime = now;
  return 0;
}

function nowTs(): { sec: number; nsec: number } {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}

const SYNC_FILE_RANGE_ALL = 7;

function syncFileRange(t: Task, fd: number, off: bigint, nbytes: bigint, flags: number): number {
  const f = t.fds.file(fd);
  if (flags & ~SYNC_FILE_RANGE_ALL) fail(E.EINVAL);
  if (off < 0n || nbytes < 0n || off + nbytes > 0x7fffffffffffffffn) fail(E.EINVAL);
  const type = fileType(t, f);
  if (type !== S_IFREG && type !== S_IFBLK && type !== S_IFDIR && type !== S_IFLNK) fail(E.ESPIPE);
  if (hostRegular(f)) return chk(hostVec.syncFileRange(f.hostFd, off, nbytes, flags));
  // tmpfs has nothing to write back
  return 0;
}

function readahead(t: Task, fd: number, off: bigint, count: number): number {
  const f = t.fds.file(fd);
  if (!f.readable) fail(E.EBADF);
  if (hostRegular(f)) return chk(hostVec.readahead(f.hostFd, off, count));
  const type = fileType(t, f);
  if (type !== S_IFREG && type !== S_IFBLK) fail(E.EINVAL);
  return 0;
}

function fadvise(t: Task, fd: number, off: bigint, len: bigint, advice: number): number {
  const f = t.fds.file(fd);
  if (hostRegular(f)) return chk(hostVec.fadvise(f.hostFd, off, len, advice));
  if (fileType(t, f) === S_IFIFO) fail(E.ESPIPE);
  if (len < 0n || advice < 0 || advice > 5) fail(E.EINVAL);
  // advice about a cache elfrun does not keep: nothing changes what the guest reads
  return 0;
}

/**
 * cachestat: the page-cache state of a range of the file. A file with a host
 * fd (a host file, a tmpfs file's memfd) gets the host's own answer; the
 * others (pipes, sockets, elfrun's own files) have no cached pages, as on
 * Linux where such an inode's mapping holds none.
 */
function cachestat(t: Task, fd: number, rangeAddr: number, outAddr: number, flags: number): number {
  const f = t.fds.file(fd);
  if (flags !== 0) fail(E.EINVAL);
  const range = t.mm.read(rangeAddr, 16);
  const stats = Buffer.alloc(40);
  const hfd = f.hostFd;
  if (hfd >= 0) {
    const s = hostScratch();
    s.bytes.set(range, 0);
    chk(hostVec.cachestat(hfd, s.addr, s.addr + 16));
    stats.set(s.bytes.subarray(16, 56));
  }
  t.mm.write(outAddr, stats);
  return 0;
}

const i64 = (v: bigint): bigint => BigInt.asIntN(64, v);

export const spaceDefs: Record<string, Def> = {
  fallocate: supported(['fd', 'fallocmode', 'off', 'off'], (t, a) => fallocate(t, a.i32(0), a.i32(1), i64(a.big(2)), i64(a.big(3))), 'host files: the host file system\'s modes; tmpfs: the host\'s shmem modes (default, KEEP_SIZE, PUNCH_HOLE)'),
  sync_file_range: supported(['fd', 'off', 'off', 'syncrangeflags'], (t, a) => syncFileRange(t, a.i32(0), i64(a.big(1)), i64(a.big(2)), a.u32(3))),
  readahead: supported(['fd', 'off', 'size'], (t, a) => readahead(t, a.i32(0), i64(a.big(1)), a.size(2))),
  fadvise64: supported(['fd', 'off', 'size', 'fadvice'], (t, a) => fadvise(t, a.i32(0), i64(a.big(1)), i64(a.big(2)), a.i32(3))),
  cachestat: supported(['fd', 'ptr', 'ptr', 'hex'], (t, a) => cachestat(t, a.i32(0), a.ptr(1), a.ptr(2), a.u32(3)), 'host files and tmpfs files: the host page cache\'s counts; other files have none cached'),
};
