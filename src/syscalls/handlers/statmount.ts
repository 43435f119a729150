// statmount and listmount (Linux 6.8): the guest's mount table by 64-bit
// unique mount ids, the same mounts, ids and fields /proc/<pid>/mountinfo
// shows (procfs/mounts.ts's mountEntries). A mount's unique id is
// MNT_UNIQUE_ID_OFFSET (2^31, where Linux 6.18 starts them) plus its
// mountinfo id, so the two never meet and one gives the other.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { HostFs } from '../../fs/hostfs.js';
import { under } from '../../fs/mounttree.js';
import type { Loc } from '../../fs/vfs.js';
import { mountEntries, type MountEntry } from '../../procfs/mounts.js';
import { NsFile } from '../../procfs/pidinfo.js';
import { partial, type Def } from './util.js';

/** the first valid unique mount id is MNT_UNIQUE_ID_OFFSET + 1 */
export const MNT_UNIQUE_ID_OFFSET = 0x80000000n;
/** the guest's one mount namespace: its id, as statmount's mnt_ns_id and mnt_id_req's mnt_ns_id name it */
export const GUEST_MNT_NS_ID = 1n;

const MNT_ID_REQ_SIZE_VER0 = 24;
const MNT_ID_REQ_SIZE_LATEST = 32;
const PAGE_SIZE = 4096;
const LSMT_ROOT = 0xffffffffffffffffn;
const LISTMOUNT_REVERSE = 1;
/** listmount's largest count: more mounts than that must be listed in steps */
const LISTMOUNT_MAX = 1000000;

/** struct statmount: 512 bytes, then the strings */
const STATMOUNT_SIZE = 512;
const SM = {
  SB_BASIC: 0x1, MNT_BASIC: 0x2, PROPAGATE_FROM: 0x4, MNT_ROOT: 0x8, MNT_POINT: 0x10, FS_TYPE: 0x20, MNT_NS_ID: 0x40, MNT_OPTS: 0x80,
  FS_SUBTYPE: 0x100, SB_SOURCE: 0x200, OPT_ARRAY: 0x400, OPT_SEC_ARRAY: 0x800, SUPPORTED_MASK: 0x1000, MNT_UIDMAP: 0x2000, MNT_GIDMAP: 0x4000,
} as const;
/** what Linux 6.18 knows (STATMOUNT_SUPPORTED) */
const STATMOUNT_SUPPORTED = 0x7fff;
const STRING_REQ = SM.MNT_ROOT | SM.MNT_POINT | SM.FS_TYPE | SM.MNT_OPTS | SM.FS_SUBTYPE | SM.SB_SOURCE | SM.OPT_ARRAY | SM.OPT_SEC_ARRAY | SM.MNT_UIDMAP | SM.MNT_GIDMAP;

// struct statmount's offsets (linux/mount.h)
const OFF = {
  size: 0, mnt_opts: 4, mask: 8, sb_dev_major: 16, sb_dev_minor: 20, sb_magic: 24, sb_flags: 32, fs_type: 36, mnt_id: 40, mnt_parent_id: 48,
  mnt_id_old: 56, mnt_parent_id_old: 60, mnt_attr: 64, mnt_propagation: 72, mnt_peer_group: 80, mnt_master: 88, propagate_from: 96,
  mnt_root: 104, mnt_point: 108, mnt_ns_id: 112, fs_subtype: 120, sb_source: 124, opt_num: 128, opt_array: 132, opt_sec_num: 136,
  opt_sec_array: 140, supported_mask: 144,
} as const;

// MOUNT_ATTR_* (a mount's flags) and MS_* (its propagation, the superblock's flags)
const ATTR: ReadonlyArray<[string, number]> = [['ro', 0x1], ['nosuid', 0x2], ['nodev', 0x4], ['noexec', 0x8], ['noatime', 0x10], ['nodiratime', 0x80], ['nosymfollow', 0x200000]];
const MOUNT_ATTR_STRICTATIME = 0x20;
const MS_UNBINDABLE = 1 << 17;
const MS_PRIVATE = 1 << 18;
const SB_FLAGS: ReadonlyArray<[string, number]> = [['ro', 0x1], ['sync', 0x10], ['dirsync', 0x80], ['lazytime', 1 << 25]];

interface MntIdReq {
  nsFd: number;
  mntId: bigint;
  param: bigint;
  nsId: bigint;
}

