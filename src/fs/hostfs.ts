// hostfs: a host directory (or file) passed through. Nodes are host paths
// below the mounted host root; the VFS has already resolved every symlink and
// `..`, so each host call gets a path of plain names and O_NOFOLLOW /
// AT_SYMLINK_NOFOLLOW: the host never follows a link on the guest's behalf.
// Permissions, owners, inode numbers, times and errors are the host's own.
import { HOST_PATH_TTL_MS } from './lookups.js';
import type { IoContext } from './context.js';
import koffi from '../host/ffi.js';
import { host } from '../host/libc.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, O_ACCMODE, O_CLOEXEC, O_CREAT, O_PATH, O_RDONLY, O_TRUNC, O_WRONLY, OPEN_FLAGS_X86_64 } from '../abi/fcntl.js';
import { PATH_MAX } from '../abi/limits.js';
import { R_OK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, W_OK } from '../abi/stat.js';
import { sizeChanged, type FileDescription } from './file.js';
import { toHostOpenFlags } from './flags.js';
import { HostFile } from './hostfile.js';
import { openFifo } from './pipe.js';
import { writeTimes } from './times.js';
import { chk, hostScratch } from './transfer.js';
import { childPath, FileSystem, VNode, type Loc, type SetAttr } from './vfs.js';
import { HOST_STAT_SIZE, statFields } from './stat.js';
import { listInto, xattrListed, xattrPermission } from './xattr.js';

/** the host's O_NOFOLLOW: the host is x86_64 */
const HOST_O_NOFOLLOW = OPEN_FLAGS_X86_64.O_NOFOLLOW;

const libc = koffi.load('libc.so.6');
const lgetxattrFn = libc.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)');
const llistxattrFn = libc.func('intptr_t llistxattr(const char *path, _Out_ uint8_t *list, size_t size)');
const lsetxattrFn = libc.func('int lsetxattr(const char *path, const char *name, const uint8_t *value, size_t size, int flags)');
const lremovexattrFn = libc.func('int lremovexattr(const char *path, const char *name)');
const xret = (r: number): number => (r < 0 ? fail(koffi.errno()) : r);
const cpath = (p: string): Buffer => Buffer.from(p + '\0', 'latin1');
// openat2(2) on the host, for walks that must not follow a host symlink
const syscallFn = libc.func('intptr_t syscall(intptr_t nr, int dirfd, const char *path, const uint8_t *how, size_t size)');
const SYS_OPENAT2_X86_64 = 437;
/** O_PATH|O_DIRECTORY|O_CLOEXEC, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS: a directory strictly below, through no link */
const BENEATH_DIR = (() => {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(O_PATH | OPEN_FLAGS_X86_64.O_DIRECTORY | O_CLOEXEC), 0);
  how.writeBigUInt64LE(0x08n | 0x04n | 0x02n, 16);
  return how;
})();

