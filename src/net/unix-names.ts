// AF_UNIX addresses and where bound sockets are found, as Linux's
// net/unix/af_unix.c keeps them: struct sockaddr_un decoded and checked
// (unix_validate_addr), a filesystem name made as a socket inode in the VFS
// (mknod S_IFSOCK, EEXIST becoming EADDRINUSE; the inode outlives the
// socket, as on Linux), the abstract namespace (a leading NUL, the name's
// bytes as given), and autobind's five-hex-digit abstract names. Each
// Machine's Vfs has its own table: filesystem names by the socket inode's
// (dev, ino), abstract names by their bytes.
import { E } from '../abi/errno.js';
import { fail, SysError } from '../abi/errors.js';
import { AF_UNIX, SOCKADDR_UN_SIZE } from '../abi/socket.js';
import { S_IFSOCK, W_OK } from '../abi/stat.js';
import type { IoContext } from '../fs/context.js';
import { statFields } from '../fs/stat.js';
import { childPath, type Loc, type Vfs } from '../fs/vfs.js';
import { HostNode } from '../fs/hostfs.js';

/** offsetof(struct sockaddr_un, sun_path) */
export const SUN_PATH = 2;

/** What a socket bound to a name must answer for the table's users. */
export interface Bound {
  readonly type: number;
}

/** A decoded sockaddr_un: a filesystem path or an abstract name, with the bytes getsockname gives back. */
export type UnixName = { kind: 'path'; path: string; raw: Buffer } | { kind: 'abstract'; key: string; raw: Buffer };

/** Names of one Vfs. */
interface Table {
  paths: Map<string, Bound>;
  abstract: Map<string, Bound>;
}
const tables = new WeakMap<Vfs, Table>();
function table(vfs: Vfs): Table {
  let tb = tables.get(vfs);
  if (tb === undefined) tables.set(vfs, (tb = { paths: new Map(), abstract: new Map() }));
  return tb;
}

/** The bound sockets of a Vfs (path names, then abstract ones), for /proc/net/unix. */
export function boundSockets(vfs: Vfs): Bound[] {
  const tb = tables.get(vfs);
  return tb === undefined ? [] : [...tb.paths.values(), ...tb.abstract.values()];
}

/** The family-only address of an unbound socket (getsockname's 2 bytes). */
export function unnamed(): Buffer {
  const b = Buffer.alloc(SUN_PATH);
  b.writeUInt16LE(AF_UNIX, 0);
  return b;
}

/**
 * unix_validate_addr and unix_mkname_bsd: EINVAL for a length that holds no
 * name or more than sockaddr_un, or another family. A path ends at its first
 * NUL (or the length); its name is family, path and a NUL.
 */
export function decodeName(addr: Buffer): UnixName {
  if (addr.length <= SUN_PATH || addr.length > SOCKADDR_UN_SIZE) fail(E.EINVAL);
  if (addr.readUInt16LE(0) !== AF_UNIX) fail(E.EINVAL);
  const body = addr.subarray(SUN_PATH);
  if (body[0] === 0) return { kind: 'abstract', key: body.toString('latin1'), raw: Buffer.from(addr) };
  const end = body.indexOf(0);
  const p = end < 0 ? body : body.subarray(0, end);
  return { kind: 'path', path: p.toString('latin1'), raw: Buffer.concat([addr.subarray(0, SUN_PATH), p, Buffer.alloc(1)]) };
}

/** The identity of a socket inode: its device and inode numbers. */
function inodeKey(t: IoContext, loc: Loc): string {
  const st = statFields(loc.node.stat(t));
  return `${st.dev}:${st.ino}`;
}

/** What binding a name leaves to undo when the socket goes: its key in the table. */
export interface Binding {
  kind: 'path' | 'abstract';
  key: string;
}

/**
 * bind(2) of a filesystem name: the socket inode is made with the socket's
 * mode less the umask (EADDRINUSE if the name exists, the VFS's errors
 * otherwise), then `check` may refuse (a socket already bound: the inode is
 * removed again, as unix_bind_bsd does).
 */