/** struct mnt_id_req with copy_struct_from_user's rules (EFAULT, E2BIG past a page or for a non-zero tail, EINVAL below version 0), then copy_mnt_id_req's checks. */
function mntIdReq(t: Task, addr: number): MntIdReq {
  const usize = t.mm.read(addr, 4).readUInt32LE(0);
  if (usize > PAGE_SIZE) fail(E.E2BIG);
  if (usize < MNT_ID_REQ_SIZE_VER0) fail(E.EINVAL);
  if (usize > MNT_ID_REQ_SIZE_LATEST && t.mm.read(addr + MNT_ID_REQ_SIZE_LATEST, usize - MNT_ID_REQ_SIZE_LATEST).some((b) => b !== 0)) fail(E.E2BIG);
  const b = Buffer.alloc(MNT_ID_REQ_SIZE_LATEST);
  t.mm.read(addr, Math.min(usize, MNT_ID_REQ_SIZE_LATEST)).copy(b);
  const req = { nsFd: b.readUInt32LE(4), mntId: b.readBigUInt64LE(8), param: b.readBigUInt64LE(16), nsId: b.readBigUInt64LE(24) };
  if (req.nsFd !== 0 && req.nsId !== 0n) fail(E.EINVAL);
  if (req.mntId <= MNT_UNIQUE_ID_OFFSET) fail(E.EINVAL);
  return req;
}

/** grab_requested_mnt_ns: the namespace by id (ENOENT but the guest's), by fd (EBADF; EINVAL for what is not a mount namespace's), or the caller's */
function checkNs(t: Task, req: MntIdReq): void {
  if (req.nsId !== 0n) {
    if (req.nsId !== GUEST_MNT_NS_ID) fail(E.ENOENT);
  } else if (req.nsFd !== 0) {
    const f = t.fds.file(req.nsFd);
    if (!(f instanceof NsFile) || !f.node.key.startsWith('mnt:')) fail(E.EINVAL);
  }
}

const uniqueId = (e: MountEntry): bigint => MNT_UNIQUE_ID_OFFSET + BigInt(e.id);

function findEntry(entries: MountEntry[], id: bigint): MountEntry {
  const e = entries.find((x) => uniqueId(x) === id);
  return e ?? fail(E.ENOENT);
}

/** the caller's root's mount point, to which statmount's mnt_point and listmount's LSMT_ROOT are relative */
const rootPath = (t: Task): string => t.kernel.vfs.rootFor(t).path;