export class HostFs extends FileSystem {
  override readonly hostChecked = true;
  override readonly hostNotified = true;
  override readonly walkCacheable: boolean = true;
  readonly type: string;
  private rootNode: HostNode;
  /**
   * `hostRoot` must be an absolute, canonical host path; `via` is the host
   * path to reach it by, when another host file system has it (a guest's
   * bind mount of a host directory: that file system's hp(), so that no host
   * symlink is followed on the way there either).
   */
  constructor(readonly hostRoot: string, via: Buffer = cpath(hostRoot)) {
    super();
    const s = hostScratch();
    chk(host.fstatat(AT_FDCWD, via, s.addr, 0));
    this.rootNode = new HostNode(this, hostRoot, s.dv.getUint32(24, true) & S_IFMT);
    this.rootFd = hostRoot === '/' || this.rootNode.type !== S_IFDIR ? -1 : chk(host.openat(AT_FDCWD, via, O_PATH | OPEN_FLAGS_X86_64.O_DIRECTORY | O_CLOEXEC | HOST_O_NOFOLLOW, 0));
    this.type = 'hostfs';
  }
  root(): VNode {
    return this.rootNode;
  }
  /**
   * The host path to hand the host for `p`, a path below this file system's
   * root. The VFS resolved every guest symlink and `..`, but the host kernel
   * would still follow a symlink it finds in a directory component, and a
   * host process may put one there between the VFS's lookup and the call (a
   * bound directory replaced by a link to /etc): so the parent directory is
   * opened from the root with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS),
   * which cannot leave the root nor follow a link, and the call gets
   * /proc/self/fd/N/<name>: the host goes straight to that directory. (For a
   * root of / there is nothing outside to protect.) The fds are closed a few
   * calls later (a call may name two paths: rename, link).
   */
  hp(p: string): Buffer {
    if (this.rootFd < 0 || p === this.hostRoot) return cpath(p);
    const rel = p.slice(this.hostRoot.length + 1);
    const slash = rel.lastIndexOf('/');
    if (slash < 0) return cpath(`/proc/self/fd/${this.rootFd}/${rel}`);
    const r = Number(syscallFn(SYS_OPENAT2_X86_64, this.rootFd, cpath(rel.slice(0, slash)), BENEATH_DIR, 24) as number);
    const fd = r < 0 ? fail(koffi.errno()) : r;
    const old = this.ring[this.next];
    if (old >= 0) host.close(old);
    this.ring[this.next] = fd;
    this.next = (this.next + 1) % this.ring.length;
    return cpath(`/proc/self/fd/${fd}/${rel.slice(slash + 1)}`);
  }
  /** an O_PATH fd of the root directory (-1 for a root of /, or a file) */
  private readonly rootFd: number;
  private readonly ring = [-1, -1, -1, -1];
  private next = 0;
  statfs(_t: IoContext, node: VNode): Uint8Array {
    const s = hostScratch();
    chk(host.statfs(this.hp((node as HostNode).path), s.addr));
    return s.bytes.slice(0, 120);
  }
}

export class HostNode extends VNode {
  /** the stat taken by the lookup that made this node, for the same syscall's stat() */
  private st: Uint8Array | null = null;
  private stEpoch = -1;
  constructor(
    readonly fs: HostFs,
    /** absolute host path */
    readonly path: string,
    readonly type: number,
  ) {
    super();
  }
  get key(): string {
    return this.path;
  }
  private sub(name: string): string {
    return childPath(this.path, name);
  }

