// fcntl(2), and the ioctls of signal-driven I/O (FIOASYNC; on sockets
// FIOSETOWN/FIOGETOWN, SIOCSPGRP/SIOCGPGRP): status flags, record locks and
// leases (locks.ts), seals (fs/memfd.ts), pipe sizes, and the O_ASYNC owner
// and signal of an open-file description (fs/fasync.ts, sent by proc/sigio.ts),
// as Linux's fs/fcntl.c.
import type { Task } from '../../proc/task.js';
import type { FileDescription } from '../../fs/file.js';
import { OPEN_FLAGS, toHostOpenFlags } from '../../fs/flags.js';
import { FOwner, setAsync, type OwnerType } from '../../fs/fasync.js';
import { dnotify, dnotifyFlush } from '../../fs/dnotify.js';
import { PathFile } from '../../fs/file.js';
import { S_IFDIR, S_IFMT } from '../../abi/stat.js';
import { statFields } from '../../fs/stat.js';
import { ownerAlive, pidExists, sigioSender } from '../../proc/sigio.js';
import {
  F_ADD_SEALS,
  F_CREATED_QUERY,
  F_DUPFD_QUERY,
  F_GET_RW_HINT,
  F_SET_RW_HINT,
  F_DUPFD,
  F_DUPFD_CLOEXEC,
  F_GET_SEALS,
  F_GETFD,
  F_GETFL,
  F_GETLK,
  F_GETLEASE,
  F_GETOWN,
  F_GETOWN_EX,
  F_GETPIPE_SZ,
  F_GETSIG,
  F_NOTIFY,
  F_OFD_GETLK,
  F_OFD_SETLK,
  F_OFD_SETLKW,
  F_OWNER_PGRP,
  F_OWNER_PID,
  F_OWNER_TID,
  F_SETFD,
  F_SETFL,
  F_SETLK,
  F_SETLEASE,
  F_SETLKW,
  F_SETOWN,
  F_SETOWN_EX,
  F_SETPIPE_SZ,
  F_SETSIG,
  FD_CLOEXEC,
  DN_MULTISHOT,
  O_APPEND,
  O_ASYNC,
  O_NOATIME,
  O_NONBLOCK,
} from '../../abi/fcntl.js';
import { FIOASYNC, FIOGETOWN, FIOSETOWN, SIOCGPGRP, SIOCSPGRP } from '../../abi/ioctl.js';
import { PROT_WRITE } from '../../abi/mman.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import type { Args } from '../../cpu/args.js';
import { fcntlLock, getLease, setLease } from './locks.js';
import { addSeals, getSeals } from '../../fs/memfd.js';

const INT_MIN = -0x80000000;
/** valid_signal: the highest signal number */
const NSIG = 64;
const OWNER_TYPES: readonly OwnerType[] = ['tid', 'pid', 'pgrp'];

/** __f_setown: the owner and who set it (its ids are taken only for a real owner, as f_modown does) */
function setOwner(t: Task, f: FileDescription, pid: number, type: OwnerType): void {
  const o = (f.owner ??= new FOwner());
  o.pid = pid;
  o.type = type;
  if (pid !== 0) {
    o.uid = t.cred.ruid;
    o.euid = t.cred.euid;
  }
}

/** f_setown: a pid, or a process group as a negative number */
function fSetown(t: Task, f: FileDescription, who: number): number {
  if (who === INT_MIN) fail(E.EINVAL);
  const type: OwnerType = who < 0 ? 'pgrp' : 'pid';
  const pid = Math.abs(who);
  if (pid !== 0 && !pidExists(t.kernel, pid)) fail(E.ESRCH);
  setOwner(t, f, pid, type);
  return 0;
}

/** f_getown: the owner while it exists (a process group negative), else 0 */
function fGetown(t: Task, f: FileDescription): number {
  const o = f.owner;
  if (o === null || !ownerAlive(t.kernel, o)) return 0;
  return o.type === 'pgrp' ? -o.pid : o.pid;
}