function statmount(t: Task, reqAddr: number, buf: number, bufsize: number, flags: number): number {
  if (flags !== 0) fail(E.EINVAL);
  const req = mntIdReq(t, reqAddr);
  checkNs(t, req);
  // no statmount bit lies above 32
  const mask = Number(req.param & 0xffffffffn);
  if (mask & STRING_REQ && bufsize === STATMOUNT_SIZE) fail(E.EOVERFLOW);
  const entries = mountEntries(t.kernel.vfs);
  const e = findEntry(entries, req.mntId);
  const sm = Buffer.alloc(STATMOUNT_SIZE);
  let got = 0;
  // the strings start with a NUL, so that no string is at offset 0 (as Linux 6.18 lays them out)
  const strs: Buffer[] = mask & STRING_REQ ? [Buffer.alloc(1)] : [];
  let count = strs.length;
  /** statmount_string: a string after the struct (its offset in the field), none when empty; EOVERFLOW when it and a NUL do not fit */
  const str = (bit: number, off: number, s: string): void => {
    const b = Buffer.from(s, 'latin1');
    if (b.length === 0) return;
    if (STATMOUNT_SIZE + count + b.length >= bufsize) fail(E.EOVERFLOW);
    sm.writeUInt32LE(count, off);
    strs.push(b, Buffer.alloc(1));
    count += b.length + 1;
    got |= bit;
  };
  if (mask & SM.SB_BASIC) {
    const [maj, min] = e.dev.split(':').map(Number);
    sm.writeUInt32LE(maj, OFF.sb_dev_major);
    sm.writeUInt32LE(min, OFF.sb_dev_minor);
    sm.writeBigUInt64LE(magicOf(t, e), OFF.sb_magic);
    const so = e.superOpts.split(',');
    sm.writeUInt32LE(SB_FLAGS.reduce((f, [n, v]) => (so.includes(n) ? f | v : f), 0) >>> 0, OFF.sb_flags);
    got |= SM.SB_BASIC;
  }
  if (mask & SM.MNT_BASIC) {
    const parent = entries.find((x) => x.id === e.parent);
    sm.writeBigUInt64LE(uniqueId(e), OFF.mnt_id);
    sm.writeBigUInt64LE(parent !== undefined ? uniqueId(parent) : MNT_UNIQUE_ID_OFFSET + BigInt(e.parent), OFF.mnt_parent_id);
    sm.writeUInt32LE(e.id, OFF.mnt_id_old);
    sm.writeUInt32LE(e.parent, OFF.mnt_parent_id_old);
    sm.writeBigUInt64LE(BigInt(attrOf(e.opts)), OFF.mnt_attr);
    sm.writeBigUInt64LE(BigInt(e.unbindable ? MS_UNBINDABLE : MS_PRIVATE), OFF.mnt_propagation);
    // no shared or slave mounts: no peer group, no master
    got |= SM.MNT_BASIC;
  }
  if (mask & SM.PROPAGATE_FROM) got |= SM.PROPAGATE_FROM;
  const [type, subtype] = splitType(e.type);
  const opts = e.superOpts.split(',').slice(1);
  if (mask & SM.FS_TYPE) str(SM.FS_TYPE, OFF.fs_type, type);
  if (mask & SM.MNT_ROOT) str(SM.MNT_ROOT, OFF.mnt_root, e.root);
  if (mask & SM.MNT_POINT) str(SM.MNT_POINT, OFF.mnt_point, pointFrom(rootPath(t), e.point));
  if (mask & SM.MNT_OPTS) str(SM.MNT_OPTS, OFF.mnt_opts, opts.join(','));
  if (mask & SM.OPT_ARRAY) {
    sm.writeUInt32LE(opts.length, OFF.opt_num);
    // the options one after another, each NUL-terminated (the last by str)
    str(SM.OPT_ARRAY, OFF.opt_array, opts.join('\0'));
  }
  // no security module gives options (OPT_SEC_ARRAY), no idmapped mounts (MNT_UIDMAP, MNT_GIDMAP): nothing to show
  if (mask & SM.FS_SUBTYPE) str(SM.FS_SUBTYPE, OFF.fs_subtype, subtype);
  if (mask & SM.SB_SOURCE) str(SM.SB_SOURCE, OFF.sb_source, e.source);
  if (mask & SM.MNT_NS_ID) {
    sm.writeBigUInt64LE(GUEST_MNT_NS_ID, OFF.mnt_ns_id);
    got |= SM.MNT_NS_ID;
  }
  if (mask & SM.SUPPORTED_MASK) {
    sm.writeBigUInt64LE(BigInt(STATMOUNT_SUPPORTED), OFF.supported_mask);
    got |= SM.SUPPORTED_MASK;
  }
  // copy_statmount_to_user: the strings, then as much of the struct as fits, its size what was written
  const copysize = Math.min(bufsize, STATMOUNT_SIZE);
  sm.writeBigUInt64LE(BigInt(got), OFF.mask);
  sm.writeUInt32LE(copysize + count, OFF.size);
  if (count > 0) t.mm.write(buf + STATMOUNT_SIZE, Buffer.concat(strs));
  if (copysize > 0) t.mm.write(buf, sm.subarray(0, copysize));
  return 0;
}

/** a mount's MOUNT_ATTR_* flags from its options (relatime is 0; neither relatime nor noatime: strictatime) */
function attrOf(opts: string): number {
  const o = opts.split(',');
  let a = ATTR.reduce((f, [n, v]) => (o.includes(n) ? f | v : f), 0);
  if (!o.includes('relatime') && !o.includes('noatime')) a |= MOUNT_ATTR_STRICTATIME;
  return a;
}

/** "fuse.sshfs": type fuse, subtype sshfs (mountinfo joins them) */
function splitType(t: string): [string, string] {
  const i = t.indexOf('.');
  return i < 0 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)];
}

/** a mount point relative to the caller's root */
const pointFrom = (root: string, p: string): string => (root === '/' ? p : p === root ? '/' : p.slice(root.length));

/** the superblock's magic: its file system's statfs f_type, through the guest's path to the mount */
function magicOf(t: Task, e: MountEntry): bigint {
  const m = e.mount;
  let node = m.top;
  if (e.host) {
    try {
      node = t.kernel.vfs.resolve(t, t.kernel.vfs.root, e.point, false).node;
    } catch {
      return 0n;
    }
  }
  return Buffer.from(m.fs.statfs(t, node)).readBigUInt64LE(0);
}

const STATX_MNT_ID = 0x1000;
const STATX_MNT_ID_UNIQUE = 0x4000;

/**
 * statx's mount id (struct statx at out, as written) for the file at loc:
 * the unique id when asked for (STATX_MNT_ID_UNIQUE), else the mountinfo id
 * (STATX_MNT_ID, which Linux always gives). A host file below a host mount
 * that mountinfo shows under a guest mount of a host directory is in that
 * mount when the id is asked for; otherwise it counts as in the guest mount.
 * No place (a pipe's, a socket's): the struct is left as it is.
 */
