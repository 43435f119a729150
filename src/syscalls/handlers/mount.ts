// mount(2) and umount2(2) on the guest's own mount table (the Vfs's): new
// tmpfs, proc, sysfs, cgroup2, devtmpfs and mqueue mounts, bind and recursive bind
// mounts of what the guest can see, remounts that change the per-mount
// flags (read-only is enforced: EROFS; nodev: EACCES on opening a device;
// noexec: EACCES on execve), and the propagation flags, accepted (there is
// one mount namespace, shared with nothing). The host's mounts are never
// touched: a mount only changes what the guest's path walks find.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { AT_FDCWD } from '../../abi/fcntl.js';
import { MNT_DETACH, MNT_EXPIRE, MNT_FORCE, MS_BIND, MS_MGC_MSK, MS_MGC_VAL, MS_MOVE, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SHARED, MS_SLAVE, MS_UNBINDABLE, UMOUNT_NOFOLLOW } from '../../abi/mount.js';
import { S_IFDIR } from '../../abi/stat.js';
import { DevFs } from '../../fs/devfs.js';
import { HostFs, HostNode } from '../../fs/hostfs.js';
import { TmpFs } from '../../fs/tmpfs.js';
import { isRoot, type FileSystem, type Loc, type Mount, type MountOptions } from '../../fs/vfs.js';
import { ProcFs } from '../../procfs/procfs.js';
import { SysFs } from '../../procfs/sysfs.js';
import { host } from '../../host/libc.js';
import { hostScratch } from '../../fs/transfer.js';
import type { Args } from '../../cpu/args.js';
import type { Shape } from '../signature.js';
import { lookupAt, partial, pathArg, type Def } from './util.js';

const MS_PROPAGATION = MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED;

/** CAP_SYS_ADMIN: mount and umount need it (EPERM) */
const CAP_SYS_ADMIN = 21n;

function needAdmin(t: Task): void {
  if ((t.cred.caps.eff & (1n << CAP_SYS_ADMIN)) === 0n) fail(E.EPERM);
}

/** A NUL-terminated string argument, or null for a NULL pointer. */
function strArg(t: Task, addr: number, max = 4096): string | null {
  return addr === 0 ? null : t.mm.cstring(addr, max).toString('latin1');
}

/** The per-mount flags mount(2)'s flags ask for. */
function mountFlags(flags: number): Pick<MountOptions, 'readonly' | 'nosuid' | 'nodev' | 'noexec'> {
  return { readonly: (flags & MS_RDONLY) !== 0, nosuid: (flags & MS_NOSUID) !== 0, nodev: (flags & MS_NODEV) !== 0, noexec: (flags & MS_NOEXEC) !== 0 };
}

/** memparse's suffixes: k, m, g, t, p, e (either case) */
const suffix = (c: string): number => 1024 ** Math.max(0, ' kmgtpe'.indexOf(c.toLowerCase()));

/** the host's RAM in bytes (tmpfs's size=N% is a share of it) */
function totalRam(): number {
  const s = hostScratch();
  host.sysinfo(s.addr);
  return Number(s.dv.getBigUint64(32, true)) * s.dv.getUint32(104, true);
}

/**
 * A tmpfs mounted with size= or nr_inodes=: statfs reports that size (in
 * 4 KiB blocks) and inode count, all free (tmpfs keeps no usage count, and
 * does not refuse a write past the size).
 */
class SizedTmpFs extends TmpFs {
  constructor(
    mode: number,
    uid: number,
    gid: number,
    private readonly blocks: number | null,
    private readonly inodes: number | null,
  ) {
    super(mode, uid, gid);
  }
  override statfs(): Uint8Array {
    const b = Buffer.from(super.statfs());
    if (this.blocks !== null) for (const off of [16, 24, 32]) b.writeBigUint64LE(BigInt(this.blocks), off);
    if (this.inodes !== null) for (const off of [40, 48]) b.writeBigUint64LE(BigInt(this.inodes), off);
    return b;
  }
}

