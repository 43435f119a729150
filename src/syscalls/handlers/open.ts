// open(2), openat(2), creat(2) and openat2(2): the path walk to a file (or
// its creation), and the new fd. openat2 takes a versioned struct open_how,
// checks every flag strictly, and puts RESOLVE_* constraints on the walk
// (fs/vfs.ts applies them at each step: mounts, `..`, symlinks, magic links,
// absolute paths).
import type { Task } from '../../proc/task.js';
import { childPath, RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, type Loc, type Scope, type Walk } from '../../fs/vfs.js';
import { PathFile, type FileDescription } from '../../fs/file.js';
import { IN_MODIFY } from '../../abi/inotify.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, W_OK, X_OK } from '../../abi/stat.js';
import { openShape } from '../signature.js';
import { OPEN_FLAGS } from '../../fs/flags.js';
import {
  AT_FDCWD, O_ACCMODE, O_APPEND, O_ASYNC, O_CLOEXEC, O_CREAT, O_DSYNC, O_EXCL, O_NOATIME, O_NOCTTY, O_NONBLOCK, O_PATH, O_RDONLY, O_SYNC, O_TMPFILE_BASE, O_TRUNC, O_WRONLY,
} from '../../abi/fcntl.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { breakLease } from './locks.js';
import { denyWriteIfRunning, lookupAt, pathArg, startLoc, supported, type Def } from './util.js';

/** A name that open(O_CREAT) may not create: "/", "." and "..". */
const special = (name: string): boolean => name === '' || name === '.' || name === '..';

function openFile(t: Task, dirfd: number, path: Buffer, flags: number, mode: number, links: Walk = { n: 0 }, from?: Loc): FileDescription {
  const vfs = t.kernel.vfs;
  // (dirfd, path) to a place, under the walk's RESOLVE_* constraints if any (openat2)
  const lookup = (follow: boolean): Loc => {
    if (links.scope === undefined) return lookupAt(t, dirfd, path, follow);
    t.vfs.lookups.epoch++;
    const p = path.toString('latin1');
    if (p === '') fail(E.ENOENT);
    return vfs.resolve(t, p.startsWith('/') ? vfs.absStart(t, links) : startLoc(t, dirfd), p, follow, links);
  };
  const a = OPEN_FLAGS[t.arch.name];
  const nofollow = (flags & a.O_NOFOLLOW) !== 0;
  const acc = flags & O_ACCMODE;
  const wantWrite = acc !== O_RDONLY || (flags & O_TRUNC) !== 0;
  if (flags & O_TMPFILE_BASE) {
    // O_TMPFILE is __O_TMPFILE|O_DIRECTORY, for writing: an unnamed file in that directory
    if (!(flags & a.O_DIRECTORY) || acc === O_RDONLY || flags & O_CREAT) fail(E.EINVAL);
    const dir = lookup(true);
    if (dir.node.type !== S_IFDIR) fail(E.ENOTDIR);
    vfs.writable(dir);
    return dir.node.tmpfile(t, flags & ~(O_CLOEXEC | O_TRUNC), mode & 0o7777 & ~t.umask, dir);
  }
  if (flags & O_CREAT && flags & a.O_DIRECTORY) fail(E.EINVAL);
  let loc: Loc;
  if (!(flags & O_CREAT)) {
    loc = lookup(!nofollow);
  } else {
    const begin = (p: string): Loc => (p.startsWith('/') ? vfs.absStart(t, links) : from ?? startLoc(t, dirfd));
    const p = path.toString('latin1');
    if (p === '') fail(E.ENOENT);
    const { dir, name, trailing } = vfs.parent(t, begin(p), p, links);
    if (special(name) || trailing) fail(E.EISDIR);
    const found = vfs.tryChild(t, dir, name, links.scope);
    if (found === null) {
      vfs.writable(dir);
      if (!dir.node.fs.hostChecked) vfs.permission(t, dir, W_OK | X_OK);
      const made = dir.node.create(t, name, flags & ~O_CLOEXEC, mode & 0o7777 & ~t.umask, { mnt: dir.mnt, node: dir.node, path: childPath(dir.path, name) });
      // the description's place is the new file's own, not its directory's (fchmodat2, fchownat, utimensat with
      // AT_EMPTY_PATH, fchdir, inotify events all act on made.loc)
      made.loc = vfs.tryChild(t, dir, name, links.scope) ?? made.loc;
      made.createdFile = true;
      vfs.notify.created(dir, name, false);
      return made;
    }
    if (flags & O_EXCL) fail(E.EEXIST);
    loc = found;
    if (loc.node.type === S_IFLNK) {
      if (nofollow) fail(E.ELOOP);
      const j = vfs.jumpOf(t, dir, loc, links);
      if (j !== null) loc = j;
      else {
        // O_CREAT through a symlink creates its target, if missing
        const target = loc.node.readlink(t);
        if (target.length === 0) fail(E.ENOENT);
        return openFile(t, -1, target, flags, mode, links, dir);
      }
    }
  }
  const type = loc.node.type;
  if (type === S_IFLNK && !(flags & O_PATH)) fail(E.ELOOP);
  if (flags & a.O_DIRECTORY && type !== S_IFDIR) fail(E.ENOTDIR);
  if (flags & O_PATH) return new PathFile(loc.node, flags & ~O_CLOEXEC, loc);
  if (type === S_IFDIR && wantWrite) fail(E.EISDIR);
  // a device node on a nodev mount does not open
  if ((type === S_IFCHR || type === S_IFBLK) && loc.mnt.opts.nodev === true) fail(E.EACCES);
  if (wantWrite && (type === S_IFREG || type === S_IFDIR)) vfs.writable(loc);
  if (wantWrite && type === S_IFREG) denyWriteIfRunning(t, loc);
  // a lease it conflicts with is broken first (break_lease)
  if (type === S_IFREG) breakLease(t, loc, wantWrite, (flags & O_NONBLOCK) !== 0);
  const f = loc.node.open(t, flags & ~(O_CLOEXEC | O_CREAT | O_EXCL), loc);
  // an O_TRUNC open of an existing file reports a modification, as do_truncate's notify_change does
  if (flags & O_TRUNC && type === S_IFREG && wantWrite) vfs.notify.onFile(t, loc, IN_MODIFY);
  return f;
}