export function statxMountId(t: Task, out: number, loc: Loc | null, mask: number): void {
  if (loc === null) return;
  let id = loc.mnt.id;
  if (mask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE) && loc.mnt.fs instanceof HostFs) {
    let best = '';
    for (const e of mountEntries(t.kernel.vfs)) {
      if (e.mount === loc.mnt && under(loc.path, e.point) && e.point.length >= best.length) {
        best = e.point;
        id = e.id;
      }
    }
  }
  const got = t.mm.read(out, 4).readUInt32LE(0) & ~(STATX_MNT_ID | STATX_MNT_ID_UNIQUE);
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(mask & STATX_MNT_ID_UNIQUE ? MNT_UNIQUE_ID_OFFSET + BigInt(id) : BigInt(id));
  t.mm.write(out + 144, b);
  const m = Buffer.alloc(4);
  m.writeUInt32LE((got | (mask & STATX_MNT_ID_UNIQUE ? STATX_MNT_ID_UNIQUE : STATX_MNT_ID)) >>> 0);
  t.mm.write(out, m);
}

function listmount(t: Task, reqAddr: number, idsAddr: number, nr: number, flags: number): number {
  if (flags & ~LISTMOUNT_REVERSE) fail(E.EINVAL);
  if (nr > LISTMOUNT_MAX) fail(E.EOVERFLOW);
  const req = mntIdReq(t, reqAddr);
  const last = req.param;
  if (last !== 0n && last <= MNT_UNIQUE_ID_OFFSET) fail(E.EINVAL);
  checkNs(t, req);
  const entries = mountEntries(t.kernel.vfs);
  const byId = new Map(entries.map((e) => [e.id, e]));
  let below: (e: MountEntry) => boolean;
  if (req.mntId === LSMT_ROOT) {
    // every mount at or below the caller's root
    const root = rootPath(t);
    below = (e) => under(e.point, root);
  } else {
    // the mounts below the given one (not itself), by their parents
    const top = findEntry(entries, req.mntId);
    below = (e) => {
      if (e === top) return false;
      for (let p = byId.get(e.parent), n = 0; p !== undefined && n < entries.length; p = p.id === p.parent ? undefined : byId.get(p.parent), n++) if (p === top) return true;
      return false;
    };
  }
  const reverse = (flags & LISTMOUNT_REVERSE) !== 0;
  const ids = entries
    .filter((e) => below(e) && (last === 0n || (reverse ? uniqueId(e) < last : uniqueId(e) > last)))
    .map(uniqueId)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (reverse) ids.reverse();
  const out = ids.slice(0, nr);
  if (out.length === 0) return 0;
  const b = Buffer.alloc(out.length * 8);
  out.forEach((id, i) => b.writeBigUInt64LE(id, i * 8));
  t.mm.write(idsAddr, b);
  return out.length;
}

const NOTE_IDS = 'the mounts, ids and fields of /proc/<pid>/mountinfo: unique ids are 2^31 plus the mountinfo id; the guest has one mount namespace (mnt_ns_id 1, or a mount namespace fd); ';

// struct mnt_id_req and struct statmount are shown by address (strace 6.10 decodes them)
export const statmountDefs: Record<string, Def> = {
  statmount: partial(
    ['ptr', 'ptr', 'size', 'hex'],
    (t, a) => statmount(t, a.ptr(0), a.ptr(1), a.size(2), a.u32(3)),
    NOTE_IDS +
      'SB_BASIC, MNT_BASIC (every mount private or unbindable: no peer groups or masters), PROPAGATE_FROM (0), MNT_ROOT, MNT_POINT, FS_TYPE, FS_SUBTYPE, MNT_NS_ID, MNT_OPTS, OPT_ARRAY, SB_SOURCE, SUPPORTED_MASK; ' +
      'no security module options (OPT_SEC_ARRAY) and no idmapped mounts (MNT_UIDMAP/GIDMAP) to show; no EPERM for a mount outside a chroot',
  ),
  listmount: partial(
    ['ptr', 'ptr', 'size', 'hex'],
    (t, a) => listmount(t, a.ptr(0), a.ptr(1), a.size(2), a.u32(3)),
    NOTE_IDS + 'LSMT_ROOT (the mounts at or below the caller\'s root), the mounts below a given one, after a given id, LISTMOUNT_REVERSE',
  ),
};