/** A size as tmpfs's size= takes it: bytes with k, m, g suffixes, or a percentage of RAM. */
function tmpfsOptions(data: string | null): { mode: number; uid: number; gid: number; fsOpts: string; blocks: number | null; inodes: number | null } {
  let blocks: number | null = null;
  let inodes: number | null = null;
  let mode = 0o1777;
  let uid = 0;
  let gid = 0;
  const shown: string[] = [];
  for (const o of (data ?? '').split(',').filter(Boolean)) {
    const [k, v = ''] = o.split('=');
    const num = (s: string, base = 10): number => {
      if (!/^\d+$/.test(s) && !(base === 8 && /^[0-7]+$/.test(s))) fail(E.EINVAL);
      return parseInt(s, base);
    };
    if (k === 'mode') mode = num(v, 8) & 0o7777;
    else if (k === 'uid') uid = num(v);
    else if (k === 'gid') gid = num(v);
    else if (k === 'size' || k === 'nr_blocks') {
      // shown as Linux does: the size in pages, as kB
      const m = /^(\d+)([kKmMgGtTpPeE%]?)$/.exec(v) ?? fail(E.EINVAL);
      const n = Number(m[1]);
      const bytes = m[2] === '%' ? (totalRam() * n) / 100 : k === 'nr_blocks' ? n * 4096 * suffix(m[2]) : n * suffix(m[2]);
      blocks = Math.ceil(bytes / 4096);
      shown.push(`size=${blocks * 4}k`);
    } else if (k === 'nr_inodes') {
      const m = /^(\d+)([kKmMgG]?)$/.exec(v) ?? fail(E.EINVAL);
      inodes = Number(m[1]) * suffix(m[2]);
      shown.push(`nr_inodes=${inodes}`);
    } else if (k === 'huge' || k === 'mpol' || k === 'inode64' || k === 'inode32' || k === 'noswap') shown.push(o);
    else fail(E.EINVAL);
  }
  const fsOpts = ['rw', ...shown, ...(mode !== 0o1777 ? [`mode=${mode.toString(8).padStart(3, '0')}`] : []), ...(uid ? [`uid=${uid}`] : []), ...(gid ? [`gid=${gid}`] : [])].join(',');
  return { mode, uid, gid, fsOpts, blocks, inodes };
}

/** A new file system of `type`: ENODEV for one elfrun does not have (as a kernel without it). */
function newFs(t: Task, type: string, data: string | null): { fs: FileSystem; fsOpts?: string } {
  switch (type) {
    case 'tmpfs': {
      const o = tmpfsOptions(data);
      return { fs: o.blocks === null && o.inodes === null ? new TmpFs(o.mode, o.uid, o.gid) : new SizedTmpFs(o.mode, o.uid, o.gid, o.blocks, o.inodes), fsOpts: o.fsOpts };
    }
    case 'proc':
      return { fs: new ProcFs(t.kernel) };
    case 'sysfs':
      return { fs: new SysFs('sysfs', t.kernel.net) };
    case 'cgroup2':
      return { fs: new SysFs('cgroup2') };
    case 'devtmpfs':
      return { fs: new DevFs() };
    // every mount of mqueue shows the IPC namespace's queues
    case 'mqueue':
      return { fs: t.kernel.ipc.mq.fs, fsOpts: 'rw' };
    default:
      return fail(E.ENODEV);
  }
}

