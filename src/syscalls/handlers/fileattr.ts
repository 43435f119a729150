// file_getattr and file_setattr (Linux 6.17): a file's struct file_attr
// (the FS_IOC_FSGETXATTR/FSSETXATTR attributes: xflags, extent sizes,
// project id) by (dirfd, path, AT_* flags). A host file's are the host file
// system's, through the host's ioctls, with the guest's permission checks;
// elfrun's tmpfs keeps none (every attribute 0), as a Linux tmpfs file no
// one has changed.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import { AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_NONBLOCK, OPEN_FLAGS_X86_64 } from '../../abi/fcntl.js';
import { S_IFDIR, S_IFREG } from '../../abi/stat.js';
import { host } from '../../host/libc.js';
import { HostNode } from '../../fs/hostfs.js';
import { TmpFs } from '../../fs/tmpfs.js';
import { hostScratch } from '../../fs/transfer.js';
import type { Loc } from '../../fs/vfs.js';
import { chk, partial, type Def } from './util.js';
import { atPlace } from './xattr.js';

/** struct file_attr {u64 fa_xflags; u32 fa_extsize, fa_nextents, fa_projid, fa_cowextsize}: version 0 and the latest are 24 bytes */
const FILE_ATTR_SIZE_VER0 = 24;
const PAGE_SIZE = 4096;
/** the FS_XFLAG_* bits Linux knows (FS_XFLAG_REALTIME ... FS_XFLAG_COWEXTSIZE, FS_XFLAG_HASATTR): others are EINVAL */
const FS_XFLAGS_VALID = 0x1fffbn | 0x80000000n;
const FS_XFLAG_IMMUTABLE = 0x8;
const FS_XFLAG_APPEND = 0x10;
/** _IOR/_IOW('X', 31/32, struct fsxattr) (28 bytes: the five fields, 8 bytes of padding) */
const FS_IOC_FSGETXATTR = 0x801c581f;
const FS_IOC_FSSETXATTR = 0x401c5820;
const FSXATTR_SIZE = 28;
const CAP_FOWNER = 1n << 3n;
const CAP_LINUX_IMMUTABLE = 1n << 9n;

/** The five fields: xflags, extsize, nextents, projid, cowextsize. */
type Attr = [number, number, number, number, number];

const AT_FLAGS = AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH;

/** the checks both calls make first: the AT_* flags, then the struct's size */
function checkArgs(atFlags: number, usize: number): void {
  if (atFlags & ~AT_FLAGS) fail(E.EINVAL);
  if (usize > PAGE_SIZE) fail(E.E2BIG);
  if (usize < FILE_ATTR_SIZE_VER0) fail(E.EINVAL);
}

/**
 * The file system's answer for the file at loc, or EOPNOTSUPP where it has
 * none (vfs_fileattr_get without an inode operation): only regular files
 * and directories have them on the host's file systems and tmpfs; /proc,
 * sysfs and the like have none.
 */
type Where = { kind: 'host'; path: Buffer } | { kind: 'tmpfs' };
function whereOf(loc: Loc): Where {
  const type = loc.node.type;
  if (type !== S_IFREG && type !== S_IFDIR) fail(E.EOPNOTSUPP);
  if (loc.node instanceof HostNode) return { kind: 'host', path: loc.node.fs.hp(loc.node.path) };
  if (loc.node.fs instanceof TmpFs) return { kind: 'tmpfs' };
  return fail(E.EOPNOTSUPP);
}

/** The host file's struct fsxattr through FS_IOC_FSGETXATTR, or (attr given) set through FS_IOC_FSSETXATTR, on a read-only open of it. */
function hostIoctl(path: Buffer, attr: Attr | null): Attr {
  const fd = chk(host.openat(-100, path, O_NONBLOCK | O_CLOEXEC | OPEN_FLAGS_X86_64.O_NOFOLLOW, 0));
  try {
    const s = hostScratch();
    if (attr !== null) {
      s.bytes.fill(0, 0, FSXATTR_SIZE);
      attr.forEach((v, i) => s.dv.setUint32(i * 4, v >>> 0, true));
    }
    const r = host.ioctl(fd, attr === null ? FS_IOC_FSGETXATTR : FS_IOC_FSSETXATTR, s.addr);
    // no fileattr operation on the host's file system: EOPNOTSUPP, as the syscall answers
    if (r === -E.ENOTTY) fail(E.EOPNOTSUPP);
    chk(r);
    return [0, 1, 2, 3, 4].map((i) => s.dv.getUint32(i * 4, true)) as Attr;
  } finally {
    host.close(fd);
  }
}

