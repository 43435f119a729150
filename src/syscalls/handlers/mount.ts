// mount(2) and umount2(2) on the guest's own mount table (the Vfs's): new
// tmpfs, proc, sysfs, cgroup2, devtmpfs and mqueue mounts (through the
// file-system contexts of fscontext.ts, as Linux's mount(2) makes them),
// bind and recursive bind mounts of what the guest can see (copies of the
// mount tree, fs/mounttree.ts), remounts that reconfigure the file system and
// change the per-mount flags (read-only is enforced: EROFS; nodev: EACCES on
// opening a device; noexec: EACCES on execve), moves, and the propagation
// flags, accepted (there is one mount namespace, shared with nothing). The
// host's mounts are never touched: a mount only changes what the guest's
// path walks find. Helpers the new mount API (fsmount.ts) shares are here.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import { AT_FDCWD } from '../../abi/fcntl.js';
import { MNT_DETACH, MNT_EXPIRE, MNT_FORCE, MS_BIND, MS_MGC_MSK, MS_MGC_VAL, MS_MOVE, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW, MS_RELATIME, MS_STRICTATIME, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SHARED, MS_SILENT, MS_SLAVE, MS_UNBINDABLE, UMOUNT_NOFOLLOW } from '../../abi/mount.js';
import { S_IFDIR } from '../../abi/stat.js';
import { HostFs, HostNode } from '../../fs/hostfs.js';
import { attach, copyTree, inTable, setPropagation, subtree, type CopyOf } from '../../fs/mounttree.js';
import { isRoot, type FileSystem, type Loc, type Mount, type MountOptions } from '../../fs/vfs.js';
import { FS_TYPES, FsContext, superOptions } from './fscontext.js';
import type { Args } from '../../cpu/args.js';
import type { Shape } from '../signature.js';
import { lookupAt, partial, pathArg, type Def } from './util.js';

const MS_PROPAGATION = MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED;

/** CAP_SYS_ADMIN: mount and umount need it (EPERM) */
const CAP_SYS_ADMIN = 21n;

export function needAdmin(t: Task): void {
  if ((t.cred.caps.eff & (1n << CAP_SYS_ADMIN)) === 0n) fail(E.EPERM);
}

/** A NUL-terminated string argument, or null for a NULL pointer. */
export function strArg(t: Task, addr: number, max = 4096): string | null {
  return addr === 0 ? null : t.mm.cstring(addr, max).toString('latin1');
}

/**
 * The per-mount flags mount(2)'s flags ask for (path_mount): relatime unless
 * MS_NOATIME or MS_STRICTATIME; a remount that names no atime flag keeps the
 * mount's atime mode and nodiratime.
 */
function mountFlags(flags: number, prev?: MountOptions): Pick<MountOptions, 'readonly' | 'nosuid' | 'nodev' | 'noexec' | 'atime' | 'nodiratime' | 'nosymfollow'> {
  const keepAtime = prev !== undefined && (flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)) === 0;
  return {
    readonly: (flags & MS_RDONLY) !== 0,
    nosuid: (flags & MS_NOSUID) !== 0,
    nodev: (flags & MS_NODEV) !== 0,
    noexec: (flags & MS_NOEXEC) !== 0,
    nosymfollow: (flags & MS_NOSYMFOLLOW) !== 0,
    atime: keepAtime ? prev.atime : flags & MS_STRICTATIME ? 'strictatime' : flags & MS_NOATIME ? 'noatime' : undefined,
    nodiratime: keepAtime ? prev.nodiratime : (flags & MS_NODIRATIME) !== 0,
  };
}

/** A new file system of `type` from mount(2)'s data, through a context as Linux's mount(2) makes one (EINVAL for a bad option, ENODEV for a type elfrun does not have). */
function newFs(t: Task, type: string, data: string | null, flags: number): { fs: FileSystem; source: string | null } {
  if (!FS_TYPES.includes(type)) fail(E.ENODEV);
  const ctx = new FsContext(type);
  ctx.monolithic(data);
  if (flags & MS_RDONLY) ctx.readonly = true;
  const fs = ctx.create(t);
  return { fs, source: ctx.source };
}

