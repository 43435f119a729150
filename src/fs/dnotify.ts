// dnotify (fcntl F_NOTIFY): a directory's description asks for a signal
// when its entries change. Each registration, one per description and fd
// table as Linux's (filp, files_struct), is a private inotify instance
// (inotify.ts) watching the directory: the guest's own changes on in-memory
// file systems come through the VFS's Notifier, a host directory's from the
// host's inotify, host processes' changes too. Each event that matches the
// registration's DN_* mask sends the description's owner POLL_MSG with the
// fd of the F_NOTIFY call (send_sigio); without DN_MULTISHOT the first one
// ends the registration. A close of any fd of the description by that fd
// table ends it (dnotify_flush).
import type { Waiter, WaitQueue } from '../ctx/waitq.js';
import type { IoContext } from './context.js';
import type { FileDescription } from './file.js';
import type { FdTable } from './fdtable.js';
import { POLL_MSG, type SigioSender } from './fasync.js';
import { InotifyFile, Notifier } from './inotify.js';
import { HostNode } from './hostfs.js';
import { statFields } from './stat.js';
import { POLLIN } from '../abi/poll.js';
import { O_NONBLOCK, O_RDONLY, DN_ACCESS, DN_ATTRIB, DN_CREATE, DN_DELETE, DN_MODIFY, DN_MULTISHOT, DN_RENAME } from '../abi/fcntl.js';
import { IN_ACCESS, IN_ATTRIB, IN_CREATE, IN_DELETE, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO, IN_ONLYDIR } from '../abi/inotify.js';

/** the inotify events each DN_* event stands for (convert_arg; DN_RENAME is a rename within the directory: a move from and to it) */
const DN_TO_IN: ReadonlyArray<readonly [number, number]> = [
  [DN_ACCESS, IN_ACCESS],
  [DN_MODIFY, IN_MODIFY],
  [DN_CREATE, IN_CREATE | IN_MOVED_TO],
  [DN_DELETE, IN_DELETE | IN_MOVED_FROM],
  [DN_RENAME, IN_MOVED_FROM | IN_MOVED_TO],
  [DN_ATTRIB, IN_ATTRIB],
];

function inotifyMask(dn: number): number {
  let m = 0;
  for (const [d, i] of DN_TO_IN) if (dn & d) m |= i;
  return m;
}

/** the registrations of each description, by fd table */
const registry = new WeakMap<FileDescription, Map<FdTable, Dnotify>>();

class Dnotify implements Waiter {
  private readonly inst: InotifyFile;
  private hooked: WaitQueue[] = [];
  private busy = false;
  /** the cookie of the last move out of the directory, which a move into it with the same cookie makes a rename within */
  private fromCookie = -1;

  constructor(
    private readonly dir: FileDescription,
    private readonly table: FdTable,
    /** the fd of the last F_NOTIFY (si_fd) */
    public fd: number,
    /** DN_* events and DN_MULTISHOT */
    readonly mask: number,
    private readonly ctx: IoContext,
    private readonly sender: SigioSender,
  ) {
    this.inst = new InotifyFile(O_RDONLY | O_NONBLOCK, 0, ctx.vfs.notify);
    const loc = dir.loc!;
    const st = statFields(loc.node.stat(ctx));
    const m = inotifyMask(mask) | IN_ONLYDIR;
    if (loc.node instanceof HostNode) this.inst.watchHost(loc.node.path, m, st.ino, st.dev);
    else this.inst.watchNode(Notifier.key(loc.node), m, st.ino, st.dev, true);
    this.arm();
  }

  private arm(): void {
    for (const q of this.hooked) q.remove(this);
    this.hooked = this.inst.pollQueues(this.ctx, POLLIN);
    for (const q of this.hooked) q.add(this);
  }

  /** The instance has events: the DN_* events they are, each a signal. */
  wake(): void {
    if (this.busy) return;
    this.busy = true;
    let n = 0;
    try {
      for (const e of this.inst.take()) {
        if (e.mask & IN_MOVED_FROM) this.fromCookie = e.cookie;
        // fsnotify_move: a rename within the directory (FS_RENAME) comes before its move from and to
        if (e.mask & IN_MOVED_TO && e.cookie === this.fromCookie && this.mask & DN_RENAME) n++;
        for (const [d, i] of DN_TO_IN) if (d !== DN_RENAME && this.mask & d && e.mask & i) n++;
      }
    } finally {
      this.busy = false;
    }
    if (n > 0 && !(this.mask & DN_MULTISHOT)) {
      n = 1;
      this.end();
    } else this.arm();
    const owner = this.dir.owner;
    if (owner === null) return;
    for (let i = 0; i < n; i++) this.sender.sigio(owner, this.fd, POLL_MSG);
  }

  end(): void {
    for (const q of this.hooked) q.remove(this);
    this.hooked = [];
    this.inst.unref();
    const m = registry.get(this.dir);
    if (m?.get(this.table) === this) m.delete(this.table);
  }
}

/**
 * F_NOTIFY with DN_* events on a directory's description (the caller has
 * checked it is one): a new registration for this fd table, or more events
 * for its existing one (masks are or'ed, the fd is the latest).
 */
export function dnotify(ctx: IoContext, dir: FileDescription, table: FdTable, fd: number, mask: number, sender: SigioSender): void {
  let m = registry.get(dir);
  if (m === undefined) registry.set(dir, (m = new Map()));
  const old = m.get(table);
  const want = old !== undefined ? old.mask | mask : mask;
  old?.end();
  m.set(table, new Dnotify(dir, table, fd, want, ctx, sender));
}

/** dnotify_flush: a close of an fd of the description by this fd table (or F_NOTIFY 0) ends the table's registration. */
export function dnotifyFlush(dir: FileDescription, table: FdTable): void {
  registry.get(dir)?.get(table)?.end();
}