function getAttr(loc: Loc): Attr {
  const w = whereOf(loc);
  return w.kind === 'host' ? hostIoctl(w.path, null) : [0, 0, 0, 0, 0];
}

function fileGetattr(t: Task, dfd: number, pathAddr: number, out: number, usize: number, atFlags: number): number {
  checkArgs(atFlags, usize);
  const a = getAttr(atPlace(t, dfd, pathAddr, atFlags, true));
  // copy_struct_to_user: a larger struct's tail is zeroed
  const b = Buffer.alloc(usize);
  b.writeBigUInt64LE(BigInt(a[0]), 0);
  for (let i = 1; i < 5; i++) b.writeUInt32LE(a[i], 4 + i * 4);
  t.mm.write(out, b);
  return 0;
}

function fileSetattr(t: Task, dfd: number, pathAddr: number, addr: number, usize: number, atFlags: number): number {
  checkArgs(atFlags, usize);
  // copy_struct_from_user, then file_attr_to_fileattr's check of the flags
  if (usize > FILE_ATTR_SIZE_VER0 && t.mm.read(addr + FILE_ATTR_SIZE_VER0, usize - FILE_ATTR_SIZE_VER0).some((x) => x !== 0)) fail(E.E2BIG);
  const b = t.mm.read(addr, FILE_ATTR_SIZE_VER0);
  const xflags = b.readBigUInt64LE(0);
  if (xflags & ~FS_XFLAGS_VALID) fail(E.EINVAL);
  const want: Attr = [Number(xflags), b.readUInt32LE(8), 0, b.readUInt32LE(16), b.readUInt32LE(20)];
  const loc = atPlace(t, dfd, pathAddr, atFlags, true);
  t.kernel.vfs.writable(loc);
  const w = whereOf(loc);
  // vfs_fileattr_set: the owner or CAP_FOWNER; changing immutable or append-only takes CAP_LINUX_IMMUTABLE
  const caps = t.cred.caps.eff;
  if (t.cred.fsuid !== loc.node.owner(t).uid && !(caps & CAP_FOWNER)) fail(E.EPERM);
  const old = getAttr(loc);
  if ((old[0] ^ want[0]) & (FS_XFLAG_IMMUTABLE | FS_XFLAG_APPEND) && !(caps & CAP_LINUX_IMMUTABLE)) fail(E.EPERM);
  if (w.kind === 'host') {
    hostIoctl(w.path, want);
    return 0;
  }
  if (want.every((v) => v === 0)) return 0;
  throw new Unsupported('file attributes (xflags, extent sizes, project ids) on elfrun\'s tmpfs', E.EOPNOTSUPP);
}

const NOTE =
  'host files: the host file system\'s struct fsxattr (FS_IOC_FSGETXATTR/FSSETXATTR on a read-only open of the file, so one elfrun itself may not read gives the host\'s EACCES), with the guest\'s owner and CAP_LINUX_IMMUTABLE checks; ' +
  'tmpfs: every attribute 0, and setting any is reported as unsupported (Linux\'s tmpfs keeps append-only, immutable, nodump, noatime); ' +
  'symlinks, special files and /proc, sysfs and the like: EOPNOTSUPP, as Linux';

// struct file_attr is shown by address (strace 6.17 decodes it)
export const fileattrDefs: Record<string, Def> = {
  file_getattr: partial(['dirfd', 'path', 'ptr', 'size', 'atflags'], (t, a) => fileGetattr(t, a.i32(0), a.ptr(1), a.ptr(2), a.size(3), a.u32(4)), NOTE),
  file_setattr: partial(['dirfd', 'path', 'ptr', 'size', 'atflags'], (t, a) => fileSetattr(t, a.i32(0), a.ptr(1), a.ptr(2), a.size(3), a.u32(4)), NOTE),
};
