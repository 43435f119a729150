// tmpfs: a file system in memory, with Linux's tmpfs semantics: inode
// numbers, link counts, sparse files, permissions checked as the kernel's
// generic_permission does, and timestamps updated where Linux updates them.
// A regular file's bytes live in a host memfd (made on the first write), so
// that reads, writes and shared mappings all see the same pages. This module
// holds the tree and its rules; the open files are in tmpfile.ts.
import koffi from '../host/ffi.js';
import { host } from '../host/libc.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { F_SEAL_EXEC, F_SEAL_SEAL, MFD_ALLOW_SEALING, MFD_CLOEXEC, O_ACCMODE, O_CLOEXEC, O_EXCL, O_PATH, O_RDONLY, O_TRUNC, O_WRONLY, RENAME_EXCHANGE, RENAME_NOREPLACE } from '../abi/fcntl.js';
import { TMPFS_MAGIC, ST_VALID, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID, S_ISUID, S_ISVTX, S_IXGRP, R_OK, W_OK, X_OK } from '../abi/stat.js';
import { NAME_MAX } from '../abi/limits.js';
import { PathFile, sizeChanged, type FileDescription } from './file.js';
import { type IoContext } from './context.js';
import { openFifo } from './pipe.js';
import { inodeStatBytes } from './stat.js';
import { TmpDirFile, TmpFile } from './tmpfile.js';
import { hostScratch } from './transfer.js';
import { XattrStore } from './xattr.js';
import { childPath, cred, FileSystem, nowTs, permitted, VNode, type Loc, type SetAttr, type Timespec } from './vfs.js';

const memfdCreate = koffi.load('libc.so.6').func('int memfd_create(const char *name, unsigned int flags)');
const BOGO_DIRENT_SIZE = 20; // what tmpfs adds to a directory's size per entry

const chk = (r: number): number => (r < 0 ? fail(-r) : r);

/** A device's open: devfs plugs its character devices in here. */
export type DeviceOpener = (t: IoContext, rdev: number, flags: number, node: TmpNode) => FileDescription;

export class TmpFs extends FileSystem {
  readonly type: string = 'tmpfs';
  private nextIno = 1;
  readonly rootNode: TmpNode;
  /** opens character and block devices (devfs); ENXIO without one, as for a missing driver */
  openDevice: DeviceOpener | null = null;
  constructor(mode = 0o1777, uid = 0, gid = 0) {
    super();
    this.rootNode = new TmpNode(this, S_IFDIR | mode, uid, gid);
  }
  ino(): number {
    return this.nextIno++;
  }
  root(): VNode {
    return this.rootNode;
  }
  statfs(): Uint8Array {
    // struct statfs: TMPFS_MAGIC, 4 KiB blocks, sized like the host's RAM (Linux's default is half of it)
    const b = Buffer.alloc(120);
    const s = hostScratch();
    host.sysinfo(s.addr);
    const ram = Number(s.dv.getBigUint64(32, true)) * s.dv.getUint32(104, true);
    const blocks = Math.floor(ram / 2 / 4096);
    b.writeBigInt64LE(BigInt(TMPFS_MAGIC), 0);
    b.writeBigInt64LE(4096n, 8);
    b.writeBigUint64LE(BigInt(blocks), 16);
    b.writeBigUint64LE(BigInt(blocks), 24);
    b.writeBigUint64LE(BigInt(blocks), 32);
    b.writeBigUint64LE(BigInt(blocks), 40);
    b.writeBigUint64LE(BigInt(blocks), 48);
    b.writeBigInt64LE(BigInt(NAME_MAX), 64); // f_namelen
    b.writeBigInt64LE(4096n, 72); // f_frsize
    b.writeBigInt64LE(BigInt(ST_VALID), 80); // f_flags
    return b;
  }
}