function setOwnerEx(t: Task, f: FileDescription, addr: number): number {
  const b = t.mm.read(addr, 8);
  const type = OWNER_TYPES[b.readInt32LE(0)];
  if (type === undefined) fail(E.EINVAL);
  const pid = b.readInt32LE(4);
  if (pid !== 0 && (pid < 0 || !pidExists(t.kernel, pid))) fail(E.ESRCH);
  setOwner(t, f, pid, type);
  return 0;
}

function getOwnerEx(t: Task, f: FileDescription, addr: number): number {
  t.mm.check(addr, 8, PROT_WRITE);
  const o = f.owner;
  const b = Buffer.alloc(8);
  b.writeInt32LE(o === null ? F_OWNER_TID : o.type === 'tid' ? F_OWNER_TID : o.type === 'pid' ? F_OWNER_PID : F_OWNER_PGRP, 0);
  b.writeInt32LE(o !== null && ownerAlive(t.kernel, o) ? o.pid : 0, 4);
  t.mm.write(addr, b);
  return 0;
}

/** O_ASYNC on or off through fd: only a file with Linux's ->fasync keeps the flag (setfl, ioctl_fioasync) */
function turnAsync(t: Task, f: FileDescription, fd: number, on: boolean): boolean {
  if (!setAsync(t, f, fd, on, sigioSender(t.kernel))) return false;
  f.flags = on ? f.flags | O_ASYNC : f.flags & ~O_ASYNC;
  return true;
}

/** fcntl_dirnotify: no events ends the registration (on any file); events need a directory, and make the caller the owner if there is none */
function fNotify(t: Task, f: FileDescription, fd: number, arg: number): number {
  if ((arg & ~DN_MULTISHOT) === 0) {
    dnotifyFlush(f, t.fds);
    return 0;
  }
  // the description's own file (a host file's loc may be where it was created)
  if (f.loc === null || (statFields(f.statBytes(t)).mode & S_IFMT) !== S_IFDIR) fail(E.ENOTDIR);
  if (f.owner === null || f.owner.pid === 0) setOwner(t, f, t.pid, 'pid');
  dnotify(t, f, t.fds, fd, arg, sigioSender(t.kernel));
  return 0;
}

/** The signal-driven I/O ioctls, answered for every file; null for other requests. */
export function asyncIoctl(t: Task, f: FileDescription, fd: number, req: number, arg: number): number | null {
  switch (req) {
    case FIOASYNC: {
      const on = t.mm.i32(arg) !== 0;
      if (on === ((f.flags & O_ASYNC) !== 0)) return 0;
      return turnAsync(t, f, fd, on) ? 0 : fail(E.ENOTTY);
    }
    case FIOSETOWN:
    case SIOCSPGRP:
      if (f.fasyncStyle !== 'socket') return null;
      return fSetown(t, f, t.mm.i32(arg));
    case FIOGETOWN:
    case SIOCGPGRP:
      if (f.fasyncStyle !== 'socket') return null;
      t.mm.check(arg, 4, PROT_WRITE);
      t.mm.setI32(arg, fGetown(t, f));
      return 0;
  }
  return null;
}

