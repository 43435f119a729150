// The new mount API on the guest's own mount table: fsopen and fspick make a
// file-system context fd, fsconfig sets its parameters and creates or
// reconfigures the file system (fscontext.ts), fsmount makes a detached
// mount of it (an O_PATH fd, usable for fstat and as a dirfd), open_tree an
// O_PATH fd or a detached copy of a mount tree (open_tree_attr with
// attributes applied to it), move_mount attaches a detached tree or moves
// an attached mount, mount_setattr changes mounts' flags. Linux's argument checks and errors, in its order (fs/fsopen.c,
// fs/namespace.c).
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, SysError, Unsupported } from '../../abi/errors.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_RECURSIVE, AT_SYMLINK_NOFOLLOW, O_PATH } from '../../abi/fcntl.js';
import {
  FSCONFIG_CMD_CREATE, FSCONFIG_CMD_CREATE_EXCL, FSCONFIG_CMD_RECONFIGURE, FSCONFIG_SET_BINARY, FSCONFIG_SET_FD, FSCONFIG_SET_FLAG, FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY, FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC, FSOPEN_CLOEXEC, FSPICK_CLOEXEC, FSPICK_EMPTY_PATH, FSPICK_NO_AUTOMOUNT, FSPICK_SYMLINK_NOFOLLOW, MOUNT_ATTR__ATIME, MOUNT_ATTR_IDMAP, MOUNT_ATTR_NOATIME, MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_RDONLY, MOUNT_ATTR_RELATIME, MOUNT_ATTR_SIZE_VER0, MOUNT_ATTR_STRICTATIME,
  MOVE_MOUNT_BENEATH, MOVE_MOUNT_F_EMPTY_PATH, MOVE_MOUNT_F_SYMLINKS, MOVE_MOUNT_SET_GROUP, MOVE_MOUNT_T_EMPTY_PATH, MOVE_MOUNT_T_SYMLINKS, MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE,
  OPEN_TREE_CLOEXEC, OPEN_TREE_CLONE,
} from '../../abi/mount.js';
import { S_IFDIR } from '../../abi/stat.js';
import { PathFile } from '../../fs/file.js';
import { HostFs } from '../../fs/hostfs.js';
import { attach, copyTree, detachedMount, detachedRoot, inTable, setPropagation, subtree } from '../../fs/mounttree.js';
import { isRoot, type Loc, type Mount, type MountOptions } from '../../fs/vfs.js';
import { NsFile } from '../../procfs/pidinfo.js';
import { FS_TYPES, FsContext, FsContextFile, SizedTmpFs, superOptions, type ParamValue } from './fscontext.js';
import { copyOf, needAdmin, pointOf } from './mount.js';
import { hostUserNsIsInitial } from './setns.js';
import { lookupAt, partial, pathArg, type Def } from './util.js';

/** strndup_user(s, max): EFAULT, and EINVAL for a longer string */
function shortString(t: Task, addr: number, max = 256): string {
  try {
    return t.mm.cstring(addr, max).toString('latin1');
  } catch (e) {
    if (e instanceof SysError && e.errno === E.ENAMETOOLONG) fail(E.EINVAL);
    throw e;
  }
}

/** the context behind an fd: EBADF, EINVAL for another kind of file */
function contextOf(t: Task, fd: number): FsContext {
  const f = t.fds.file(fd);
  if (!(f instanceof FsContextFile)) fail(E.EINVAL);
  return f.ctx;
}

/** An O_PATH fd of the root of mount m (fsmount's, open_tree's clone). */
function mountFd(t: Task, m: Mount, cloexec: boolean): number {
  const loc: Loc = { mnt: m, node: m.top, path: m.path };
  return t.fds.add(new PathFile(loc.node, O_PATH, loc), cloexec);
}

function fsopen(t: Task, nameAddr: number, flags: number): number {
  needAdmin(t);
  if (flags & ~FSOPEN_CLOEXEC) fail(E.EINVAL);
  const name = shortString(t, nameAddr, 4096);
  if (!FS_TYPES.includes(name)) fail(E.ENODEV);
  return t.fds.add(new FsContextFile(new FsContext(name), 0), (flags & FSOPEN_CLOEXEC) !== 0);
}