export class TmpNode extends VNode {
  readonly ino: number;
  mode: number;
  nlink: number;
  rdev = 0;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** directories: entries by name */
  children: Map<string, TmpNode> | null = null;
  /** directories: the directory holding this one */
  up: TmpNode;
  /** symlinks */
  target: Buffer | null = null;
  /** regular files: size, and the memfd holding the bytes (-1 until the first write) */
  size = 0;
  memfd = -1;
  /** regular files: the host memory behind the data as last measured, charged to the file system's account (only under a memory cap) */
  allocated = 0;
  /** open descriptions: the memfd is freed when no name and no open is left */
  opens = 0;
  /** an O_TMPFILE file opened without O_EXCL: linkat may give it a name */
  linkable = false;
  /**
   * regular files: the file seals (F_ADD_SEALS); a tmpfs file is sealed
   * against sealing, a memfd made with MFD_ALLOW_SEALING is not. The host
   * memfd carries them too (but F_SEAL_EXEC), so the host refuses what
   * they forbid (writes, truncates, writable shared mappings).
   */
  seals = F_SEAL_SEAL;

  constructor(
    readonly fs: TmpFs,
    mode: number,
    public uid: number,
    public gid: number,
    up?: TmpNode,
  ) {
    super();
    this.ino = fs.ino();
    this.mode = mode;
    this.nlink = (mode & S_IFMT) === S_IFDIR ? 2 : 1;
    this.atime = this.mtime = this.ctime = nowTs();
    this.up = up ?? this;
    if ((mode & S_IFMT) === S_IFDIR) {
      this.children = new Map();
      this.size = 2 * BOGO_DIRENT_SIZE;
    }
  }
  get type(): number {
    return this.mode & S_IFMT;
  }
  get key(): string {
    return String(this.ino);
  }

  stat(): Uint8Array {
    let blocks = 0;
    if (this.memfd >= 0) {
      const s = hostScratch();
      if (host.fstat(this.memfd, s.addr) === 0) blocks = Number(s.dv.getBigInt64(64, true));
    }
    return inodeStatBytes({ dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: this.nlink, uid: this.uid, gid: this.gid, rdev: this.rdev, size: this.size, blocks, atime: this.atime, mtime: this.mtime, ctime: this.ctime });
  }
  parent(): VNode {
    return this.up;
  }
  private dir(): Map<string, TmpNode> {
    return this.children ?? fail(E.ENOTDIR);
  }
  override lookup(_t: IoContext, name: string): VNode {
    return this.dir().get(name) ?? fail(E.ENOENT);
  }
  override readlink(): Buffer {
    if (this.target === null) fail(E.EINVAL);
    return this.target;
  }

  // ---- permissions ------------------------------------------------------------------

  private can(t: IoContext, want: number): boolean {
    return permitted(cred(t), this.mode, this.uid, this.gid, want);
  }
  override access(t: IoContext, mode: number): void {
    if (!this.can(t, mode)) fail(E.EACCES);
  }
  /** may_create / may_delete: write and search permission on this directory */
  private mayChange(t: IoContext): void {
    this.dir();
    if (!this.can(t, W_OK | X_OK)) fail(E.EACCES);
  }
  /** the sticky bit: only the file's or the directory's owner (or root) may remove or rename */
  private sticky(t: IoContext, victim: TmpNode): void {
    const c = cred(t);
    if (this.mode & S_ISVTX && c.uid !== 0 && c.uid !== victim.uid && c.uid !== this.uid) fail(E.EPERM);
  }

  // ---- directory changes ------------------------------------------------------------

