// tmpfs: a file system in memory, with Linux's tmpfs semantics: inode
// numbers, link counts, sparse files, permissions checked as the kernel's
// generic_permission does, and timestamps updated where Linux updates them.
// A regular file's bytes live in a host memfd (made on the first write), so
// that reads, writes and shared mappings all see the same pages.
import koffi from '../host/ffi.js';
import { host, type Scratch } from '../host/libc.js';
import { PROT_READ, PROT_WRITE } from '../mm/address-space.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { FileDescription, hostScratch, transfer } from './file.js';
import { type IoContext } from './context.js';
import { O_ACCMODE, O_APPEND, O_CLOEXEC, O_EXCL, O_PATH, O_RDONLY, O_TRUNC, O_WRONLY } from './flags.js';
import { openFifo } from './pipe.js';
import { inodeStatBytes } from './stat.js';
import { childPath, cred, FileSystem, nowTs, permitted, S_IFCHR, S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, VNode, W_OK, X_OK, type Loc, type SetAttr, type Timespec } from './vfs.js';

const memfdCreate = koffi.load('libc.so.6').func('int memfd_create(const char *name, unsigned int flags)');
const MFD_CLOEXEC = 1;
const BOGO_DIRENT_SIZE = 20; // what tmpfs adds to a directory's size per entry
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;

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
    b.writeBigInt64LE(0x01021994n, 0);
    b.writeBigInt64LE(4096n, 8);
    b.writeBigUint64LE(BigInt(blocks), 16);
    b.writeBigUint64LE(BigInt(blocks), 24);
    b.writeBigUint64LE(BigInt(blocks), 32);
    b.writeBigUint64LE(BigInt(blocks), 40);
    b.writeBigUint64LE(BigInt(blocks), 48);
    b.writeBigInt64LE(255n, 64); // f_namelen
    b.writeBigInt64LE(4096n, 72); // f_frsize
    b.writeBigInt64LE(0x20n, 80); // f_flags: ST_RELATIME
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
  /** open descriptions: the memfd is freed when no name and no open is left */
  opens = 0;
  /** an O_TMPFILE file opened without O_EXCL: linkat may give it a name */
  linkable = false;

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

  override setattr(t: IoContext, a: SetAttr): void {
    const c = cred(t);
    const owner = c.uid === 0 || c.uid === this.uid;
    const now = nowTs();
    if (a.mode !== undefined) {
      if (!owner) fail(E.EPERM);
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
      if (this.type !== S_IFDIR) this.mode &= ~(S_ISUID | (this.mode & 0o010 ? S_ISGID : 0));
      this.ctime = now;
    }
    if (a.size !== undefined) {
      if (this.type === S_IFDIR) fail(E.EISDIR);
      if (this.type !== S_IFREG) fail(E.EINVAL);
      this.truncate(a.size);
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
      this.memfd = chk(memfdCreate(`tmpfs:${this.ino}`, MFD_CLOEXEC) as number);
      if (this.size > 0) chk(host.ftruncate(this.memfd, this.size));
    }
    return this.memfd;
  }
  truncate(len: number): void {
    if (len !== this.size || this.memfd >= 0) {
      if (len > 0 || this.memfd >= 0) chk(host.ftruncate(this.fd(), len));
      this.size = len;
    }
    this.mtime = this.ctime = nowTs();
  }
  maybeFree(): void {
    if (this.nlink === 0 && this.opens === 0 && this.memfd >= 0) {
      host.close(this.memfd);
      this.memfd = -1;
    }
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
      const want = (acc === O_RDONLY ? 4 : acc === O_WRONLY ? 2 : 6) | (flags & O_TRUNC ? 2 : 0);
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
          if (flags & O_TRUNC && acc !== O_RDONLY) this.truncate(0);
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
    for (const [name, n] of this.dir()) out.push([name, n.type >> 12, n.ino]);
    return out;
  }
}


function withLoc<F extends FileDescription>(f: F, loc: Loc): F {
  f.loc = loc;
  return f;
}

/** An O_PATH description: a place, usable as a dirfd and for fstat, nothing else. */
export class PathFile extends FileDescription {
  constructor(
    private node: VNode,
    flags: number,
    loc: Loc,
  ) {
    super(flags);
    this.loc = loc;
  }
  override get readable(): boolean {
    return false;
  }
  override get writable(): boolean {
    return false;
  }
  override read(): number {
    return fail(E.EBADF);
  }
  override write(): number {
    return fail(E.EBADF);
  }
  override getdents64(): number {
    return fail(E.EBADF);
  }
  override ioctl(): number {
    return fail(E.EBADF);
  }
  override statBytes(t: IoContext): Uint8Array {
    return this.node.stat(t);
  }
}