function fspick(t: Task, dfd: number, pathAddr: number, flags: number): number {
  needAdmin(t);
  if (flags & ~(FSPICK_CLOEXEC | FSPICK_SYMLINK_NOFOLLOW | FSPICK_NO_AUTOMOUNT | FSPICK_EMPTY_PATH)) fail(E.EINVAL);
  const loc = lookupAt(t, dfd, pathArg(t, pathAddr), !(flags & FSPICK_SYMLINK_NOFOLLOW), (flags & FSPICK_EMPTY_PATH) !== 0);
  if (!isRoot(loc)) fail(E.EINVAL);
  const fs = loc.mnt.fs;
  if (fs instanceof HostFs) throw new Unsupported('fspick of a host file system (its superblock is the host\'s)', E.EINVAL);
  return t.fds.add(new FsContextFile(new FsContext(fs.type, fs), 0), (flags & FSPICK_CLOEXEC) !== 0);
}

function fsconfig(t: Task, fd: number, cmd: number, keyAddr: number, valueAddr: number, aux: number): number {
  if (fd < 0) fail(E.EINVAL);
  // each command's arguments (NULL or not, aux), before the fd is looked at
  const key = keyAddr !== 0;
  const value = valueAddr !== 0;
  switch (cmd) {
    case FSCONFIG_SET_FLAG:
      if (!key || value || aux) fail(E.EINVAL);
      break;
    case FSCONFIG_SET_STRING:
      if (!key || !value || aux) fail(E.EINVAL);
      break;
    case FSCONFIG_SET_BINARY:
      if (!key || !value || aux <= 0 || aux > 1024 * 1024) fail(E.EINVAL);
      break;
    case FSCONFIG_SET_PATH:
    case FSCONFIG_SET_PATH_EMPTY:
      if (!key || !value || (aux !== AT_FDCWD && aux < 0)) fail(E.EINVAL);
      break;
    case FSCONFIG_SET_FD:
      if (!key || value || aux < 0) fail(E.EINVAL);
      break;
    case FSCONFIG_CMD_CREATE:
    case FSCONFIG_CMD_CREATE_EXCL:
    case FSCONFIG_CMD_RECONFIGURE:
      if (key || value || aux) fail(E.EINVAL);
      break;
    default:
      fail(E.EOPNOTSUPP);
  }
  const ctx = contextOf(t, fd);
  if (cmd === FSCONFIG_CMD_CREATE || cmd === FSCONFIG_CMD_CREATE_EXCL) {
    needAdmin(t);
    ctx.create(t, cmd === FSCONFIG_CMD_CREATE_EXCL);
    return 0;
  }
  if (cmd === FSCONFIG_CMD_RECONFIGURE) {
    ctx.prepare();
    needAdmin(t);
    ctx.reconfigure(t);
    return 0;
  }
  const k = shortString(t, keyAddr);
  let v: ParamValue;
  if (cmd === FSCONFIG_SET_FLAG) v = { kind: 'flag' };
  else if (cmd === FSCONFIG_SET_STRING) v = { kind: 'string', s: shortString(t, valueAddr) };
  else {
    // a binary blob, a path or an fd: none of elfrun's file systems takes one, but the argument is checked as Linux checks it
    if (cmd === FSCONFIG_SET_BINARY) t.mm.read(valueAddr, aux);
    else if (cmd === FSCONFIG_SET_FD) t.fds.file(aux);
    else pathArg(t, valueAddr);
    v = { kind: 'other' };
  }
  ctx.param(k, v);
  return 0;
}