export function bindPath(t: IoContext, path: string, umask: number, s: Bound, check: () => void, onHost?: (hostPath: string) => void): Binding {
  const vfs = t.vfs;
  const { dir, name } = vfs.parent(t, path.startsWith('/') ? vfs.rootFor(t) : t.cwd, path);
  if (name === '' || name === '.' || name === '..' || vfs.tryChild(t, dir, name) !== null) fail(E.EADDRINUSE);
  vfs.writable(dir);
  try {
    // on a host directory the inode may be a host socket's, for host clients to reach
    if (onHost !== undefined && dir.node instanceof HostNode) {
      check();
      onHost(childPath(dir.node.path, name));
      t.vfs.lookups.forgetHostPaths();
      dir.node.lookup(t, name).setattr(t, { mode: 0o777 & ~umask });
    } else dir.node.mknod(t, name, S_IFSOCK | (0o777 & ~umask), 0);
  } catch (e) {
    if (e instanceof SysError && e.errno === E.EEXIST) fail(E.EADDRINUSE);
    throw e;
  }
  try {
    check();
  } catch (e) {
    dir.node.unlink(t, name);
    throw e;
  }
  const key = inodeKey(t, vfs.child(t, dir, name));
  table(vfs).paths.set(key, s);
  return { kind: 'path', key };
}

/** bind(2) of an abstract name: EADDRINUSE if taken. */
export function bindAbstract(t: IoContext, key: string, s: Bound): Binding {
  const tb = table(t.vfs).abstract;
  if (tb.has(key)) fail(E.EADDRINUSE);
  tb.set(key, s);
  return { kind: 'abstract', key };
}

/** unix_autobind: a free abstract name of five hex digits, from a random start; its sockaddr and binding. */
export function autobind(t: IoContext, s: Bound): { raw: Buffer; binding: Binding } {
  const tb = table(t.vfs).abstract;
  let n = Math.floor(Math.random() * 0x100000);
  for (let tries = 0; tries <= 0xfffff; tries++, n = (n + 1) & 0xfffff) {
    const key = '\0' + n.toString(16).padStart(5, '0');
    if (tb.has(key)) continue;
    tb.set(key, s);
    const raw = Buffer.concat([unnamed(), Buffer.from(key, 'latin1')]);
    return { raw, binding: { kind: 'abstract', key } };
  }
  return fail(E.ENOSPC);
}

/** The name goes with its socket (the inode of a filesystem name stays). */
export function unbind(vfs: Vfs, b: Binding, s: Bound): void {
  const tb = table(vfs);
  const m = b.kind === 'path' ? tb.paths : tb.abstract;
  if (m.get(b.key) === s) m.delete(b.key);
}

/**
 * The socket a connect or sendto names (unix_find_other): for a path, the
 * walk's errors (ENOENT...), EACCES without write permission, ECONNREFUSED
 * for a file that is not a socket or a socket inode nobody is bound to; for
 * an abstract name, ECONNREFUSED if nobody holds it; EPROTOTYPE for a socket
 * of another type. A socket inode no guest socket holds is given back as
 * its place (a host daemon's, if on a host directory, to be reached through the host).
 */
export function findBound<S extends Bound>(t: IoContext, n: UnixName, type: number): S | { hostSocket: Loc } {
  const tb = table(t.vfs);
  let s: Bound | undefined;
  if (n.kind === 'abstract') {
    s = tb.abstract.get(n.key);
    if (s === undefined) fail(E.ECONNREFUSED);
  } else {
    const vfs = t.vfs;
    if (n.path === '') fail(E.ENOENT);
    const loc = vfs.resolve(t, n.path.startsWith('/') ? vfs.rootFor(t) : t.cwd, n.path, true);
    if (loc.node.fs.hostChecked) loc.node.access(t, W_OK);
    else vfs.permission(t, loc, W_OK);
    if (loc.node.type !== S_IFSOCK) fail(E.ECONNREFUSED);
    s = tb.paths.get(inodeKey(t, loc));
    if (s === undefined) return { hostSocket: loc };
  }
  if (s.type !== type) fail(E.EPROTOTYPE);
  return s as S;
}