/** The mount whose root `loc` is (EINVAL for any other place). */
export function mountAt(loc: Loc): Mount {
  if (!isRoot(loc)) fail(E.EINVAL);
  return loc.mnt;
}

/** Where `loc` is within its file system: the path a bind mount of it shows as mountinfo's root. */
function pathInFs(loc: Loc): string {
  const base = loc.mnt.opts.bindPath ?? '/';
  const rel = loc.mnt.path === '/' ? loc.path : loc.path.slice(loc.mnt.path.length);
  const joined = (base === '/' ? '' : base) + rel;
  return joined === '' ? '/' : joined;
}

/**
 * How a copy of the place `src` mounts (a bind mount's, open_tree's clone):
 * the mount's file system showing src's directory, with the mount's flags (a
 * host directory: a host file system rooted there).
 */
export const copyOf: CopyOf = (src: Loc) => {
  const o = src.mnt.opts;
  const opts: MountOptions = { readonly: o.readonly, nosuid: o.nosuid, nodev: o.nodev, noexec: o.noexec, atime: o.atime, nodiratime: o.nodiratime, nosymfollow: o.nosymfollow, source: o.source ?? src.mnt.fs.type, fsOpts: o.fsOpts };
  if (src.node instanceof HostNode) return { fs: new HostFs(src.node.path, src.node.fs.hp(src.node.path)), opts };
  return { fs: src.mnt.fs, opts: { ...opts, bindRoot: src.node, bindPath: pathInFs(src) } };
};

/** Where a mount on the place `target` goes: the directory holding it and its name (EINVAL for the root, which elfrun does not stack on). */
export function pointOf(t: Task, target: Loc): { dir: Loc; name: string } {
  const { dir, name } = t.kernel.vfs.parent(t, t.kernel.vfs.root, target.path);
  if (name === '') throw new Unsupported('a mount on top of the root', E.EINVAL);
  return { dir, name };
}

function mount(t: Task, sourceAddr: number, targetAddr: number, typeAddr: number, rawFlags: number, dataAddr: number): number {
  needAdmin(t);
  const flags = ((rawFlags & MS_MGC_MSK) >>> 0 === MS_MGC_VAL ? rawFlags & ~MS_MGC_MSK : rawFlags) >>> 0;
  const target = lookupAt(t, AT_FDCWD, pathArg(t, targetAddr), true);
  const vfs = t.kernel.vfs;
  if (flags & MS_REMOUNT) {
    // the mount's own flags change (with MS_BIND) or the file system's, which elfrun keeps per mount too
    const m = mountAt(target);
    // without MS_BIND the file system is reconfigured too (do_remount): its options from the data, read-only or not
    if (!(flags & MS_BIND) && !(m.fs instanceof HostFs)) {
      const ctx = new FsContext(m.fs.type, m.fs);
      ctx.monolithic(strArg(t, dataAddr));
      ctx.readonly = (flags & MS_RDONLY) !== 0;
      ctx.reconfigure(t);
    }
    Object.assign(m.opts, mountFlags(flags, m.opts));
    vfs.lookups.walk.epoch++;
    return 0;
  }
  if (flags & MS_BIND) {
    const src = lookupAt(t, AT_FDCWD, pathArg(t, sourceAddr), true);
    // a directory on a directory, a file on a file (graft_tree)
    if ((src.node.type === S_IFDIR) !== (target.node.type === S_IFDIR)) fail(E.ENOTDIR);
    // a copy of the source's mount (and of those below it, MS_REC), made before it is attached: binding a directory into itself is allowed
    const copy = copyTree(vfs, src, (flags & MS_REC) !== 0, copyOf);
    const { dir, name } = pointOf(t, target);
    attach(vfs, copy, dir, name);
    return 0;
  }
  if (flags & MS_PROPAGATION) {
    // do_change_type: one propagation type alone (MS_REC and MS_SILENT aside), on a mount's root; MS_REC for the mounts below too.
    // One mount namespace, shared with nothing: shared and slave mounts have no peers; unbindable ones are kept
    const type = flags & ~(MS_REC | MS_SILENT);
    if (type & ~MS_PROPAGATION || (type & (type - 1)) !== 0) fail(E.EINVAL);
    const m = mountAt(target);
    setPropagation(flags & MS_REC ? subtree(vfs, m) : [m], type);
    return 0;
  }
  if (flags & MS_MOVE) {
    // the mount at the source, with the mounts below it, moves to the target
    const src = lookupAt(t, AT_FDCWD, pathArg(t, sourceAddr), true);
    const m = mountAt(src);
    if (m.at === null) fail(E.EINVAL);
    if (target.path === m.path || target.path.startsWith(m.path + '/')) fail(E.ELOOP);
    if ((src.node.type === S_IFDIR) !== (target.node.type === S_IFDIR)) fail(E.ENOTDIR);
    if (!inTable(vfs, m)) fail(E.EINVAL);
    const { dir, name } = pointOf(t, target);
    attach(vfs, m, dir, name);
    return 0;
  }
  if (target.node.type !== S_IFDIR) fail(E.ENOTDIR);
  const type = strArg(t, typeAddr, 256);
  if (type === null) fail(E.EINVAL);
  const { fs } = newFs(t, type, strArg(t, dataAddr), flags);
  vfs.mount(t, target.path, fs, { ...mountFlags(flags), source: strArg(t, sourceAddr) ?? 'none', fsOpts: superOptions(fs) });
  return 0;
}