/** The per-mount flags MOUNT_ATTR_* ask for (attr_flags_to_mnt_flags), the atime mode apart. */
function attrFlags(attr: number): Pick<MountOptions, 'readonly' | 'nosuid' | 'nodev' | 'noexec' | 'nodiratime' | 'nosymfollow'> {
  return {
    readonly: (attr & MOUNT_ATTR_RDONLY) !== 0,
    nosuid: (attr & MOUNT_ATTR_NOSUID) !== 0,
    nodev: (attr & MOUNT_ATTR_NODEV) !== 0,
    noexec: (attr & MOUNT_ATTR_NOEXEC) !== 0,
    nodiratime: (attr & MOUNT_ATTR_NODIRATIME) !== 0,
    nosymfollow: (attr & MOUNT_ATTR_NOSYMFOLLOW) !== 0,
  };
}
const FSMOUNT_VALID = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW;
const SETATTR_VALID = FSMOUNT_VALID | MOUNT_ATTR_IDMAP;

/** an atime mode by its MOUNT_ATTR_* value (EINVAL for none) */
function atimeOf(v: number): MountOptions['atime'] {
  if (v === MOUNT_ATTR_RELATIME) return undefined;
  if (v === MOUNT_ATTR_NOATIME) return 'noatime';
  if (v === MOUNT_ATTR_STRICTATIME) return 'strictatime';
  return fail(E.EINVAL);
}

function fsmount(t: Task, fd: number, flags: number, attr: number): number {
  needAdmin(t);
  if (flags & ~FSMOUNT_CLOEXEC) fail(E.EINVAL);
  if (attr & ~FSMOUNT_VALID) fail(E.EINVAL);
  const atime = atimeOf(attr & MOUNT_ATTR__ATIME);
  const ctx = contextOf(t, fd);
  if (ctx.fs === null) fail(E.EINVAL);
  if (ctx.phase !== 'awaiting-mount') fail(E.EBUSY);
  const m = detachedMount(t.kernel.vfs, ctx.fs, { ...attrFlags(attr), atime, source: ctx.source ?? 'none', fsOpts: superOptions(ctx.fs) });
  // the context may reconfigure the file system from now on, as one fspick made
  ctx.phase = 'awaiting-reconf';
  return mountFd(t, m, (flags & FSMOUNT_CLOEXEC) !== 0);
}

function moveMount(t: Task, fromDfd: number, fromAddr: number, toDfd: number, toAddr: number, flags: number): number {
  needAdmin(t);
  if (flags & ~0x377) fail(E.EINVAL);
  if ((flags & (MOVE_MOUNT_BENEATH | MOVE_MOUNT_SET_GROUP)) === (MOVE_MOUNT_BENEATH | MOVE_MOUNT_SET_GROUP)) fail(E.EINVAL);
  const from = lookupAt(t, fromDfd, pathArg(t, fromAddr), (flags & MOVE_MOUNT_F_SYMLINKS) !== 0, (flags & MOVE_MOUNT_F_EMPTY_PATH) !== 0);
  const to = lookupAt(t, toDfd, pathArg(t, toAddr), (flags & MOVE_MOUNT_T_SYMLINKS) !== 0, (flags & MOVE_MOUNT_T_EMPTY_PATH) !== 0);
  if (flags & MOVE_MOUNT_SET_GROUP) throw new Unsupported('MOVE_MOUNT_SET_GROUP (no mount is in a peer group)', E.EINVAL);
  if (flags & MOVE_MOUNT_BENEATH) throw new Unsupported('MOVE_MOUNT_BENEATH', E.EINVAL);
  const vfs = t.kernel.vfs;
  const old = from.mnt;
  // do_move_mount: the place is in the table; what moves is an attached mount of it or a detached tree's root, at its root
  if (!inTable(vfs, to.mnt)) fail(E.EINVAL);
  const attached = old.at !== null;
  if (attached ? !inTable(vfs, old) : detachedRoot(old) !== old) fail(E.EINVAL);
  if (!isRoot(from)) fail(E.EINVAL);
  if ((from.node.type === S_IFDIR) !== (to.node.type === S_IFDIR)) fail(E.EINVAL);
  // not into itself
  for (let p: Mount | null = to.mnt; p !== null && p.at !== null; p = p.at.mnt) if (p === old) fail(E.ELOOP);
  if (to.mnt === old) fail(E.ELOOP);
  const { dir, name } = pointOf(t, to);
  attach(vfs, old, dir, name);
  // a tmpfs reconfigured while detached shows its options now (refreshOptions sees only the table)
  for (const m of subtree(vfs, old)) if (m.fs instanceof SizedTmpFs) m.opts.fsOpts = superOptions(m.fs);
  // an fd of the moved mount's root now names its place in the tree (as d_path shows it)
  if (flags & MOVE_MOUNT_F_EMPTY_PATH && fromAddr !== 0 && fromDfd !== AT_FDCWD) {
    const f = t.fds.file(fromDfd);
    if (f.loc !== null && f.loc.mnt === old && isRoot(f.loc)) f.loc = { ...f.loc, path: old.path };
  }
  return 0;
}

