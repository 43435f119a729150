// The virtual file system: a mount table of file systems (hostfs, tmpfs,
// devfs, procfs) and Linux's path walk over it. Every path the guest names
// is resolved here, component by component: `..` stops at the guest's root
// and climbs out of a mount through its mount point, symlinks (absolute ones
// from the guest's root) are followed here and never by the host, so a guest
// reaches a host file only through what is mounted.
import { ShmemAccount } from './shmem.js';
import { OpenWriters } from './hostfile.js';
import { Fifos } from './pipe.js';
import { LockTable } from './locks.js';
import { LookupState } from './lookups.js';
import { Notifier } from './inotify.js';
import type { IoContext } from './context.js';
import { E } from '../abi/errno.js';
import { fail, SysError } from '../abi/errors.js';
import type { FileDescription } from './file.js';
import { statFields } from './stat.js';
import { hostRealtime } from '../host/libc.js';
import { S_IFDIR, S_IFLNK, S_IFMT, X_OK } from '../abi/stat.js';
import { MAXSYMLINKS, NAME_MAX } from '../abi/limits.js';

export type Timespec = { sec: number; nsec: number };

/** The wall clock (the host's CLOCK_REALTIME), for file times. */
export const nowTs = (): Timespec => hostRealtime();

/** What setattr may change (chmod, chown, utimensat, truncate). */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  atime?: Timespec | 'now';
  mtime?: Timespec | 'now';
  size?: number;
}

/** The credentials of a task, for the permission checks of in-memory file systems. */
export interface Cred {
  uid: number;
  gid: number;
  groups: number[];
}

/** The ids file permission checks use: the file-system uid and gid. */
export function cred(t: IoContext): Cred {
  const c = t.cred;
  return { uid: c.fsuid, gid: c.fsgid, groups: c.groups };
}

/** Linux's generic_permission for an inode's (mode, uid, gid); root overrides as CAP_DAC_OVERRIDE does. */
export function permitted(c: Cred, mode: number, uid: number, gid: number, want: number): boolean {
  if (c.uid === 0) return !(want & X_OK) || (mode & S_IFMT) === S_IFDIR || (mode & 0o111) !== 0;
  const bits = c.uid === uid ? (mode >> 6) & 7 : c.gid === gid || c.groups.includes(gid) ? (mode >> 3) & 7 : mode & 7;
  return (bits & want) === want;
}

/**
 * A file, directory or link of some file system. The base answers every
 * operation with Linux's error for a file system that does not support it.
 */
export abstract class VNode {
  abstract readonly fs: FileSystem;
  /** S_IFMT bits, as lstat gives them */
  abstract readonly type: number;
  /** unique within its file system, stable while the node exists */
  abstract readonly key: string;
  /** struct stat in the host's (x86_64) 144-byte layout */
  abstract stat(t: IoContext): Uint8Array;
  /** the directory holding this node (itself for the file system's root) */
  abstract parent(t: IoContext): VNode;
  /** mode, uid and gid, for the VFS's permission checks (a whole stat costs more to make for some) */
  owner(t: IoContext): { mode: number; uid: number; gid: number } {
    return statFields(this.stat(t));
  }

