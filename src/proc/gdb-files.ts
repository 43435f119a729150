// The gdb stub's host I/O (vFile:setfs/open/pread/pwrite/close/fstat/stat/
// unlink/readlink): gdb reads the program and its shared libraries through
// these when its sysroot is "target:" (its default for a remote target), and
// they must be the files the guest sees, not the host's: each path is walked
// through the VFS as a thread of the chosen process would walk it (its
// credentials, root and working directory), so --root, --sandbox and mounts
// apply. Replies are Fresult or F-1,errno with errno in gdb's own numbering
// (its remote protocol's "Errno Values"), as gdbserver's hostio.cc gives them.
import { E } from '../abi/errno.js';
import { fail, SysError } from '../abi/errors.js';
import { O_ACCMODE, O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../abi/fcntl.js';
import { S_IFDIR, S_IFLNK, S_IFREG, W_OK, X_OK } from '../abi/stat.js';
import type { FileDescription } from '../fs/file.js';
import { hostScratch } from '../fs/transfer.js';
import { childPath, type Loc } from '../fs/vfs.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';
import type { Task } from './task.js';
import { binary, xfer } from './gdb-proto.js';

/** Linux errnos gdb's protocol has a number for (the same numbers), and the two it numbers otherwise. */
const GDB_ERRNO = new Set<number>([E.EPERM, E.ENOENT, E.EINTR, E.EBADF, E.EACCES, E.EFAULT, E.EBUSY, E.EEXIST, E.ENODEV, E.ENOTDIR, E.EISDIR, E.EINVAL, E.ENFILE, E.EMFILE, E.EFBIG, E.ENOSPC, E.ESPIPE, E.EROFS]);
const GDB_ENAMETOOLONG = 91;
const GDB_EUNKNOWN = 9999;
/** the most data bytes a reply carries: what fits the stub's PacketSize (0x4000) with its header */
const MAX_DATA = 0x3f00;

/** gdb's open flags (FILEIO_O_*) */
const G_WRONLY = 0x1;
const G_RDWR = 0x2;
const G_APPEND = 0x8;
const G_CREAT = 0x200;
const G_TRUNC = 0x400;
const G_EXCL = 0x800;

/** One reply for an error thrown by the VFS. */
function errReply(e: unknown): string {
  if (!(e instanceof SysError)) return `F-1,${GDB_EUNKNOWN.toString(16)}`;
  const n = GDB_ERRNO.has(e.errno) ? e.errno : e.errno === E.ENAMETOOLONG ? GDB_ENAMETOOLONG : GDB_EUNKNOWN;
  return `F-1,${n.toString(16)}`;
}

/** struct stat in the host's 144-byte layout to gdb's struct fio_stat (big-endian, 64 bytes), as gdbserver fills it. */
function fioStat(st: Uint8Array): Buffer {
  const v = new DataView(st.buffer, st.byteOffset, st.byteLength);
  const u64 = (o: number): bigint => v.getBigUint64(o, true);
  const out = Buffer.alloc(64);
  const u32 = [u64(0), u64(8), BigInt(v.getUint32(24, true)), u64(16), BigInt(v.getUint32(28, true)), BigInt(v.getUint32(32, true)), u64(40)];
  u32.forEach((x, i) => out.writeUInt32BE(Number(BigInt.asUintN(32, x)), 4 * i));
  out.writeBigUInt64BE(u64(48), 28); // st_size
  out.writeBigUInt64BE(u64(56), 36); // st_blksize
  out.writeBigUInt64BE(u64(64), 44); // st_blocks
  for (const [i, o] of [72, 88, 104].entries()) out.writeUInt32BE(Number(BigInt.asUintN(32, u64(o))), 52 + 4 * i);
  return out;
}

export class GdbFiles {
  /** vFile:setfs's process (0: the debugged one) */
  private fsPid = 0;
  private readonly open = new Map<number, FileDescription>();

  constructor(
    private readonly k: Kernel,
    /** the process a pid names (0: the debugged one), or null */
    private readonly procOf: (pid: number) => Process | null,
  ) {}

  /** qXfer:exec-file:read:ANNEX:OFFSET,LENGTH: the program of the process ANNEX names (none: the debugged one). */
  execFile(args: string): string {
    const colon = args.indexOf(':');
    const p = this.procOf(args.slice(0, colon) === '' ? 0 : parseInt(args.slice(0, colon), 16));
    return p === null ? 'E01' : xfer(Buffer.from(p.exePath, 'utf8'), args.slice(colon + 1));
  }

  /** A thread of the process whose view of files is used: its credentials, root and cwd. */
  private task(): Task {
    const p = this.procOf(this.fsPid);
    const t = p === null ? undefined : [...p.threads].find((x) => x.state !== 'dead');
    return t ?? fail(E.ENOENT);
  }

  private lookup(t: Task, path: string, follow: boolean): Loc {
    if (path === '') fail(E.ENOENT);
    const vfs = this.k.vfs;
    t.vfs.lookups.epoch++;
    return vfs.resolve(t, path.startsWith('/') ? vfs.rootFor(t) : t.cwd, path, follow);
  }

  /** One vFile packet (`p` without the "vFile:"): its reply. */
  handle(p: string): string {
    const colon = p.indexOf(':');
    const op = p.slice(0, colon);
    const rest = p.slice(colon + 1);
    const args = rest.split(',');
    const path = (h: string): string => Buffer.from(h, 'hex').toString('latin1');
    try {
      switch (op) {
        case 'setfs': {
          const pid = parseInt(rest, 16);
          if (pid !== 0 && this.procOf(pid) === null) fail(E.ENOENT);
          this.fsPid = pid;
          return 'F0';
        }
        case 'open':
          return `F${this.openFile(path(args[0]), parseInt(args[1], 16), parseInt(args[2], 16)).toString(16)}`;
        case 'close': {
          const fd = parseInt(rest, 16);
          const f = this.open.get(fd) ?? fail(E.EBADF);
          this.open.delete(fd);
          f.release();
          return 'F0';
        }
        case 'pread': {
          const f = this.file(args[0]);
          const s = hostScratch();
          const n = f.kread(this.task(), s, Math.min(parseInt(args[1], 16), MAX_DATA), parseInt(args[2], 16));
          // as gdbserver: no more bytes than fit the packet once escaped
          let data = binary(s.bytes.subarray(0, n));
          let sent = n;
          while (data.length > MAX_DATA) {
            sent = Math.floor(sent * (MAX_DATA / data.length));
            data = binary(s.bytes.subarray(0, sent));
          }
          return `F${sent.toString(16)};${data}`;
        }
        case 'pwrite': {
          const f = this.file(args[0]);
          const off = parseInt(args[1], 16);
          const data = Buffer.from(rest.slice(rest.indexOf(',', rest.indexOf(',') + 1) + 1), 'latin1');
          if (data.length === 0) return 'F0';
          const s = hostScratch();
          const n = Math.min(data.length, s.bytes.length);
          s.bytes.set(data.subarray(0, n));
          f.lseek(off, 0);
          return `F${f.kwrite(this.task(), s, n).toString(16)}`;
        }
        case 'fstat': {
          const st = fioStat(this.file(rest).statBytes(this.task()));
          return `F${st.length.toString(16)};${binary(st)}`;
        }
        case 'stat': {
          const t = this.task();
          const st = fioStat(this.lookup(t, path(rest), true).node.stat(t));
          return `F${st.length.toString(16)};${binary(st)}`;
        }
        case 'readlink': {
          const t = this.task();
          const loc = this.lookup(t, path(rest), false);
          if (loc.node.type !== S_IFLNK) fail(E.EINVAL);
          const target = loc.node.readlink(t);
          return `F${target.length.toString(16)};${binary(target)}`;
        }
        case 'unlink':
          this.unlink(path(rest));
          return 'F0';
        default:
          return '';
      }
    } catch (e) {
      return errReply(e);
    }
  }

  private file(fd: string): FileDescription {
    return this.open.get(parseInt(fd, 16)) ?? fail(E.EBADF);
  }

  /** open(2) of `path` with gdb's flags and mode, as the process would open it: the stub's fd. */
  private openFile(path: string, gflags: number, mode: number): number {
    const t = this.task();
    const vfs = this.k.vfs;
    const acc = gflags & G_RDWR ? O_RDWR : gflags & G_WRONLY ? O_WRONLY : O_RDONLY;
    const flags = acc | (gflags & G_APPEND ? O_APPEND : 0) | (gflags & G_TRUNC ? O_TRUNC : 0);
    const wantWrite = acc !== O_RDONLY || (flags & O_TRUNC) !== 0;
    let loc: Loc | null = null;
    let f: FileDescription;
    if (gflags & G_CREAT) {
      if (path === '') fail(E.ENOENT);
      const { dir, name, trailing } = vfs.parent(t, path.startsWith('/') ? vfs.rootFor(t) : t.cwd, path);
      if (name === '' || name === '.' || name === '..' || trailing) fail(E.EISDIR);
      loc = vfs.tryChild(t, dir, name);
      if (loc !== null && gflags & G_EXCL) fail(E.EEXIST);
      if (loc === null) {
        vfs.writable(dir);
        if (!dir.node.fs.hostChecked) vfs.permission(t, dir, W_OK | X_OK);
        const where = { mnt: dir.mnt, node: dir.node, path: childPath(dir.path, name) };
        f = dir.node.create(t, name, flags | O_CREAT | (gflags & G_EXCL ? O_EXCL : 0), mode & 0o777 & ~t.umask, where);
        return this.add(f);
      }
      if (loc.node.type === S_IFLNK) loc = this.lookup(t, path, true);
    } else loc = this.lookup(t, path, true);
    if (loc.node.type === S_IFDIR && wantWrite) fail(E.EISDIR);
    if (wantWrite && (loc.node.type === S_IFREG || loc.node.type === S_IFDIR)) vfs.writable(loc);
    f = loc.node.open(t, flags, loc);
    f.flags = flags & (O_ACCMODE | O_APPEND);
    return this.add(f);
  }

  private add(f: FileDescription): number {
    let fd = 0;
    while (this.open.has(fd)) fd++;
    this.open.set(fd, f);
    return fd;
  }

  private unlink(path: string): void {
    const t = this.task();
    const vfs = this.k.vfs;
    const { dir, name, trailing } = vfs.parent(t, path.startsWith('/') ? vfs.rootFor(t) : t.cwd, path);
    if (name === '' || name === '.' || name === '..') fail(E.EISDIR);
    if (trailing) fail(vfs.child(t, dir, name).node.type === S_IFDIR ? E.EISDIR : E.ENOTDIR);
    if (vfs.isMountPoint(dir, name)) fail(E.EBUSY);
    vfs.writable(dir);
    const victim = vfs.notify.count > 0 ? vfs.tryChild(t, dir, name) : null;
    dir.node.unlink(t, name);
    if (victim !== null) vfs.notify.removed(t, dir, name, victim.node);
  }

  /** Close every file the stub opened (gdb went away). */
  close(): void {
    for (const f of this.open.values()) f.release();
    this.open.clear();
  }
}