/** vfs_open_tree: an O_PATH fd's place, or (OPEN_TREE_CLONE) the root of a detached copy of the mount there */
function openTreeAt(t: Task, dfd: number, pathAddr: number, flags: number): { loc: Loc; clone: Mount | null } {
  if (flags & ~(AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) fail(E.EINVAL);
  if ((flags & (AT_RECURSIVE | OPEN_TREE_CLONE)) === AT_RECURSIVE) fail(E.EINVAL);
  if (flags & OPEN_TREE_CLONE) needAdmin(t);
  const loc = lookupAt(t, dfd, pathArg(t, pathAddr), !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) !== 0);
  if (!(flags & OPEN_TREE_CLONE)) return { loc, clone: null };
  const m = copyTree(t.kernel.vfs, loc, (flags & AT_RECURSIVE) !== 0, copyOf);
  return { loc: { mnt: m, node: m.top, path: m.path }, clone: m };
}

function treeFd(t: Task, at: { loc: Loc; clone: Mount | null }, flags: number): number {
  const cloexec = (flags & OPEN_TREE_CLOEXEC) !== 0;
  return at.clone === null ? t.fds.add(new PathFile(at.loc.node, O_PATH, at.loc), cloexec) : mountFd(t, at.clone, cloexec);
}

function openTree(t: Task, dfd: number, pathAddr: number, flags: number): number {
  return treeFd(t, openTreeAt(t, dfd, pathAddr, flags), flags);
}

/**
 * open_tree_attr: open_tree, then (a struct mount_attr given) its
 * attributes applied to what it opened, as mount_setattr applies them: the
 * clone (with its mounts below under AT_RECURSIVE), or the attached mount
 * whose root the place is. A NULL struct with a size is EINVAL; the struct
 * is read after the tree is opened, and a failure drops the clone.
 */
function openTreeAttr(t: Task, dfd: number, pathAddr: number, flags: number, attrAddr: number, size: number): number {
  if (attrAddr === 0 && size !== 0) fail(E.EINVAL);
  const at = openTreeAt(t, dfd, pathAddr, flags);
  if (attrAddr !== 0) {
    const k = mountKattr(t, attrAddr, size);
    if (k !== null) applyKattr(t, at.loc, (flags & AT_RECURSIVE) !== 0, k);
  }
  return treeFd(t, at, flags);
}

const PROPAGATION = MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED;

/** MOUNT_ATTR_IDMAP's user namespace fd (build_mount_idmapped): the initial namespace cannot map (EPERM); others elfrun cannot make */
function idmapCheck(t: Task, fd: bigint): never {
  if (fd > 0x7fffffffn) fail(E.EINVAL);
  const f = t.fds.file(Number(fd));
  if (!(f instanceof NsFile) || !f.node.key.startsWith('user:')) fail(E.EINVAL);
  if (hostUserNsIsInitial()) fail(E.EPERM);
  throw new Unsupported('idmapped mounts (MOUNT_ATTR_IDMAP)', E.EPERM);
}