  private touchDir(): void {
    this.mtime = this.ctime = nowTs();
  }
  private add(name: string, n: TmpNode): void {
    const d = this.dir();
    if (d.has(name)) fail(E.EEXIST);
    d.set(name, n);
    this.size += BOGO_DIRENT_SIZE;
    if (n.type === S_IFDIR) {
      n.up = this;
      this.nlink++;
    }
    this.touchDir();
  }
  private remove(name: string): TmpNode {
    const d = this.dir();
    const n = d.get(name)!;
    d.delete(name);
    this.size -= BOGO_DIRENT_SIZE;
    if (n.type === S_IFDIR) this.nlink--;
    this.touchDir();
    return n;
  }
  private newNode(t: IoContext, mode: number): TmpNode {
    const c = cred(t);
    // a setgid directory passes its group (and, to directories, the bit) on
    const gid = this.mode & S_ISGID ? this.gid : c.gid;
    if (this.mode & S_ISGID && (mode & S_IFMT) === S_IFDIR) mode |= S_ISGID;
    return new TmpNode(this.fs, mode, c.uid, gid, this);
  }
  override create(t: IoContext, name: string, flags: number, mode: number, loc: Loc): FileDescription {
    this.mayChange(t);
    const n = this.newNode(t, S_IFREG | (mode & 0o7777));
    this.add(name, n);
    return n.openFile(t, flags & ~O_TRUNC, { ...loc, node: n });
  }
  override tmpfile(t: IoContext, flags: number, mode: number, dir: Loc): FileDescription {
    this.mayChange(t);
    const n = this.newNode(t, S_IFREG | (mode & 0o7777));
    n.nlink = 0;
    n.linkable = !(flags & O_EXCL);
    return n.openFile(t, flags & ~O_TRUNC, { mnt: dir.mnt, node: n, path: childPath(dir.path, `#${n.ino} (deleted)`) });
  }
  override mkdir(t: IoContext, name: string, mode: number): void {
    this.mayChange(t);
    if (this.dir().has(name)) fail(E.EEXIST);
    if (this.nlink >= 0xffffffff) fail(E.EMLINK);
    this.add(name, this.newNode(t, S_IFDIR | (mode & 0o7777)));
  }
  override mknod(t: IoContext, name: string, mode: number, rdev: number): void {
    this.mayChange(t);
    const type = mode & S_IFMT;
    if ((type === S_IFCHR || type === S_IFBLK) && cred(t).uid !== 0) fail(E.EPERM);
    if (this.dir().has(name)) fail(E.EEXIST);
    const n = this.newNode(t, (type || S_IFREG) | (mode & 0o7777));
    if (type === S_IFCHR || type === S_IFBLK) n.rdev = rdev;
    this.add(name, n);
  }
  override symlink(t: IoContext, name: string, target: Buffer): void {
    this.mayChange(t);
    if (this.dir().has(name)) fail(E.EEXIST);
    const n = this.newNode(t, S_IFLNK | 0o777);
    n.target = Buffer.from(target);
    n.size = target.length;
    this.add(name, n);
  }
  override link(t: IoContext, name: string, target: VNode): void {
    const n = target as TmpNode;
    this.mayChange(t);
    if (n.type === S_IFDIR) fail(E.EPERM);
    if (this.dir().has(name)) fail(E.EEXIST);
    if (n.nlink === 0 && !n.linkable) fail(E.ENOENT);
    n.linkable = false;
    this.add(name, n);
    n.nlink++;
    n.ctime = nowTs();
  }
  override unlink(t: IoContext, name: string): void {
    this.mayChange(t);
    const n = this.dir().get(name) ?? fail(E.ENOENT);
    if (n.type === S_IFDIR) fail(E.EISDIR);
    this.sticky(t, n);
    this.remove(name);
    n.nlink--;
    n.ctime = nowTs();
    n.maybeFree();
  }
  override rmdir(t: IoContext, name: string): void {
    this.mayChange(t);
    const n = this.dir().get(name) ?? fail(E.ENOENT);
    if (n.type !== S_IFDIR) fail(E.ENOTDIR);
    this.sticky(t, n);
    if (n.children!.size > 0) fail(E.ENOTEMPTY);
    this.remove(name);
    n.nlink = 0;
    n.ctime = nowTs();
  }
  override rename(t: IoContext, name: string, toDir: VNode, toName: string, flags: number): void {
    const to = toDir as TmpNode;
    this.mayChange(t);
    to.mayChange(t);
    const src = this.dir().get(name) ?? fail(E.ENOENT);
    const dst = to.dir().get(toName);
    if (flags & RENAME_NOREPLACE && dst) fail(E.EEXIST);
    if (flags & RENAME_EXCHANGE && !dst) fail(E.ENOENT);
    this.sticky(t, src);
    if (dst) to.sticky(t, dst);
    // a directory cannot move below itself
    for (let d: TmpNode = to; ; d = d.up) {
      if (d === src) fail(E.EINVAL);
      if (d.up === d) break;
    }
    if (dst === src) return;
    if (dst && flags & RENAME_EXCHANGE) {
      for (let d: TmpNode = this; ; d = d.up) {
        if (d === dst) fail(E.EINVAL);
        if (d.up === d) break;
      }
      this.dir().set(name, dst);
      to.dir().set(toName, src);
      const dirDelta = (src.type === S_IFDIR ? 1 : 0) - (dst.type === S_IFDIR ? 1 : 0);
      to.nlink += dirDelta;
      this.nlink -= dirDelta;
      if (src.type === S_IFDIR) src.up = to;
      if (dst.type === S_IFDIR) dst.up = this;
      src.ctime = dst.ctime = nowTs();
      this.touchDir();
      to.touchDir();
      return;
    }
    if (dst) {
      if (src.type === S_IFDIR && dst.type !== S_IFDIR) fail(E.ENOTDIR);
      if (src.type !== S_IFDIR && dst.type === S_IFDIR) fail(E.EISDIR);
      if (dst.type === S_IFDIR && dst.children!.size > 0) fail(E.ENOTEMPTY);
      to.remove(toName);
      dst.nlink = dst.type === S_IFDIR ? 0 : dst.nlink - 1;
      dst.ctime = nowTs();
      dst.maybeFree();
    }
    this.remove(name);
    to.add(toName, src);
    src.ctime = nowTs();
  }