function openAt(t: Task, dirfd: number, pathAddr: number, flags: number, mode: number): number {
  // open(2) and openat(2) force O_LARGEFILE on 64-bit, O_PATH included
  return openAtPath(t, dirfd, pathArg(t, pathAddr), flags, mode, undefined, true);
}

/** Open (dirfd, path) into a new fd (openat, and openat2 in ./openat2.ts); `largefile`: F_GETFL shows O_LARGEFILE whatever the flags (open, openat). */
function openAtPath(t: Task, dirfd: number, path: Buffer, flags: number, mode: number, scope: Scope | undefined, largefile: boolean): number {
  const file = openFile(t, dirfd, path, flags, mode, { n: 0, scope });
  // what F_GETFL and fdinfo show: no creation flags
  file.flags = (flags & ~(O_CLOEXEC | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)) | (largefile ? OPEN_FLAGS[t.arch.name].O_LARGEFILE : 0);
  let fd: number;
  try {
    fd = t.fds.add(file, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    file.release();
    throw e;
  }
  // IN_OPEN for inotify watches on in-memory files (an O_PATH open is no open for them)
  if (!(flags & O_PATH)) t.kernel.vfs.notify.opened(t, file);
  return fd;
}

/** struct open_how's size in its first version (flags, mode, resolve: three u64s) */
const OPEN_HOW_SIZE_VER0 = 24;
const PAGE_SIZE = 4096;
const VALID_RESOLVE = 0x3f;

/** The open flags openat2 accepts (Linux's VALID_OPEN_FLAGS): others are EINVAL, not ignored as open(2) ignores them. */
function validOpenFlags(t: Task): number {
  const a = OPEN_FLAGS[t.arch.name];
  return (
    O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE_BASE |
    a.O_DIRECT | a.O_LARGEFILE | a.O_DIRECTORY | a.O_NOFOLLOW
  );
}

/**
 * openat2: struct open_how read with copy_struct_from_user's size rules
 * (EINVAL below version 0's 24 bytes, E2BIG past a page or for non-zero
 * bytes beyond what Linux knows), build_open_flags' strict checks, then the
 * open with the RESOLVE_* constraints on every step of the walk (fs/vfs.ts).
 * Every lookup counts as cached for RESOLVE_CACHED: elfrun's walks never
 * block, so Linux's EAGAIN for a lookup that would is never needed.
 */
function openat2(t: Task, dirfd: number, pathAddr: number, howAddr: number, size: number): number {
  if (size < OPEN_HOW_SIZE_VER0) fail(E.EINVAL);
  if (size > PAGE_SIZE) fail(E.E2BIG);
  if (size > OPEN_HOW_SIZE_VER0 && t.mm.read(howAddr + OPEN_HOW_SIZE_VER0, size - OPEN_HOW_SIZE_VER0).some((b) => b !== 0)) fail(E.E2BIG);
  const how = t.mm.read(howAddr, OPEN_HOW_SIZE_VER0);
  const flags64 = how.readBigUInt64LE(0);
  const mode64 = how.readBigUInt64LE(8);
  const resolve64 = how.readBigUInt64LE(16);
  const a = OPEN_FLAGS[t.arch.name];
  // O_LARGEFILE is implied on 64-bit, except with O_PATH (where it is EINVAL)
  let flags = Number(flags64 & 0xffffffffn);
  if (flags64 >> 32n !== 0n || (flags & ~O_CLOEXEC & ~validOpenFlags(t)) !== 0) fail(E.EINVAL);
  if (!(flags & O_PATH)) flags |= a.O_LARGEFILE;
  if (resolve64 & ~BigInt(VALID_RESOLVE)) fail(E.EINVAL);
  const resolve = Number(resolve64);
  if (resolve & RESOLVE_BENEATH && resolve & RESOLVE_IN_ROOT) fail(E.EINVAL);
  if (flags & (O_CREAT | O_TMPFILE_BASE)) {
    if (mode64 & ~0o7777n) fail(E.EINVAL);
  } else if (mode64 !== 0n) fail(E.EINVAL);
  if (flags & O_CREAT && flags & a.O_DIRECTORY) fail(E.EINVAL);
  if (flags & O_TMPFILE_BASE && (!(flags & a.O_DIRECTORY) || (flags & O_ACCMODE) === O_RDONLY)) fail(E.EINVAL);
  if (flags & O_PATH && flags & ~(a.O_DIRECTORY | a.O_NOFOLLOW | O_PATH | O_CLOEXEC)) fail(E.EINVAL);
  if (resolve & RESOLVE_CACHED && flags & (O_TRUNC | O_CREAT | O_TMPFILE_BASE)) fail(E.EAGAIN);
  const path = pathArg(t, pathAddr);
  const p = path.toString('latin1');
  // a scoped walk's root: the dirfd's directory (or the cwd); RESOLVE_BENEATH refuses an absolute path before looking at dirfd
  const scoped = resolve & RESOLVE_IN_ROOT || (resolve & RESOLVE_BENEATH && !p.startsWith('/'));
  const root = scoped && p !== '' ? startLoc(t, dirfd) : null;
  return openAtPath(t, dirfd, path, flags, Number(mode64), { flags: resolve, root }, false);
}

export const openDefs: Record<string, Def> = {
  openat: supported(openShape(true), (t, a) => openAt(t, a.i32(0), a.ptr(1), a.i32(2), a.u32(3))),
  open: supported(openShape(false), (t, a) => openAt(t, AT_FDCWD, a.ptr(0), a.i32(1), a.u32(2))),
  creat: supported({ args: ['path', 'mode'], ret: 'fd' }, (t, a) => openAt(t, AT_FDCWD, a.ptr(0), O_CREAT | O_WRONLY | O_TRUNC, a.u32(1))),
  openat2: supported(
    { args: ['dirfd', 'path', 'openhow', 'size'], ret: 'fd' },
    (t, a) => openat2(t, a.i32(0), a.ptr(1), a.ptr(2), a.size(3)),
    'RESOLVE_CACHED never gives EAGAIN for a lookup itself: every walk counts as cached (it does for O_CREAT, O_TRUNC, O_TMPFILE, as Linux)',
  ),
};