/** what a struct mount_attr asks (build_mount_kattr): attributes to set and clear, an atime mode, a propagation type */
interface MountKattr {
  on: ReturnType<typeof attrFlags>;
  off: ReturnType<typeof attrFlags>;
  atime: { v: MountOptions['atime'] } | null;
  prop: number;
}

/**
 * struct mount_attr (wants_mount_setattr, build_mount_kattr): E2BIG past a
 * page or for a non-zero tail, EINVAL below version 0, EPERM without
 * CAP_SYS_ADMIN, EFAULT, EINVAL for what Linux does not accept; null when it
 * asks for nothing.
 */
function mountKattr(t: Task, attrAddr: number, size: number): MountKattr | null {
  if (size > 4096) fail(E.E2BIG);
  if (size < MOUNT_ATTR_SIZE_VER0) fail(E.EINVAL);
  needAdmin(t);
  const b = t.mm.read(attrAddr, size);
  // copy_struct_from_user: a larger struct's tail must be zero
  if (b.subarray(MOUNT_ATTR_SIZE_VER0).some((x) => x !== 0)) fail(E.E2BIG);
  const set = b.readBigUInt64LE(0);
  const clr = b.readBigUInt64LE(8);
  const prop = b.readBigUInt64LE(16);
  if (set === 0n && clr === 0n && prop === 0n) return null;
  // build_mount_kattr: one propagation type at most, known attributes, the atime mode as an enumeration
  if (prop & ~BigInt(PROPAGATION) || (prop & (prop - 1n)) !== 0n) fail(E.EINVAL);
  if ((set | clr) & ~BigInt(SETATTR_VALID)) fail(E.EINVAL);
  const s = Number(set);
  const c = Number(clr);
  let atime: { v: MountOptions['atime'] } | null = null;
  if (c & MOUNT_ATTR__ATIME) {
    if ((c & MOUNT_ATTR__ATIME) !== MOUNT_ATTR__ATIME) fail(E.EINVAL);
    atime = { v: atimeOf(s & MOUNT_ATTR__ATIME) };
  } else if (s & MOUNT_ATTR__ATIME) fail(E.EINVAL);
  if ((s | c) & MOUNT_ATTR_IDMAP) {
    if (c & MOUNT_ATTR_IDMAP) fail(E.EINVAL);
    idmapCheck(t, b.readBigUInt64LE(24));
  }
  return { on: attrFlags(s), off: attrFlags(c), atime, prop: Number(prop) };
}

/** do_mount_setattr: the root of a mount of the table, or of a detached tree (EINVAL otherwise), and with AT_RECURSIVE the mounts below it */
function applyKattr(t: Task, loc: Loc, recursive: boolean, k: MountKattr): void {
  if (!isRoot(loc)) fail(E.EINVAL);
  const vfs = t.kernel.vfs;
  const m = loc.mnt;
  if (!inTable(vfs, m) && detachedRoot(m) !== m) fail(E.EINVAL);
  for (const o of recursive ? subtree(vfs, m) : [m]) {
    for (const key of ['readonly', 'nosuid', 'nodev', 'noexec', 'nodiratime', 'nosymfollow'] as const) {
      if (k.off[key]) o.opts[key] = false;
      if (k.on[key]) o.opts[key] = true;
    }
    if (k.atime !== null) o.opts.atime = k.atime.v;
  }
  // shared and slave mounts have no peers (one mount namespace, shared with nothing); unbindable ones are kept
  if (k.prop !== 0) setPropagation(recursive ? subtree(vfs, m) : [m], k.prop);
  vfs.lookups.walk.epoch++;
}

function mountSetattr(t: Task, dfd: number, pathAddr: number, flags: number, attrAddr: number, size: number): number {
  if (flags & ~(AT_EMPTY_PATH | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)) fail(E.EINVAL);
  const k = mountKattr(t, attrAddr, size);
  if (k === null) return 0;
  const loc = lookupAt(t, dfd, pathArg(t, pathAddr), !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) !== 0);
  applyKattr(t, loc, (flags & AT_RECURSIVE) !== 0, k);
  return 0;
}

