// The open files of a process as /proc shows them: fdinfo's text, where the
// /proc/<pid>/fd/N links point, and the pathless node a link to a pipe or an
// inherited host fd leads to (opening it opens the same pipe or host file).
import { readFileSync, readlinkSync } from 'node:fs';
import type { Task } from '../proc/task.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { AT_FDCWD, O_CLOEXEC, O_TRUNC, SEEK_CUR } from '../abi/fcntl.js';
import { S_IFIFO, S_IFREG } from '../abi/stat.js';
import { sizeChanged, type FileDescription } from '../fs/file.js';
import { type IoContext } from '../fs/context.js';
import type { FdTable } from '../fs/fdtable.js';
import { toHostOpenFlags } from '../fs/flags.js';
import { HostFile } from '../fs/hostfile.js';
import { PipeEnd } from '../fs/pipe.js';
import { EpollFile } from '../fs/epoll.js';
import { UnixSocket } from '../net/unix.js';
import { statFields } from '../fs/stat.js';
import { VNode, type FileSystem, type Loc } from '../fs/vfs.js';
import { host } from '../host/libc.js';

/** /proc/<pid>/fdinfo/N: position, flags (octal, with O_CLOEXEC), mount id, inode, what the kind adds, the locks held through it. */
export function fdInfo(t: IoContext, f: FileDescription, cloexec: boolean, fds: FdTable): Buffer {
  let pos = 0;
  try {
    pos = f.lseek(0, SEEK_CUR);
  } catch {
    /* not seekable: 0, as Linux shows for pipes */
  }
  let ino = 0n;
  try {
    ino = statFields(f.statBytes(t)).ino;
  } catch {
    /* no inode */
  }
  // Linux prints "0%o"
  const flags = `0${(f.flags | (cloexec ? O_CLOEXEC : 0)).toString(8)}`;
  // a file on a mount outside the tree (memfd's internal shm mount) shows mount id 0, as Linux's kern_mount does; a detached mount (fsmount's) its own
  const mnt = f.loc !== null && (f.loc.mnt.detached || t.vfs.mounts.includes(f.loc.mnt)) ? f.loc.mnt.id : 0;
  // a unix socket's fds in flight: none can be, since its sendmsg refuses SCM_RIGHTS (net/unix.ts)
  const kind = f instanceof EpollFile ? epollInfo(t, f) : f instanceof UnixSocket ? 'scm_fds: 0\n' : f instanceof HostFile ? hostKindInfo(f.hostFd) : f.fdinfo();
  return Buffer.from(`pos:\t${pos}\nflags:\t${flags}\nmnt_id:\t${mnt}\nino:\t${ino}\n${kind}${t.vfs.locks.fdinfo(f, fds)}`);
}

/** What the host's fdinfo adds for a host fd the guest was given (a socket's scm_fds...): its lines past ino, but its locks (the guest's are listed). */
function hostKindInfo(fd: number): string {
  try {
    const lines = readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1').split('\n');
    const at = lines.findIndex((l) => l.startsWith('ino:'));
    return lines
      .slice(at + 1)
      .filter((l) => l !== '' && !l.startsWith('lock:'))
      .map((l) => l + '\n')
      .join('');
  } catch {
    return '';
  }
}

/** An epoll instance's lines: one per watched (fd, file), with the events as the kernel keeps them (EPOLLERR|EPOLLHUP added, a spent one-shot's cleared). */
function epollInfo(t: IoContext, ep: EpollFile): string {
  return ep
    .interestList()
    .map((i) => {
      let pos = 0;
      let ino = 0n;
      let dev = 0n;
      try {
        pos = i.file.lseek(0, SEEK_CUR);
      } catch {
        /* not seekable */
      }
      try {
        const st = statFields(i.file.statBytes(t));
        ino = st.ino;
        dev = BigInt(st.dev);
      } catch {
        /* no inode */
      }
      // the kernel's dev_t: major << 20 | minor
      const major = (dev >> 8n) & 0xfffn;
      const minor = (dev & 0xffn) | ((dev >> 12n) & 0xfff00n);
      const events = i.events >>> 0;
      return `tfd: ${String(i.fd).padStart(8)} events: ${events.toString(16).padStart(8)} data: ${BigInt.asUintN(64, i.data).toString(16).padStart(16)}  pos:${pos} ino:${ino.toString(16)} sdev:${((major << 20n) | minor).toString(16)}\n`;
    })
    .join('');
}

/** Where /proc/<pid>/fd/N points: the file's path, pipe:[ino], or what the host says of a host fd. */
export function fdTarget(f: FileDescription): string {
  if (f.loc !== null) return f.loc.path;
  if (f instanceof PipeEnd) return `pipe:[${f.pipe.ino}]`;
  if (f instanceof HostFile) {
    try {
      return readlinkSync(`/proc/self/fd/${f.hostFd}`);
    } catch {
      return f.path;
    }
  }
  return `anon_inode:${f.anonName ?? '[unknown]'}`;
}

/** An open file that has no path (a pipe, an inherited host fd), as /proc/<pid>/fd/N leads to it. */
class AnonNode extends VNode {
  readonly type: number;
  readonly key: string;
  constructor(
    readonly fs: FileSystem,
    private f: FileDescription,
    name: string,
  ) {
    super();
    this.key = name;
    this.type = f instanceof PipeEnd ? S_IFIFO : S_IFREG;
  }
  stat(t: IoContext): Uint8Array {
    return this.f.statBytes(t);
  }
  parent(): VNode {
    return this;
  }
  access(): void {}
  open(t: IoContext, flags: number): FileDescription {
    const f = this.f;
    if (f instanceof PipeEnd) return new PipeEnd(f.pipe, flags);
    if (f instanceof HostFile) {
      // the host reopens its own fd (a terminal, a host pipe or file elfrun was given)
      const fd = host.openat(AT_FDCWD, Buffer.from(`/proc/self/fd/${f.hostFd}\0`), toHostOpenFlags(t.arch.name, flags) | O_CLOEXEC, 0);
      if (fd < 0) fail(-fd);
      const reopened = new HostFile(fd, flags & ~O_CLOEXEC, f.path, null, t.vfs.writers);
      if (flags & O_TRUNC) sizeChanged(t);
      return reopened;
    }
    return fail(E.ENXIO);
  }
}

/** The place an open file is at: where it was opened, or a pathless node of its own (pipes). */
export function fdLoc(t: Task, f: FileDescription): Loc {
  return f.loc ?? anonLoc(t, f, fdTarget(f));
}

/** A pathless node for `f` on the proc mount (the root mount without one). */
export function anonLoc(t: Task, f: FileDescription, name: string): Loc {
  const procMnt = t.kernel.vfs.mounts.find((m) => m.fs.type === 'proc') ?? t.kernel.vfs.root.mnt;
  return { mnt: procMnt, node: new AnonNode(procMnt.fs, f, name), path: fdTarget(f) };
}