export function fcntl(t: Task, a: Args): number {
  const fd = a.i32(0);
  const cmd = a.i32(1);
  const e = t.fds.get(fd);
  // an O_PATH fd takes only these (check_fcntl_cmd)
  if (e.file instanceof PathFile && cmd !== F_DUPFD && cmd !== F_DUPFD_CLOEXEC && cmd !== F_GETFD && cmd !== F_SETFD && cmd !== F_GETFL) fail(E.EBADF);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = a.i32(2);
      if (min < 0 || min >= t.fds.limit) fail(E.EINVAL);
      e.file.refs++;
      try {
        return t.fds.add(e.file, cmd === F_DUPFD_CLOEXEC, min);
      } catch (err) {
        e.file.refs--;
        throw err;
      }
    }
    case F_GETFD:
      return e.cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      e.cloexec = (a.i32(2) & FD_CLOEXEC) !== 0;
      return 0;
    case F_GETFL:
      // O_ASYNC is elfrun's, whatever a host fd says
      return (e.file.getFlags(t) & ~O_ASYNC) | (e.file.flags & O_ASYNC);
    case F_SETFL: {
      // only these status flags can change; the access mode and creation flags are ignored
      const changeable = O_APPEND | O_NONBLOCK | OPEN_FLAGS[t.arch.name].O_DIRECT | O_NOATIME;
      const want = a.i32(2);
      const cur = e.file.getFlags(t);
      const had = e.file.flags & O_ASYNC;
      // O_ASYNC stays elfrun's (a host fd never signals the host's owner)
      e.file.setFlags(toHostOpenFlags(t.arch.name, ((cur & ~changeable) | (want & changeable)) & ~O_ASYNC));
      e.file.flags = (e.file.flags & ~changeable & ~O_ASYNC) | (want & changeable) | had;
      const async = (want ^ had) & O_ASYNC;
      // and changes through the file's ->fasync
      if (async) turnAsync(t, e.file, fd, (want & O_ASYNC) !== 0);
      return 0;
    }
    case F_GETOWN:
      return fGetown(t, e.file);
    case F_SETOWN:
      return fSetown(t, e.file, a.i32(2));
    case F_GETOWN_EX:
      return getOwnerEx(t, e.file, a.ptr(2));
    case F_SETOWN_EX:
      return setOwnerEx(t, e.file, a.ptr(2));
    case F_GETSIG:
      return e.file.owner?.signum ?? 0;
    case F_SETSIG: {
      // an unsigned long: anything above NSIG (a negative number too) is no signal
      const sig = a.i64(2);
      if (sig < 0 || sig > NSIG) fail(E.EINVAL);
      (e.file.owner ??= new FOwner()).signum = sig;
      return 0;
    }
    case F_NOTIFY:
      return fNotify(t, e.file, fd, a.u32(2));
    case F_GETPIPE_SZ:
      return e.file.pipeSize(t);
    case F_SETPIPE_SZ: {
      // Linux takes the size as an unsigned int
      return e.file.pipeSize(t, a.u32(2));
    }
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return fcntlLock(t, e.file, cmd, a.ptr(2));
    case F_GETLEASE:
      return getLease(t, e.file);
    case F_SETLEASE:
      return setLease(t, e.file, fd, a.i32(2), () => {
        if (e.file.owner === null || e.file.owner.pid === 0) setOwner(t, e.file, t.pid, 'pid');
      });
    case F_ADD_SEALS:
      return addSeals(e.file, a.i32(2));
    case F_GET_SEALS:
      return getSeals(e.file);
    case F_DUPFD_QUERY:
      // the same open file description (the other fd must be open: EBADF)
      return t.fds.file(a.i32(2)) === e.file ? 1 : 0;
    case F_CREATED_QUERY:
      return e.file.createdFile ? 1 : 0;
    case F_GET_RW_HINT:
    case F_SET_RW_HINT:
      return rwHint(t, e.file, cmd === F_SET_RW_HINT, a.ptr(2));
    default:
      // F_GET/SET_FILE_RW_HINT (gone since 6.9) and unknown commands
      return fail(E.EINVAL);
  }
}

/** the inodes' write-lifetime hints (RWH_WRITE_LIFE_*), by machine and dev:ino; none set reads as RWH_WRITE_LIFE_NOT_SET (0) */
const hints = new WeakMap<object, Map<string, bigint>>();

/** F_GET_RW_HINT / F_SET_RW_HINT: the inode's hint; setting it needs the file's owner (or CAP_FOWNER), a hint up to RWH_WRITE_LIFE_EXTREME (5). */
function rwHint(t: Task, f: FileDescription, set: boolean, addr: number): number {
  const st = statFields(f.statBytes(t));
  const key = `${st.dev}:${st.ino}`;
  let m = hints.get(t.kernel);
  if (m === undefined) hints.set(t.kernel, (m = new Map()));
  if (!set) {
    t.mm.setU64(addr, Number(m.get(key) ?? 0n));
    return 0;
  }
  if (t.cred.fsuid !== st.uid && !(t.cred.caps.eff & (1n << 3n))) fail(E.EPERM);
  const h = t.mm.u64(addr); // Infinity past 2^53: invalid too
  if (!(h <= 5)) fail(E.EINVAL);
  m.set(key, BigInt(h));
  return 0;
}