const SETATTR_NOTE =
  'MOUNT_ATTR_RDONLY, NOSUID, NODEV, NOEXEC, NOSYMFOLLOW, the atime modes and NODIRATIME, AT_RECURSIVE; making a mount read-only does not wait for its writers (no EBUSY); MS_UNBINDABLE kept, MS_SHARED and MS_SLAVE accepted with no peer group (one mount namespace, shared with nothing); MOUNT_ATTR_IDMAP gives EPERM for the initial user namespace, other namespaces are reported as unsupported';

export const fsmountDefs: Record<string, Def> = {
  fsopen: partial(
    ['name', 'fsopenflags'],
    (t, a) => fsopen(t, a.ptr(0), a.u32(1)),
    'tmpfs, proc, sysfs, cgroup2 (empty), devtmpfs, mqueue, as mount(2) makes them; a read of the fd gives the error log; tmpfs\'s mpol= and quotas, proc\'s gid=/hidepid=/subset= and the sync/dirsync/lazytime/mand superblock flags are reported as unsupported; devtmpfs takes tmpfs\'s and ignores them, as Linux; cgroup2\'s flags are taken and not shown',
  ),
  fsconfig: partial(
    ['fd', 'fsconfigcmd', 'fsconfigkey', 'fsconfigvalue', 'fsconfigaux'],
    (t, a) => fsconfig(t, a.i32(0), a.u32(1), a.ptr(2), a.ptr(3), a.i32(4)),
    'every command\'s checks and phases; CMD_RECONFIGURE changes tmpfs\'s size and inode count and the read-only flag',
  ),
  fsmount: partial(
    ['fd', 'fsmountflags', 'mountattr'],
    (t, a) => fsmount(t, a.i32(0), a.u32(1), a.u32(2)),
    'a detached mount and its O_PATH fd; MOUNT_ATTR_RDONLY, NODEV, NOEXEC and NOSYMFOLLOW enforced, NOSUID holds (exec ignores set-id bits), the atime modes and NODIRATIME shown (elfrun\'s file systems do not update atime on reads); closing the fd of an unattached mount does not keep the tree busy',
  ),
  move_mount: partial(
    ['dirfd', 'path', 'dirfd', 'path', 'movemountflags'],
    (t, a) => moveMount(t, a.i32(0), a.ptr(1), a.i32(2), a.ptr(3), a.u32(4)),
    'attaching a detached tree and moving an attached mount with the mounts below it (ids kept); MOVE_MOUNT_SET_GROUP and MOVE_MOUNT_BENEATH are reported as unsupported, as is a mount on top of the root',
  ),
  open_tree: partial(
    ['dirfd', 'path', 'opentreeflags'],
    (t, a) => openTree(t, a.i32(0), a.ptr(1), a.u32(2)),
    'an O_PATH fd, or (OPEN_TREE_CLONE) a detached copy of the mount at the place, with the mounts below it under AT_RECURSIVE (unbindable ones left out; EINVAL for a clone of one)',
  ),
  fspick: partial(
    ['dirfd', 'path', 'fspickflags'],
    (t, a) => fspick(t, a.i32(0), a.ptr(1), a.u32(2)),
    'a reconfiguration context for the file system mounted at the place, as fsconfig takes it; host file systems are reported as unsupported',
  ),
  mount_setattr: partial(
    ['dirfd', 'path', 'setattrflags', 'mountattrstruct', 'size'],
    (t, a) => mountSetattr(t, a.i32(0), a.ptr(1), a.u32(2), a.ptr(3), a.size(4)),
    SETATTR_NOTE,
  ),
  open_tree_attr: partial(
    ['dirfd', 'path', 'opentreeflags', 'mountattrstruct', 'size'],
    (t, a) => openTreeAttr(t, a.i32(0), a.ptr(1), a.u32(2), a.ptr(3), a.size(4)),
    'open_tree, then the struct mount_attr applied to the clone (or to the attached mount whose root the place is) as mount_setattr applies it: ' + SETATTR_NOTE,
  ),
};