  lookup(_t: IoContext, _name: string): VNode {
    return fail(E.ENOTDIR);
  }
  readlink(_t: IoContext): Buffer {
    return fail(E.EINVAL);
  }
  /** A "magic" link (/proc/self/fd/N, /proc/self/exe): where it leads, without a path. */
  jump(_t: IoContext): Loc | null {
    return null;
  }
  /** open(2) of an existing node; `flags` are the guest's */
  abstract open(t: IoContext, flags: number, loc: Loc): FileDescription;
  /** open(2) with O_CREAT of a name that does not exist in this directory */
  create(_t: IoContext, _name: string, _flags: number, _mode: number, _loc: Loc): FileDescription {
    return fail(E.EPERM);
  }
  /** open(2) with O_TMPFILE in this directory: an unnamed file, linkable later unless O_EXCL */
  tmpfile(_t: IoContext, _flags: number, _mode: number, _dir: Loc): FileDescription {
    return fail(E.ENOTSUP);
  }
  mkdir(_t: IoContext, _name: string, _mode: number): void {
    fail(E.EPERM);
  }
  mknod(_t: IoContext, _name: string, _mode: number, _rdev: number): void {
    fail(E.EPERM);
  }
  symlink(_t: IoContext, _name: string, _target: Buffer): void {
    fail(E.EPERM);
  }
  /** a hard link named `name` in this directory to `target` (same file system) */
  link(_t: IoContext, _name: string, _target: VNode): void {
    fail(E.EPERM);
  }
  unlink(_t: IoContext, _name: string): void {
    fail(E.EPERM);
  }
  rmdir(_t: IoContext, _name: string): void {
    fail(E.EPERM);
  }
  rename(_t: IoContext, _name: string, _to: VNode, _toName: string, _flags: number): void {
    fail(E.EPERM);
  }
  setattr(_t: IoContext, _a: SetAttr): void {
    fail(E.EPERM);
  }
  /** extended attributes: a value into `out` (size 0: just its size), ENODATA if absent */
  getxattr(_t: IoContext, _name: Buffer, _out: Uint8Array): number {
    return fail(E.ENOTSUP);
  }
  /** the names, NUL-separated, into `out` (size 0: just the size) */
  listxattr(_t: IoContext, _out: Uint8Array): number {
    return fail(E.ENOTSUP);
  }
  /** set an attribute (flags: XATTR_CREATE, XATTR_REPLACE); the caller has checked the mount is writable */
  setxattr(_t: IoContext, _name: Buffer, _value: Buffer, _flags: number): void {
    fail(E.ENOTSUP);
  }
  removexattr(_t: IoContext, _name: Buffer): void {
    fail(E.ENOTSUP);
  }
  /** access(2)/faccessat: `mode` is R_OK|W_OK|X_OK */
  abstract access(t: IoContext, mode: number): void;
  /** the directory's entries, for getdents64 of emulated directories: [name, d_type, ino] */
  entries(_t: IoContext): Array<[string, number, number]> {
    return fail(E.ENOTDIR);
  }
}

/** A file system instance: the thing a mount shows. */
export abstract class FileSystem {
  /** anonymous device number (major 0), as Linux gives tmpfs and procfs: given by the Vfs that mounts it */
  dev = 0;
  shmem: ShmemAccount | null = null; // where a memory-backed one (tmpfs) charges its data: its Vfs's
  /** the host checks permissions itself (hostfs): the VFS must not check again */
  readonly hostChecked: boolean = false;
  /**
   * Walks through it lead to the same place for every process and
   * credential until `walkCache` says otherwise (hostfs): the VFS may keep
   * where they led.
   */
  readonly walkCacheable: boolean = false;
  /** the host kernel reports changes to it to the host's inotify (hostfs): the VFS reports nothing itself */
  readonly hostNotified: boolean = false;
  /** the file system itself is read-only (reconfigured with "ro": fspick, a remount without MS_BIND): EROFS on every mount of it */
  sbReadonly = false;
  abstract readonly type: string;
  abstract root(): VNode;
  /** struct statfs (120 bytes, same on x86_64 and arm64) */
  abstract statfs(t: IoContext, node: VNode): Uint8Array;
}

export interface MountOptions {
  readonly?: boolean;
  /** what /proc/mounts shows as the source */
  source?: string;
  /** MS_NOSUID, MS_NODEV, MS_NOEXEC of mount(2) */
  nosuid?: boolean;
  nodev?: boolean;
  noexec?: boolean;
  /** fsmount's and mount_setattr's other flags: the atime mode (relatime when unset), nodiratime, nosymfollow (ELOOP for a link on it) */
  atime?: 'noatime' | 'strictatime';
  nodiratime?: boolean;
  nosymfollow?: boolean;
  /** a bind mount: the directory of the file system it shows, and that directory's path within it (mountinfo's root) */
  bindRoot?: VNode;
  bindPath?: string;
  /** what the file system's options are, as mountinfo's last field shows them (tmpfs's size=, mode=...) */
  fsOpts?: string;
}