  // ---- attributes ---------------------------------------------------------------------

  /** extended attributes, made at the first one set */
  private xattrs: XattrStore | null = null;

  override getxattr(t: IoContext, name: Buffer, out: Uint8Array): number {
    return (this.xattrs ?? new XattrStore()).get(t, this, name.toString('latin1'), out);
  }
  override listxattr(t: IoContext, out: Uint8Array): number {
    return (this.xattrs ?? new XattrStore()).list(t, out);
  }
  override setxattr(t: IoContext, name: Buffer, value: Buffer, flags: number): void {
    (this.xattrs ??= new XattrStore()).set(t, this, name.toString('latin1'), value, flags);
    this.ctime = nowTs();
  }
  override removexattr(t: IoContext, name: Buffer): void {
    (this.xattrs ?? new XattrStore()).remove(t, this, name.toString('latin1'));
    this.ctime = nowTs();
  }

  override setattr(t: IoContext, a: SetAttr): void {
    const c = cred(t);
    const owner = c.uid === 0 || c.uid === this.uid;
    const now = nowTs();
    if (a.mode !== undefined) {
      if (!owner) fail(E.EPERM);
      if (this.seals & F_SEAL_EXEC && (this.mode ^ a.mode) & 0o111) fail(E.EPERM);
      let mode = a.mode & 0o7777;
      if (c.uid !== 0 && c.gid !== this.gid && !c.groups.includes(this.gid)) mode &= ~S_ISGID; // Linux drops setgid when the caller is not in the group
      this.mode = (this.mode & S_IFMT) | mode;
      this.ctime = now;
    }
    if (a.uid !== undefined || a.gid !== undefined) {
      const uid = a.uid ?? this.uid;
      const gid = a.gid ?? this.gid;
      if (c.uid !== 0 && (uid !== this.uid || c.uid !== this.uid || (gid !== this.gid && gid !== c.gid && !c.groups.includes(gid)))) fail(E.EPERM);
      this.uid = uid;
      this.gid = gid;
      if (this.type !== S_IFDIR) this.mode &= ~(S_ISUID | (this.mode & S_IXGRP ? S_ISGID : 0));
      this.ctime = now;
    }
    if (a.size !== undefined) {
      if (this.type === S_IFDIR) fail(E.EISDIR);
      if (this.type !== S_IFREG) fail(E.EINVAL);
      this.truncate(t, a.size);
    }
    if (a.atime !== undefined || a.mtime !== undefined) {
      // explicit times need ownership; "now" for both needs ownership or write permission
      const explicit = (a.atime !== undefined && a.atime !== 'now') || (a.mtime !== undefined && a.mtime !== 'now');
      if (!owner && (explicit || !this.can(t, W_OK))) fail(explicit ? E.EPERM : E.EACCES);
      if (a.atime !== undefined) this.atime = a.atime === 'now' ? now : a.atime;
      if (a.mtime !== undefined) this.mtime = a.mtime === 'now' ? now : a.mtime;
      this.ctime = now;
    }
  }