/** The mount whose root `loc` is (EINVAL for any other place). */
function mountAt(loc: Loc): Mount {
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

/** A bind mount of the directory or file at `src` on `at` (a host one: a host file system rooted there). */
function bind(t: Task, src: Loc, at: string, flags: number): void {
  const vfs = t.kernel.vfs;
  const opts: MountOptions = { ...mountFlags(flags), source: src.mnt.opts.source ?? src.mnt.fs.type, fsOpts: src.mnt.opts.fsOpts };
  if (src.node instanceof HostNode) vfs.mount(t, at, new HostFs(src.node.path, src.node.fs.hp(src.node.path)), opts);
  else vfs.mount(t, at, src.mnt.fs, { ...opts, bindRoot: src.node, bindPath: pathInFs(src) });
}

function mount(t: Task, sourceAddr: number, targetAddr: number, typeAddr: number, rawFlags: number, dataAddr: number): number {
  needAdmin(t);
  const flags = ((rawFlags & MS_MGC_MSK) >>> 0 === MS_MGC_VAL ? rawFlags & ~MS_MGC_MSK : rawFlags) >>> 0;
  const target = lookupAt(t, AT_FDCWD, pathArg(t, targetAddr), true);
  const vfs = t.kernel.vfs;
  if (flags & MS_REMOUNT) {
    // the mount's own flags change (with MS_BIND) or the file system's, which elfrun keeps per mount too
    const m = mountAt(target);
    Object.assign(m.opts, mountFlags(flags));
    vfs.lookups.walk.epoch++;
    return 0;
  }
  if (flags & MS_BIND) {
    const src = lookupAt(t, AT_FDCWD, pathArg(t, sourceAddr), true);
    // a directory on a directory, a file on a file (graft_tree)
    if ((src.node.type === S_IFDIR) !== (target.node.type === S_IFDIR)) fail(E.ENOTDIR);
    // the mounts below the source, found before the new one is added (binding a directory into itself is allowed)
    const below = flags & MS_REC ? vfs.visibleMounts().filter((m) => m.path !== src.path && m.path.startsWith(src.path === '/' ? '/' : src.path + '/')) : [];
    bind(t, src, target.path, 0);
    for (const m of below) {
      const at = target.path + (src.path === '/' ? m.path : m.path.slice(src.path.length));
      vfs.mount(t, at, m.fs, { ...m.opts });
    }
    return 0;
  }
  if (flags & MS_PROPAGATION) {
    // one mount namespace, shared with nothing: every propagation type holds trivially
    mountAt(target);
    return 0;
  }
  if (flags & MS_MOVE) {
    // the mount at the source, with the mounts below it, moves to the target (they come back with new ids)
    const src = lookupAt(t, AT_FDCWD, pathArg(t, sourceAddr), true);
    const m = mountAt(src);
    if (m.at === null) fail(E.EINVAL);
    if (target.path === m.path || target.path.startsWith(m.path + '/')) fail(E.ELOOP);
    if ((src.node.type === S_IFDIR) !== (target.node.type === S_IFDIR)) fail(E.ENOTDIR);
    const moved = vfs.visibleMounts().filter((o) => o === m || o.path.startsWith(m.path + '/'));
    for (const o of [...moved].reverse()) vfs.umount(o);
    for (const o of moved) vfs.mount(t, target.path + o.path.slice(m.path.length), o.fs, { ...o.opts });
    return 0;
  }
  if (target.node.type !== S_IFDIR) fail(E.ENOTDIR);
  const type = strArg(t, typeAddr, 256);
  if (type === null) fail(E.EINVAL);
  const { fs, fsOpts } = newFs(t, type, strArg(t, dataAddr));
  vfs.mount(t, target.path, fs, { ...mountFlags(flags), source: strArg(t, sourceAddr) ?? 'none', fsOpts });
  return 0;
}

function umount2(t: Task, targetAddr: number, flags: number): number {
  if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) || (flags & MNT_EXPIRE && flags & (MNT_FORCE | MNT_DETACH))) fail(E.EINVAL);
  needAdmin(t);
  const target = lookupAt(t, AT_FDCWD, pathArg(t, targetAddr), !(flags & UMOUNT_NOFOLLOW));
  if (flags & MNT_EXPIRE) fail(E.EAGAIN);
  const vfs = t.kernel.vfs;
  const m = mountAt(target);
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
    'tmpfs (mode=, uid=, gid=; size= and nr_inodes= shown and given to statfs, not enforced: no ENOSPC, no usage count), proc, sysfs, cgroup2 (empty), devtmpfs, mqueue (the IPC namespace\'s queues); bind and recursive bind; ' +
      'remount with MS_RDONLY (EROFS), MS_NODEV, MS_NOEXEC per mount (MS_NOSUID holds: exec ignores set-id bits); propagation flags accepted; ' +
      'MS_MOVE moves the mounts (they get new ids); other file system types ENODEV',
  ),
  umount2: partial(['path', 'umountflags'], (t, a) => umount2(t, a.ptr(0), a.i32(1)), 'EBUSY while mounts sit below (MNT_DETACH takes them along); open files do not keep a mount busy (a lazy unmount, whatever the flags)'),
};