export class Mount {
  constructor(
    /** unique in its Vfs */
    readonly id: number,
    readonly fs: FileSystem,
    /** the directory holding the mount point (null for the root mount, or a detached tree's root); move_mount changes them */
    public at: Loc | null,
    /** the mount point's name in `at` */
    public name: string,
    public path: string,
    readonly opts: MountOptions,
  ) {}
  /** in a detached tree (fsmount, open_tree's clones): not in the Vfs's table, `..` at its root stays there */
  detached = false;
  get readonly(): boolean {
    return this.opts.readonly === true || this.fs.sbReadonly;
  }
  /** the directory the mount shows: its file system's root, or a bind mount's directory */
  get top(): VNode {
    return this.opts.bindRoot ?? this.fs.root();
  }
}

/** A place in the guest's tree: a node, the mount it was reached through, and its canonical guest path. */
export interface Loc {
  mnt: Mount;
  node: VNode;
  path: string;
}

/** The path of `name` in the directory at `dir` (a guest or host path). */
export const childPath = (dir: string, name: string): string => (dir === '/' ? '/' + name : dir + '/' + name);
const dirname = (p: string): string => (p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/')));

export const isDir = (l: Loc): boolean => l.node.type === S_IFDIR;
export const isRoot = (l: Loc): boolean => l.node.key === l.mnt.top.key;

/** openat2's RESOLVE_* bits (linux/openat2.h) */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;
export const RESOLVE_CACHED = 0x20;

/**
 * How a walk is constrained (openat2's RESOLVE_* flags, Linux's
 * LOOKUP_NO_XDEV, LOOKUP_BENEATH...). `root` is the directory a scoped walk
 * (RESOLVE_BENEATH, RESOLVE_IN_ROOT) stays in: the dirfd's, or the cwd.
 */
export interface Scope {
  flags: number;
  root: Loc | null;
}

/** A walk's state across its symlinks: how many were followed, and its RESOLVE_* constraints. */
export interface Walk {
  n: number;
  scope?: Scope;
  /**
   * The walk has taken its root (an absolute path, or a `..`: Linux's
   * nd->root is set): before that, RESOLVE_NO_XDEV refuses any absolute
   * symlink (nd_jump_root compares with a root it does not have yet).
   */
  rooted?: boolean;
}

/** The result of resolving all but the last component (for create, unlink, rename...). */
export interface ParentLoc {
  dir: Loc;
  /** the last component: '' when the path is "/" (or only slashes) */
  name: string;
  /** the path ended with '/' */
  trailing: boolean;
}

/**
 * The guest's file system tree: its mounts and path walks, and the state of
 * one Machine's file systems that is not in any one of them.
 *
 * Path walks through host file systems reuse what they learnt (hostfs keeps
 * directories and symlinks for a while): the VFS keeps the directories that
 * recent walks led to. `lookups.walk.epoch` is bumped by anything that may
 * change where a walk leads (a guest's change to a host directory, a mount);
 * `until` is, during a walk, the earliest time something it used expires.
 */
export class Vfs {
  readonly mounts: Mount[] = [];
  readonly lookups = new LookupState();
  /** regular host files open for writing (exec of one is ETXTBSY) */
  readonly writers = new OpenWriters();
  /** named pipes, where readers and writers of one meet */
  readonly fifos = new Fifos();
  /** flock, POSIX and OFD locks between the guest's processes */
  readonly locks = new LockTable();
  /** inotify watches on in-memory inodes, and the events the VFS reports to them */
  readonly notify = new Notifier();
  private nextDev = 0x30;
  /** the next mount's id (fs/mounttree.ts makes mounts too) */
  nextMountId = 1;
  /** inode numbers of files with no file system of their own (pipes, sockets, epoll instances) */
  private readonly anonInos = { pipe: 100000, socket: 200000, epoll: 300000, eventfd: 400000, timerfd: 500000, signalfd: 600000, inotify: 700000, pidfd: 800000 };

  /** The next inode number of a pipe, a socket or an epoll instance. */
  anonIno(kind: 'pipe' | 'socket' | 'epoll' | 'eventfd' | 'timerfd' | 'signalfd' | 'inotify' | 'pidfd'): number {
    return this.anonInos[kind]++;
  }

  /** A file system the kernel uses with no place in the tree (kern_mount: memfds' shm mount): a mount of its own. */
  kernMount(fs: FileSystem): Mount {
    this.adopt(fs);
    return new Mount(this.nextMountId++, fs, null, '', '/', {});
  }
  /** memfd_create's file system, once made (fs/memfd.ts) */
  shm: Mount | null = null;

  /** A file system joins this tree: it gets its anonymous device number and the memory account. */
  adopt(fs: FileSystem): void {
    if (fs.dev === 0) fs.dev = this.nextDev++;
    fs.shmem ??= this.shmem;
  }
  readonly shmem = new ShmemAccount(); // what tmpfs, memfds and System V segments take, for a memory cap
  /** mount points: mount id -> directory key -> name -> the mount there (fs/mounttree.ts reads and changes it too) */
  readonly byPoint = new Map<number, Map<string, Map<string, Mount>>>();
  private rootMount!: Mount;

  /** Mount `fs` as the root of the tree. */
  constructor(rootFs: FileSystem, opts: MountOptions = {}) {
    this.adopt(rootFs);
    this.rootMount = new Mount(this.nextMountId++, rootFs, null, '', '/', opts);
    this.mounts.push(this.rootMount);
  }

  /** where absolute paths and `..` stop for t: its chroot, or the root */
  rootFor(t: IoContext): Loc {
    return t.root ?? this.root;
  }

  /**
   * loc's path as t sees it (d_path): from t's root; a place outside that
   * root keeps its whole path, with `unreachable` (getcwd's prefix) before
   * it when asked.
   */
  shownPath(t: IoContext, loc: Loc, unreachable = ''): string {
    const r = t.root;
    if (r === null || r.path === '/') return loc.path;
    if (loc.path === r.path) return '/';
    if (loc.path.startsWith(r.path + '/')) return loc.path.slice(r.path.length);
    return unreachable + loc.path;
  }

  get root(): Loc {
    const m = this.rootMount;
    return { mnt: m, node: m.top, path: '/' };
  }

  /**
   * Mount `fs` on the guest path `path` (resolved from the root without
   * following a final symlink). The mount point need not exist in the file
   * system below it: a mount on a missing name makes it appear.
   */
  mount(t: IoContext, path: string, fs: FileSystem, opts: MountOptions = {}): Mount {
    this.lookups.walk.epoch++;
    this.adopt(fs);
    const { dir, name } = this.parent(t, this.root, path);
    if (name === '' || name === '.' || name === '..') {
      if (name === '' && dir.path === '/') {
        // over the root: the new file system becomes the root
        this.rootMount = new Mount(this.nextMountId++, fs, null, '', '/', opts);
        this.mounts.push(this.rootMount);
        this.byPoint.clear();
        return this.rootMount;
      }
      fail(E.EINVAL);
    }
    const m = new Mount(this.nextMountId++, fs, dir, name, childPath(dir.path, name), opts);
    let dirs = this.byPoint.get(dir.mnt.id);
    if (dirs === undefined) this.byPoint.set(dir.mnt.id, (dirs = new Map()));
    let names = dirs.get(dir.node.key);
    if (names === undefined) dirs.set(dir.node.key, (names = new Map()));
    names.set(name, m);
    this.mounts.push(m);
    return m;
  }

  /**
   * Take mount `m` out of the tree (umount2): what it covered shows again,
   * a mount it was stacked on included. EBUSY while mounts sit below it, or
   * for the root.
   */
  umount(m: Mount): void {
    if (m.at === null) fail(E.EBUSY);
    const visible = this.visibleMounts();
    if (visible.some((o) => o !== m && o.at?.mnt === m)) fail(E.EBUSY);
    this.lookups.walk.epoch++;
    this.mounts.splice(this.mounts.indexOf(m), 1);
    const names = this.byPoint.get(m.at.mnt.id)?.get(m.at.node.key);
    // the mount it was stacked on, if any, shows again
    const below = this.mounts.filter((o) => o.at !== null && o.at.mnt === m.at!.mnt && o.at.node.key === m.at!.node.key && o.name === m.name).pop();
    if (below !== undefined) names?.set(m.name, below);
    else names?.delete(m.name);
    // the file system's last mount went: watches on its inodes end with IN_UNMOUNT (Linux's fsnotify_sb_delete)
    if (!m.fs.hostNotified && !this.mounts.some((o) => o.fs === m.fs)) this.notify.unmounted(m.fs.dev);
  }

  private mountedAt(dir: Loc, name: string): Mount | undefined {
    return this.byPoint.get(dir.mnt.id)?.get(dir.node.key)?.get(name);
  }

  /** Is something mounted on `name` in `dir`? (no lookup in the file system below) */
  isMountPoint(dir: Loc, name: string): boolean {
    return this.mountedAt(dir, name) !== undefined;
  }

  /** Mounts that are visible (not hidden below a later mount at the same point), in mount order. */
  visibleMounts(): Mount[] {
    const shown = new Set<Mount>([this.rootMount]);
    for (const dirs of this.byPoint.values()) for (const names of dirs.values()) for (const m of names.values()) shown.add(m);
    return this.mounts.filter((m) => shown.has(m));
  }

  /** One step down: `name` in directory `dir`, crossing into a mount mounted there. */
  child(t: IoContext, dir: Loc, name: string, scope?: Scope): Loc {
    const path = childPath(dir.path, name);
    const m = this.mountedAt(dir, name);
    if (m !== undefined) {
      // RESOLVE_NO_XDEV: no mount is crossed, bind mounts included (traverse_mounts' EXDEV)
      if (scope !== undefined && scope.flags & RESOLVE_NO_XDEV) fail(E.EXDEV);
      return { mnt: m, node: m.top, path };
    }
    return { mnt: dir.mnt, node: dir.node.lookup(t, name), path };
  }

  /** One step up: `..`, which stays at the guest's root and leaves a mount through its mount point. */
  up(t: IoContext, l: Loc, scope?: Scope): Loc {
    const root = scope?.root ?? this.rootFor(t);
    if (l.mnt === root.mnt && l.node.key === root.node.key) {
      // `..` at a RESOLVE_BENEATH walk's root would leave it: EXDEV (follow_dotdot's in_root)
      if (scope !== undefined && scope.flags & RESOLVE_BENEATH) fail(E.EXDEV);
      return l;
    }
    if (isRoot(l)) {
      if (scope !== undefined && scope.flags & RESOLVE_NO_XDEV) fail(E.EXDEV);
      if (l.mnt.at === null) return l.mnt.detached ? l : root; // a root mount that was replaced: its old root leads to the new root
      return l.mnt.at;
    }
    return { mnt: l.mnt, node: l.node.parent(t), path: dirname(l.path) };
  }

  /**
   * Resolve `path` from `start` (absolute paths from the root). `follow`:
   * follow a final symlink. A trailing slash follows and requires a directory.
   */
  resolve(t: IoContext, start: Loc, path: string, follow: boolean, links: Walk = { n: 0 }): Loc {
    if (path.startsWith('/')) links.rooted = true;
    let cur = path.startsWith('/') ? this.absStart(t, links) : start;
    const slash = path.lastIndexOf('/');
    // a constrained walk checks every step: the walk cache does not know its constraints
    if (slash > 0 && slash < path.length - 1 && cur.node.fs.walkCacheable && links.scope === undefined) {
      // "dir/name": the directory where a recent walk led, then the last step
      const dir = this.dirAt(t, cur, path.slice(0, slash), links);
      return this.step(t, dir, path.slice(slash + 1), follow, links);
    }
    const trailing = path.endsWith('/');
    const names = path.split('/').filter((c) => c !== '');
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const last = i === names.length - 1;
      cur = this.step(t, cur, name, !last || follow || trailing, links);
    }
    if (trailing && names.length > 0 && !isDir(cur)) fail(E.ENOTDIR);
    return cur;
  }

  /**
   * Where the directory path `dir` leads from `base` (following symlinks):
   * from `dirs` when a walk that stayed in walkCacheable file systems found
   * it since walkCache's epoch, and what it used has not expired. Three
   * quarters of a path's steps, in `ls -l` (/etc/localtime and every file).
   */
  private dirAt(t: IoContext, base: Loc, dir: string, links: Walk): Loc {
    const key = `${base.mnt.id}:${base.node.key}\0${dir}`;
    const e = this.dirs.get(key);
    if (e !== undefined && e.epoch === this.lookups.walk.epoch && e.until > Date.now() && links.n + e.links <= MAXSYMLINKS) {
      links.n += e.links;
      this.lookups.walk.until = Math.min(this.lookups.walk.until, e.until);
      return e.loc;
    }
    const outer = { until: this.lookups.walk.until, pure: this.lookups.walk.pure };
    this.lookups.walk.until = Infinity;
    this.lookups.walk.pure = true;
    const n0 = links.n;
    const epoch = this.lookups.walk.epoch;
    try {
      const loc = this.resolve(t, base, dir + '/', true, links);
      if (this.lookups.walk.pure && loc.node.fs.walkCacheable && this.lookups.walk.epoch === epoch) {
        if (this.dirs.size >= 4096) this.dirs.clear();
        this.dirs.set(key, { loc, links: links.n - n0, epoch, until: this.lookups.walk.until });
      }
      return loc;
    } finally {
      this.lookups.walk.until = Math.min(outer.until, this.lookups.walk.until);
      this.lookups.walk.pure &&= outer.pure;
    }
  }

  private dirs = new Map<string, { loc: Loc; links: number; epoch: number; until: number }>();

  /** Walk one component from directory `cur`, following a symlink there if `follow`. */
  private step(t: IoContext, cur: Loc, name: string, follow: boolean, links: Walk): Loc {
    if (!isDir(cur)) fail(E.ENOTDIR);
    if (!cur.node.fs.walkCacheable) this.lookups.walk.pure = false;
    if (name.length > NAME_MAX) fail(E.ENAMETOOLONG);
    if (!cur.node.fs.hostChecked) this.permission(t, cur, X_OK);
    if (name === '.') return cur;
    if (name === '..') {
      links.rooted = true;
      return this.up(t, cur, links.scope);
    }
    const next = this.child(t, cur, name, links.scope);
    if (follow && next.node.type === S_IFLNK) return this.followLink(t, cur, next, links);
    return next;
  }

  /** Where the symlink `link` (found in directory `dir`) leads. */
  followLink(t: IoContext, dir: Loc, link: Loc, links: Walk): Loc {
    const j = this.jumpOf(t, dir, link, links);
    if (j !== null) return j;
    const target = link.node.readlink(t).toString('latin1');
    if (target === '') fail(E.ENOENT);
    return this.resolve(t, dir, target, true, links);
  }

  /**
   * The first half of following the symlink `link` in `dir`: ELOOP past
   * MAXSYMLINKS or under RESOLVE_NO_SYMLINKS; a magic link's place (with
   * nd_jump_link's checks: ELOOP under RESOLVE_NO_MAGICLINKS, EXDEV for a
   * scoped walk or one that may not leave its mount), or null for a link with
   * a target, after nd_jump_root's RESOLVE_NO_XDEV check for an absolute one.
   */
  jumpOf(t: IoContext, dir: Loc, link: Loc, links: Walk): Loc | null {
    if (++links.n > MAXSYMLINKS) fail(E.ELOOP);
    const sc = links.scope;
    if ((sc !== undefined && sc.flags & RESOLVE_NO_SYMLINKS) || link.mnt.opts.nosymfollow === true) fail(E.ELOOP);
    const j = link.node.jump(t);
    if (j !== null) {
      if (sc !== undefined) {
        if (sc.flags & RESOLVE_NO_MAGICLINKS) fail(E.ELOOP);
        if (sc.flags & RESOLVE_NO_XDEV && j.mnt !== link.mnt) fail(E.EXDEV);
        if (sc.flags & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) fail(E.EXDEV);
      }
      return j;
    }
    if (sc !== undefined && sc.flags & RESOLVE_NO_XDEV && !(sc.flags & RESOLVE_BENEATH)) {
      // an absolute target jumps to the root: EXDEV when that is another mount (RESOLVE_BENEATH fails it anyway)
      const target = link.node.readlink(t);
      const root = sc.flags & RESOLVE_IN_ROOT && sc.root !== null ? sc.root : this.rootFor(t);
      const known = links.rooted === true || (sc.flags & RESOLVE_IN_ROOT) !== 0;
      if (target.length > 0 && target[0] === 0x2f && (!known || dir.mnt !== root.mnt)) fail(E.EXDEV);
    }
    return null;
  }

  /**
   * Where an absolute path starts: t's root, or a scoped walk's root
   * (RESOLVE_IN_ROOT); RESOLVE_BENEATH allows none (EXDEV, as nd_jump_root).
   */
  absStart(t: IoContext, links: Walk): Loc {
    const sc = links.scope;
    if (sc !== undefined) {
      if (sc.flags & RESOLVE_BENEATH) fail(E.EXDEV);
      if (sc.flags & RESOLVE_IN_ROOT && sc.root !== null) return sc.root;
    }
    return this.rootFor(t);
  }

  /** Resolve all but the last component of `path`, which must lead to a directory. */
  parent(t: IoContext, start: Loc, path: string, links: Walk = { n: 0 }): ParentLoc {
    let end = path.length;
    while (end > 0 && path[end - 1] === '/') end--;
    const trailing = end < path.length;
    const body = path.slice(0, end);
    const slash = body.lastIndexOf('/');
    const name = body.slice(slash + 1);
    if (name.length > NAME_MAX) fail(E.ENAMETOOLONG);
    const prefix = slash < 0 ? '' : slash === 0 ? '/' : body.slice(0, slash);
    const base = body === '' && path.startsWith('/') ? this.absStart(t, links) : start;
    const dir = prefix === '' ? base : this.resolve(t, base, prefix, true, links);
    if (!isDir(dir)) fail(E.ENOTDIR);
    if (!dir.node.fs.hostChecked) this.permission(t, dir, X_OK);
    return { dir, name, trailing };
  }

  /** `name` in `dir`, or null if it does not exist. */
  tryChild(t: IoContext, dir: Loc, name: string, scope?: Scope): Loc | null {
    try {
      return this.child(t, dir, name, scope);
    } catch (e) {
      if (e instanceof SysError && e.errno === E.ENOENT) return null;
      throw e;
    }
  }

  /** Permission check for in-memory file systems (the host checks hostfs). */
  permission(t: IoContext, l: Loc, want: number): void {
    if (l.node.fs.hostChecked) return;
    const st = l.node.owner(t);
    if (!permitted(cred(t), st.mode, st.uid, st.gid, want)) fail(E.EACCES);
  }

  /** EROFS for a change on a read-only mount. */
  writable(l: Loc): void {
    if (l.mnt.readonly) fail(E.EROFS);
  }
}