  // ---- file content -------------------------------------------------------------------

  /** the memfd, made on first need */
  fd(): number {
    if (this.memfd < 0) {
      this.memfd = chk(memfdCreate(`tmpfs:${this.ino}`, MFD_CLOEXEC | MFD_ALLOW_SEALING) as number);
      if (this.size > 0) chk(host.ftruncate(this.memfd, this.size));
    }
    return this.memfd;
  }
  /** truncate, ftruncate, O_TRUNC: the new size, and the caller's memory told (sizeChanged) */
  truncate(t: IoContext, len: number): void {
    if (len !== this.size || this.memfd >= 0) {
      if (len > 0 || this.memfd >= 0) chk(host.ftruncate(this.fd(), len));
      this.size = len;
      this.remeasure();
      sizeChanged(t);
    }
    this.mtime = this.ctime = nowTs();
  }
  maybeFree(): void {
    if (this.nlink === 0 && this.opens === 0 && this.memfd >= 0) {
      host.close(this.memfd);
      this.memfd = -1;
      this.remeasure();
    }
  }
  /** After the data changed: its host memory measured again, the difference charged (under a memory cap). */
  remeasure(): void {
    const acct = this.fs.shmem;
    if (acct === null || acct.room === null) return;
    const now = acct.measure(this.memfd);
    acct.bytes += now - this.allocated;
    this.allocated = now;
  }
  /** How many bytes of a write at off the memory cap lets through (ENOMEM for none). */
  writable(off: number, len: number): number {
    const acct = this.fs.shmem;
    return acct === null ? len : acct.writable(this.memfd, off, len);
  }
  /** relatime: a read updates atime when it is not newer than mtime or ctime, or a day old */
  touchAtime(): void {
    const a = this.atime;
    const older = (x: Timespec): boolean => a.sec < x.sec || (a.sec === x.sec && a.nsec <= x.nsec);
    const now = nowTs();
    if (older(this.mtime) || older(this.ctime) || now.sec - a.sec >= 86400) this.atime = now;
  }

  open(t: IoContext, flags: number, loc: Loc): FileDescription {
    return this.openFile(t, flags, loc);
  }
  openFile(t: IoContext, flags: number, loc: Loc): FileDescription {
    const acc = flags & O_ACCMODE;
    if (!(flags & O_PATH)) {
      const want = (acc === O_RDONLY ? R_OK : acc === O_WRONLY ? W_OK : R_OK | W_OK) | (flags & O_TRUNC ? W_OK : 0);
      if (!this.can(t, want)) fail(E.EACCES);
    }
    let f: FileDescription;
    if (flags & O_PATH) f = new PathFile(this, flags, loc);
    else
      switch (this.type) {
        case S_IFDIR:
          f = new TmpDirFile(this, flags);
          break;
        case S_IFREG:
          if (flags & O_TRUNC && acc !== O_RDONLY) this.truncate(t, 0);
          f = new TmpFile(this, flags);
          break;
        case S_IFIFO:
          return withLoc(openFifo(t, `tmpfs:${this.fs.dev}:${this.ino}`, flags & ~O_CLOEXEC), loc);
        case S_IFCHR:
        case S_IFBLK:
          if (this.fs.openDevice === null) fail(E.ENXIO);
          f = this.fs.openDevice(t, this.rdev, flags, this);
          break;
        case S_IFSOCK:
          return fail(E.ENXIO);
        default:
          return fail(E.ELOOP);
      }
    return withLoc(f, loc);
  }
  override entries(): Array<[string, number, number]> {
    const out: Array<[string, number, number]> = [];
    for (const [name, n] of this.dir()) out.push([name, n.type >> 12, n.ino]); // d_type is the S_IFMT bits >> 12
    return out;
  }
}

function withLoc<F extends FileDescription>(f: F, loc: Loc): F {
  f.loc = loc;
  return f;
}