function umount2(t: Task, targetAddr: number, flags: number): number {
  if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) || (flags & MNT_EXPIRE && flags & (MNT_FORCE | MNT_DETACH))) fail(E.EINVAL);
  needAdmin(t);
  const target = lookupAt(t, AT_FDCWD, pathArg(t, targetAddr), !(flags & UMOUNT_NOFOLLOW));
  if (flags & MNT_EXPIRE) fail(E.EAGAIN);
  const vfs = t.kernel.vfs;
  const m = mountAt(target);
  // a mount outside the table (a detached tree reached through an fd): check_mnt's EINVAL
  if (!inTable(vfs, m)) fail(E.EINVAL);
  // MNT_DETACH takes the mounts below along (the deepest first); without it they keep the mount busy
  if (flags & MNT_DETACH && m.at !== null) for (const o of vfs.visibleMounts().filter((o) => o.path.startsWith(m.path === '/' ? '/' : m.path + '/')).reverse()) vfs.umount(o);
  vfs.umount(m);
  return 0;
}

/** strace's mount: the type shown as an address where the kernel ignores it (remount, bind, move, propagation), the data too where it is ignored */
function mountShape(a: Args): Shape {
  const f = a.u32(3);
  const ignoreType = (f & (MS_REMOUNT | MS_BIND | MS_MOVE | MS_PROPAGATION)) !== 0;
  const ignoreData = (f & (MS_MOVE | MS_PROPAGATION)) !== 0 && !(f & MS_REMOUNT);
  return { args: ['name', 'path', ignoreType ? 'ptr' : 'name', 'mountflags', ignoreData ? 'ptr' : 'name'], ret: 'int' };
}

export const mountDefs: Record<string, Def> = {
  mount: partial(
    mountShape,
    (t, a) => mount(t, a.ptr(0), a.ptr(1), a.ptr(2), a.u32(3), a.ptr(4)),
    'tmpfs (mode=, uid=, gid=; size= and nr_inodes= shown and given to statfs, not enforced: no ENOSPC, no usage count), proc, sysfs, cgroup2 (empty), devtmpfs, mqueue (the IPC namespace\'s queues), their options parsed as fsconfig parameters (fscontext.ts); bind and recursive bind (the source\'s mount flags kept); ' +
      'remount without MS_BIND reconfigures the file system (its options, read-only); MS_RDONLY (EROFS), MS_NODEV, MS_NOEXEC, MS_NOSYMFOLLOW per mount (MS_NOSUID holds: exec ignores set-id bits), the atime flags shown; MS_UNBINDABLE kept (no bind of the mount), MS_SHARED and MS_SLAVE accepted with no peer group; ' +
      'MS_MOVE moves the mounts with their ids; other file system types ENODEV; a host file system\'s remount changes only the guest\'s mount',
  ),
  umount2: partial(['path', 'umountflags'], (t, a) => umount2(t, a.ptr(0), a.i32(1)), 'EBUSY while mounts sit below (MNT_DETACH takes them along); open files do not keep a mount busy (a lazy unmount, whatever the flags)'),
};
