// AF_UNIX sockets, the first piece: a socket can be made and connected to a
// path. Linux's answers where nobody listens are given exactly (ENOENT for a
// missing path, ECONNREFUSED for a file or socket nobody accepts on), which
// is what libc's nscd and syslog clients meet. bind/listen/accept and data
// transfer come with the sockets issue; until then they are reported as
// unsupported rather than answered wrongly.
import type { Task } from '../proc/task.js';
import { E, fail } from '../syscalls/errno.js';
import { FileDescription, POLLOUT, POLLHUP, type IoContext } from '../fs/file.js';
import { S_IFSOCK } from '../fs/vfs.js';
import { hostStatBytes } from '../fs/stat.js';

export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
const SOCKFS_DEV = 0x8;
let nextIno = 200000;

export class UnixSocket extends FileDescription {
  readonly ino = nextIno++;
  private readonly created = Date.now();
  constructor(
    readonly type: number,
    flags: number,
  ) {
    super(flags | 2 /* O_RDWR */);
  }
  override read(): number {
    return fail(this.type === SOCK_DGRAM ? E.EAGAIN : E.ENOTCONN);
  }
  override write(): number {
    return fail(this.type === SOCK_DGRAM ? E.EDESTADDRREQ : E.ENOTCONN);
  }
  override statBytes(t: IoContext): Uint8Array {
    const c = t.proc.cred;
    const now = this.created;
    return hostStatBytes({ dev: SOCKFS_DEV, ino: this.ino, mode: S_IFSOCK | 0o777, nlink: 1, uid: c.euid, gid: c.egid, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: now, mtimeMs: now, ctimeMs: now });
  }
  override poll(): number {
    // an unconnected stream socket: Linux reports POLLOUT|POLLHUP
    return this.type === SOCK_DGRAM ? POLLOUT : POLLOUT | POLLHUP;
  }

  /** connect(2) to a filesystem or abstract name: nobody in elfrun listens yet. */
  connect(t: Task, path: string | null): number {
    if (path !== null) {
      const vfs = t.kernel.vfs;
      const loc = vfs.resolve(t, path.startsWith('/') ? vfs.root : t.cwd, path, true);
      loc.node.access(t, 2 /* W_OK */);
    }
    return fail(E.ECONNREFUSED);
  }
}

/** Decode a struct sockaddr_un: the path, or null for an abstract name. */
export function unixPath(raw: Buffer): string | null {
  const body = raw.subarray(2);
  if (body.length === 0) fail(E.EINVAL);
  if (body[0] === 0) return null;
  const end = body.indexOf(0);
  const p = (end < 0 ? body : body.subarray(0, end)).toString('latin1');
  if (p === '') fail(E.ENOENT);
  return p;
}