  stat(t: IoContext): Uint8Array {
    if (this.st !== null) {
      const st = this.st;
      this.st = null;
      if (this.stEpoch === t.vfs.lookups.epoch) return st;
    }
    const s = hostScratch();
    chk(host.fstatat(AT_FDCWD, this.fs.hp(this.path), s.addr, AT_SYMLINK_NOFOLLOW));
    return s.bytes.subarray(0, HOST_STAT_SIZE);
  }
  parent(_t: IoContext): VNode {
    if (this.path === this.fs.hostRoot) return this;
    const i = this.path.lastIndexOf('/');
    return new HostNode(this.fs, i <= 0 ? '/' : this.path.slice(0, i), S_IFDIR);
  }
  override lookup(t: IoContext, name: string): VNode {
    const p = this.sub(name);
    const now = Date.now();
    const lookups = t.vfs.lookups;
    const walk = lookups.walk;
    const k = lookups.hostPaths.get(p);
    if (k !== undefined && k.until > now) {
      if (k.until < walk.until) walk.until = k.until;
      const n = new HostNode(this.fs, p, k.type);
      n.target = k.target;
      return n;
    }
    const s = hostScratch();
    chk(host.fstatat(AT_FDCWD, this.fs.hp(p), s.addr, AT_SYMLINK_NOFOLLOW));
    const type = s.dv.getUint32(24, true) & S_IFMT;
    const n = new HostNode(this.fs, p, type);
    n.st = s.bytes.slice(0, HOST_STAT_SIZE); // before readHostLink reuses the scratch
    n.stEpoch = lookups.epoch;
    if (type === S_IFDIR) lookups.hostPaths.set(p, { until: now + HOST_PATH_TTL_MS, type, target: null });
    else if (type === S_IFLNK) {
      n.target = n.readHostLink();
      lookups.hostPaths.set(p, { until: now + HOST_PATH_TTL_MS, type, target: n.target });
    }
    if (now + HOST_PATH_TTL_MS < walk.until) walk.until = now + HOST_PATH_TTL_MS;
    return n;
  }
  /** a symlink's target, as the lookup that made this node read it (from the cache, or just now) */
  private target: Buffer | null = null;
  private readHostLink(): Buffer {
    const s = hostScratch();
    const n = chk(host.readlinkat(AT_FDCWD, this.fs.hp(this.path), s.addr, PATH_MAX));
    return Buffer.from(s.bytes.subarray(0, n));
  }
  override readlink(_t: IoContext): Buffer {
    if (this.target !== null) {
      // one use: a later readlink of this node asks the host again
      const target = this.target;
      this.target = null;
      return target;
    }
    return this.readHostLink();
  }
  private openHost(t: IoContext, path: string, flags: number, mode: number, loc: Loc): FileDescription {
    const h = toHostOpenFlags(t.arch.name, flags) | O_CLOEXEC | HOST_O_NOFOLLOW;
    const fd = chk(host.openat(AT_FDCWD, this.fs.hp(path), h, mode));
    const f = new HostFile(fd, flags & ~O_CLOEXEC, path, loc, t.vfs.writers);
    if (flags & O_TRUNC && this.type === S_IFREG) sizeChanged(t);
    return f;
  }
  open(t: IoContext, flags: number, loc: Loc): FileDescription {
    if (this.type === S_IFIFO && !(flags & O_PATH)) {
      // named pipes meet inside elfrun: the guest's processes all live here
      const acc = flags & O_ACCMODE;
      this.access(t, acc === O_RDONLY ? R_OK : acc === O_WRONLY ? W_OK : R_OK | W_OK);
      const st = statFields(this.stat(t));
      const end = openFifo(t, `host:${st.dev}:${st.ino}`, flags & ~(O_CLOEXEC | O_CREAT));
      end.loc = loc;
      return end;
    }
    return this.openHost(t, this.path, flags & ~O_CREAT, 0, loc);
  }
  override create(t: IoContext, name: string, flags: number, mode: number, loc: Loc): FileDescription {
    // the new file's place names its own node (loc comes with the directory's), as tmpfs's create does
    const p = this.sub(name);
    return this.openHost(t, p, flags | O_CREAT, mode, { ...loc, node: new HostNode(this.fs, p, S_IFREG) });
  }
  override tmpfile(t: IoContext, flags: number, mode: number, dir: Loc): FileDescription {
    const h = toHostOpenFlags(t.arch.name, flags) | O_CLOEXEC;
    const fd = chk(host.openat(AT_FDCWD, this.fs.hp(this.path), h | HOST_O_NOFOLLOW, mode));
    const f = new HostFile(fd, flags & ~O_CLOEXEC, this.path, null, t.vfs.writers);
    const { ino } = statFields(f.statBytes(t));
    f.loc = { mnt: dir.mnt, node: new HostFdNode(this.fs, f), path: childPath(dir.path, `#${ino} (deleted)`) };
    return f;
  }
  override mkdir(t: IoContext, name: string, mode: number): void {
    t.vfs.lookups.forgetHostPaths();
    chk(host.mkdirat(AT_FDCWD, this.fs.hp(this.sub(name)), mode));
  }
  override mknod(t: IoContext, name: string, mode: number, rdev: number): void {
    t.vfs.lookups.forgetHostPaths();
    chk(host.mknodat(AT_FDCWD, this.fs.hp(this.sub(name)), mode, rdev));
  }
  override symlink(t: IoContext, name: string, target: Buffer): void {
    t.vfs.lookups.forgetHostPaths();
    chk(host.symlinkat(Buffer.concat([target, Buffer.alloc(1)]), AT_FDCWD, this.fs.hp(this.sub(name))));
  }
  override link(t: IoContext, name: string, target: VNode): void {
    t.vfs.lookups.forgetHostPaths();
    // a file known only by its fd (O_TMPFILE): the host links it through its own /proc
    if (target instanceof HostFdNode) chk(host.linkat(AT_FDCWD, cpath(`/proc/self/fd/${target.file.hostFd}`), AT_FDCWD, this.fs.hp(this.sub(name)), AT_SYMLINK_FOLLOW));
    else chk(host.linkat(AT_FDCWD, this.fs.hp((target as HostNode).path), AT_FDCWD, this.fs.hp(this.sub(name)), 0));
  }
  override unlink(t: IoContext, name: string): void {
    t.vfs.lookups.forgetHostPaths();
    chk(host.unlinkat(AT_FDCWD, this.fs.hp(this.sub(name)), 0));
  }
  override rmdir(t: IoContext, name: string): void {
    t.vfs.lookups.forgetHostPaths();
    chk(host.unlinkat(AT_FDCWD, this.fs.hp(this.sub(name)), AT_REMOVEDIR));
  }
  override rename(t: IoContext, name: string, to: VNode, toName: string, flags: number): void {
    t.vfs.lookups.forgetHostPaths();
    chk(host.renameat2(AT_FDCWD, this.fs.hp(this.sub(name)), AT_FDCWD, this.fs.hp((to as HostNode).sub(toName)), flags));
  }
  override setattr(t: IoContext, a: SetAttr): void {
    const p = this.fs.hp(this.path);
    if (a.mode !== undefined) chk(host.fchmodat(AT_FDCWD, p, a.mode & 0o7777, 0));
    if (a.uid !== undefined || a.gid !== undefined) chk(host.fchownat(AT_FDCWD, p, (a.uid ?? -1) >>> 0, (a.gid ?? -1) >>> 0, AT_SYMLINK_NOFOLLOW));
    if (a.size !== undefined) {
      chk(host.truncate(p, a.size));
      sizeChanged(t);
    }
    if (a.atime !== undefined || a.mtime !== undefined) {
      const s = hostScratch();
      writeTimes(s.dv, a.atime, a.mtime);
      chk(host.utimensat(AT_FDCWD, p, s.addr, AT_SYMLINK_NOFOLLOW));
    }
  }
  override access(_t: IoContext, mode: number): void {
    chk(host.faccessat(AT_FDCWD, this.fs.hp(this.path), mode, this.type === S_IFLNK ? AT_SYMLINK_NOFOLLOW : 0));
  }
  // the host file system keeps the attributes; the guest's credentials are checked here (the host may be root)
  override getxattr(t: IoContext, name: Buffer, out: Uint8Array): number {
    xattrPermission(t, this, name.toString('latin1'), false);
    return xret(lgetxattrFn(this.fs.hp(this.path), Buffer.concat([name, Buffer.alloc(1)]), out.length ? out : null, out.length) as number);
  }
  override listxattr(t: IoContext, out: Uint8Array): number {
    // all names (the host's listing may include trusted.* for elfrun), then the caller's view of them
    const n = xret(llistxattrFn(this.fs.hp(this.path), null, 0) as number);
    const all = new Uint8Array(n);
    const got = n > 0 ? xret(llistxattrFn(this.fs.hp(this.path), all, n) as number) : 0;
    const names = Buffer.from(all.subarray(0, got)).toString('latin1').split('\0').filter((s) => s !== '' && xattrListed(t, s));
    return listInto(names, out);
  }
  override setxattr(t: IoContext, name: Buffer, value: Buffer, flags: number): void {
    xattrPermission(t, this, name.toString('latin1'), true);
    xret(lsetxattrFn(this.fs.hp(this.path), Buffer.concat([name, Buffer.alloc(1)]), value.length ? value : null, value.length, flags) as number);
  }
  override removexattr(t: IoContext, name: Buffer): void {
    xattrPermission(t, this, name.toString('latin1'), true);
    xret(lremovexattrFn(this.fs.hp(this.path), Buffer.concat([name, Buffer.alloc(1)])) as number);
  }
}


/** A host file with no name, known by its open fd (O_TMPFILE). */
export class HostFdNode extends VNode {
  readonly type = S_IFREG;
  constructor(
    readonly fs: HostFs,
    readonly file: HostFile,
  ) {
    super();
  }
  get key(): string {
    return `fd:${this.file.hostFd}`;
  }
  stat(t: IoContext): Uint8Array {
    return this.file.statBytes(t);
  }
  parent(): VNode {
    return this;
  }
  open(t: IoContext, flags: number, loc: Loc): FileDescription {
    const fd = chk(host.openat(AT_FDCWD, cpath(`/proc/self/fd/${this.file.hostFd}`), toHostOpenFlags(t.arch.name, flags) | O_CLOEXEC, 0));
    const f = new HostFile(fd, flags & ~O_CLOEXEC, this.file.path, loc, t.vfs.writers);
    if (flags & O_TRUNC) sizeChanged(t);
    return f;
  }
  override setattr(t: IoContext, a: SetAttr): void {
    this.file.setattr(t, a);
  }
  access(): void {}
}