/** An open tmpfs file: its own offset over the node's bytes. */
export class TmpFile extends FileDescription {
  private pos = 0;
  constructor(
    readonly node: TmpNode,
    flags: number,
  ) {
    super(flags);
    node.opens++;
  }
  override get hostFd(): number {
    return this.node.fd();
  }
  override read(t: IoContext, addr: number, len: number): number {
    const n = this.pread(t, addr, len, this.pos);
    this.pos += n;
    return n;
  }
  override pread(t: IoContext, addr: number, len: number, off: number): number {
    const node = this.node;
    node.touchAtime();
    const n = Math.max(0, Math.min(len, node.size - off));
    if (n === 0) return 0;
    if (node.memfd < 0) {
      t.mm.write(addr, new Uint8Array(n));
      return n;
    }
    return transfer(t.mm, addr, n, PROT_WRITE, (h, k, done) => host.pread(node.memfd, h, k, off + done));
  }
  override write(t: IoContext, addr: number, len: number): number {
    if (this.flags & O_APPEND) this.pos = this.node.size;
    const n = this.pwrite(t, addr, len, this.pos);
    this.pos += n;
    return n;
  }
  override pwrite(t: IoContext, addr: number, len: number, off: number): number {
    const node = this.node;
    if (len === 0) return 0;
    const limit = Number((t.rlimits[1]?.[0] ?? -1n) < 0n ? Infinity : t.rlimits[1][0]); // RLIMIT_FSIZE
    if (off >= limit) {
      t.raise(25 /* SIGXFSZ */);
      fail(E.EFBIG);
    }
    len = Math.min(len, limit - off);
    const fd = node.fd();
    const n = transfer(t.mm, addr, len, PROT_READ, (h, k, done) => host.pwrite(fd, h, k, off + done));
    node.size = Math.max(node.size, off + n);
    node.mtime = node.ctime = nowTs();
    return n;
  }
  override lseek(off: number, whence: number): number {
    const size = this.node.size;
    let p: number;
    switch (whence) {
      case 0:
        p = off;
        break;
      case 1:
        p = this.pos + off;
        break;
      case 2:
        p = size + off;
        break;
      case 3: // SEEK_DATA
      case 4: // SEEK_HOLE
        if (off < 0) fail(E.ENXIO);
        if (off >= size) fail(E.ENXIO);
        p = this.node.memfd < 0 ? (whence === 3 ? fail(E.ENXIO) : size) : chk(host.lseek(this.node.memfd, off, whence));
        break;
      default:
        return fail(E.EINVAL);
    }
    if (p < 0) fail(E.EINVAL);
    this.pos = p;
    return p;
  }
  override kread(_t: IoContext, s: Scratch, len: number, off: number | null): number {
    const node = this.node;
    const from = off ?? this.pos;
    const n = Math.max(0, Math.min(len, node.size - from));
    if (n > 0) {
      if (node.memfd < 0) s.bytes.fill(0, 0, n);
      else chk(host.pread(node.memfd, s.addr, n, from));
    }
    node.touchAtime();
    if (off === null) this.pos += n;
    return n;
  }
  override kwrite(_t: IoContext, s: Scratch, len: number): number {
    const node = this.node;
    if (this.flags & O_APPEND) this.pos = node.size;
    const n = chk(host.pwrite(node.fd(), s.addr, len, this.pos));
    this.pos += n;
    node.size = Math.max(node.size, this.pos);
    node.mtime = node.ctime = nowTs();
    return n;
  }
  override ftruncate(len: number): number {
    this.node.truncate(len);
    return 0;
  }
  override fsync(): number {
    return 0;
  }
  override release(): void {
    this.node.opens--;
    this.node.maybeFree();
  }
}

/** An open tmpfs directory: getdents64 over a snapshot of its entries (taken at open and at rewind). */
export class TmpDirFile extends FileDescription {
  private pos = 0;
  private list: Array<[string, number, number]> | null = null;
  constructor(
    readonly node: TmpNode,
    flags: number,
  ) {
    super(flags);
  }
  override read(): number {
    return fail(E.EISDIR);
  }
  override write(): number {
    return fail(E.EBADF);
  }
  override lseek(off: number, whence: number): number {
    if (whence !== 0 || off < 0) fail(E.EINVAL);
    this.pos = off;
    if (off === 0) this.list = null;
    return off;
  }
  override getdents64(t: IoContext, addr: number, len: number): number {
    const n = this.node;
    this.list ??= [['.', 4, n.ino], ['..', 4, n.up.ino], ...n.entries()];
    n.touchAtime();
    return writeDirents(t, addr, len, this.list, this, (p) => (this.pos = p));
  }
  get offset(): number {
    return this.pos;
  }
  override fsync(): number {
    return 0;
  }
}

/** Fill a getdents64 buffer from a list of [name, d_type, ino], from position `from.offset`. */
export function writeDirents(t: IoContext, addr: number, len: number, list: Array<[string, number, number]>, from: { offset: number }, setPos: (p: number) => void): number {
  let pos = from.offset;
  let out = 0;
  const recs: Buffer[] = [];
  while (pos < list.length) {
    const [name, type, ino] = list[pos];
    const nb = Buffer.from(name, 'latin1');
    const reclen = (19 + nb.length + 1 + 7) & ~7;
    if (out + reclen > len) {
      if (out === 0) fail(E.EINVAL);
      break;
    }
    const r = Buffer.alloc(reclen);
    r.writeBigUInt64LE(BigInt(ino), 0);
    r.writeBigInt64LE(BigInt(pos + 1), 8);
    r.writeUInt16LE(reclen, 16);
    r.writeUInt8(type, 18);
    nb.copy(r, 19);
    recs.push(r);
    out += reclen;
    pos++;
  }
  if (out > 0) {
    t.mm.check(addr, out, PROT_WRITE);
    t.mm.write(addr, Buffer.concat(recs));
  }
  setPos(pos);
  return out;
}

