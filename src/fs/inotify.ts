// inotify: an instance's watches and its queue of events, and the Machine's
// Notifier through which the VFS reports changes to in-memory file systems
// (tmpfs, devfs, procfs). Watches on host directories are the host's own:
// each instance keeps a host inotify fd, so the host kernel reports every
// change to them, made by the guest through elfrun's host calls or by host
// processes, and its events are taken into the instance's queue with the
// guest's watch descriptors. Either way the queue follows Linux's rules:
// identical consecutive events are merged, IN_Q_OVERFLOW is queued once
// past max_queued_events, a read takes whole events only.
import { WaitQueue } from '../ctx/waitq.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { O_NONBLOCK } from '../abi/fcntl.js';
import { FIONREAD } from '../abi/ioctl.js';
import { POLLIN, POLLRDNORM } from '../abi/poll.js';
import { S_IFDIR } from '../abi/stat.js';
import {
  IN_ACCESS,
  IN_ALL_EVENTS,
  IN_ATTRIB,
  IN_CLOSE_NOWRITE,
  IN_CLOSE_WRITE,
  IN_CREATE,
  IN_DELETE,
  IN_DELETE_SELF,
  IN_MODIFY,
  IN_MOVE_SELF,
  IN_MOVED_FROM,
  IN_MOVED_TO,
  IN_OPEN,
  IN_CLOEXEC,
  IN_DONT_FOLLOW,
  IN_EXCL_UNLINK,
  IN_IGNORED,
  IN_ISDIR,
  IN_MASK_ADD,
  IN_MASK_CREATE,
  IN_NONBLOCK,
  IN_ONESHOT,
  IN_ONLYDIR,
  IN_Q_OVERFLOW,
  IN_UNMOUNT,
  INOTIFY_EVENT_SIZE,
  MAX_QUEUED_EVENTS,
} from '../abi/inotify.js';
import { hostInotify } from '../host/inotify.js';
import { host, Scratch } from '../host/libc.js';
import { hostStatBytes } from './stat.js';
import { FileDescription } from './file.js';
import type { FasyncStyle } from './fasync.js';
import type { IoContext } from './context.js';
import type { Loc, SetAttr, VNode } from './vfs.js';

/** One watch of an instance: on an in-memory inode (key) or a host inode (hostWd). */
interface Watch {
  readonly wd: number;
  /** the events it wants, with IN_ONESHOT and IN_EXCL_UNLINK (what fdinfo shows) */
  mask: number;
  /** the inode's identity in the Notifier ("dev:key"), or null for a host watch */
  readonly key: string | null;
  /** the host's watch descriptor, or -1 */
  readonly hostWd: number;
  /** fdinfo's ino: and sdev: (the kernel's device encoding) */
  readonly ino: bigint;
  readonly sdev: number;
  /** fdinfo's file handle (a host inode's, from the host), or null */
  readonly handle: [number, Buffer] | null;
  /** on a directory (IN_UNMOUNT says IN_ISDIR) */
  readonly isDir: boolean;
  readonly owner: InotifyFile;
}

interface InotifyEvent {
  wd: number;
  mask: number;
  cookie: number;
  /** the name within a watched directory, null for an event on the watched inode itself */
  name: Buffer | null;
}

/** The bytes struct inotify_event takes with its name: the name NUL-padded to a multiple of 16. */
const nameLen = (name: Buffer | null): number => (name === null || name.length === 0 ? 0 : Math.ceil((name.length + 1) / INOTIFY_EVENT_SIZE) * INOTIFY_EVENT_SIZE);
const eventSize = (e: InotifyEvent): number => INOTIFY_EVENT_SIZE + nameLen(e.name);

/** The kernel's dev_t (major << 20 | minor) from a user-space st_dev, as fdinfo prints sdev. */
function kernelDev(dev: bigint): number {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return ((major << 20) | minor) >>> 0;
}

/** What a description opened on an in-memory file system needs for its close events. */
export interface Notified {
  readonly notifier: Notifier;
  readonly self: string;
  /** its directory's identity and its name there; null at a file system's root */
  readonly parent: string | null;
  readonly name: Buffer;
  readonly isDir: boolean;
}

/**
 * The watches on in-memory inodes of one Machine, by inode identity, and
 * the events the VFS reports: Linux's fsnotify for the file systems whose
 * changes no host kernel sees.
 */
export class Notifier {
  private readonly byKey = new Map<string, Set<Watch>>();
  /** watches on in-memory inodes: the VFS reports nothing while there are none */
  count = 0;
  /** descriptions open on each in-memory inode: an unlinked one goes (IN_DELETE_SELF) at its last close, as its dentry does */
  private readonly opens = new Map<string, number>();
  /** inodes whose last link is gone while open: their directory's IN_EXCL_UNLINK watches see no more of them */
  private readonly unlinked = new Set<string>();
  /** Linux's fsnotify_sync_cookie: one number for each rename */
  private cookie = 0;

  /** The identity of an in-memory node. */
  static key(node: VNode): string {
    return `${node.fs.dev}:${node.key}`;
  }

  nextCookie(): number {
    return (this.cookie = (this.cookie + 1) >>> 0);
  }

  add(w: Watch): void {
    const key = w.key!;
    let s = this.byKey.get(key);
    if (s === undefined) this.byKey.set(key, (s = new Set()));
    s.add(w);
    this.count++;
  }

  remove(w: Watch): void {
    const s = this.byKey.get(w.key!);
    if (s?.delete(w) !== true) return;
    this.count--;
    if (s.size === 0) this.byKey.delete(w.key!);
  }

  /** An event on the inode `key` (with `name`: on a child of that directory). */
  emit(key: string, mask: number, name: Buffer | null = null, cookie = 0, unlinked = false): void {
    const s = this.byKey.get(key);
    if (s === undefined) return;
    for (const w of [...s]) {
      if (!(w.mask & mask & IN_ALL_EVENTS)) continue;
      if (unlinked && name !== null && w.mask & IN_EXCL_UNLINK) continue;
      w.owner.deliver(w, mask, name, cookie);
    }
  }

  /** An access, modify, attrib, open or close on an inode: its directory's watches (with its name), then its own. */
  fileEvent(self: string, parent: string | null, name: Buffer, isDir: boolean, mask: number): void {
    const m = isDir ? mask | IN_ISDIR : mask;
    if (parent !== null) this.emit(parent, m, name, 0, this.unlinked.has(self));
    this.emit(self, m);
  }

  /** The inode is gone (its last link removed, or its file system unmounted): its watches end with IN_IGNORED. */
  gone(key: string, mask: number): void {
    const s = this.byKey.get(key);
    if (s === undefined) return;
    for (const w of [...s]) {
      if (mask & IN_UNMOUNT) w.owner.deliver(w, mask | (w.isDir ? IN_ISDIR : 0), null, 0);
      else if (w.mask & mask) w.owner.deliver(w, mask, null, 0);
      w.owner.drop(w);
    }
  }

  /** A file system is unmounted: IN_UNMOUNT, then IN_IGNORED, for every watch on its inodes. */
  unmounted(dev: number): void {
    // newest inode first, as Linux walks a superblock's inode list
    const keys = [...this.byKey.keys()].filter((k) => k.startsWith(`${dev}:`));
    const ino = (k: string): number => Number(k.slice(k.indexOf(':') + 1)) || 0;
    for (const key of keys.sort((a, b) => ino(b) - ino(a))) this.gone(key, IN_UNMOUNT);
  }

  /** Is `l` on an in-memory file system with watches to tell? (the host reports host files' changes itself) */
  private watching(l: Loc): boolean {
    return this.count > 0 && !l.node.fs.hostNotified;
  }

  /** The identities an event on the file at `l` goes to. */
  private describe(t: IoContext, l: Loc): Omit<Notified, 'notifier'> {
    let parent: string | null = null;
    if (l.node.key !== l.mnt.top.key) {
      try {
        parent = Notifier.key(l.node.parent(t));
      } catch {
        // a node that cannot name its directory (a procfs entry of a process gone): events on itself only
      }
    }
    return {
      self: Notifier.key(l.node),
      parent,
      name: Buffer.from(l.path.slice(l.path.lastIndexOf('/') + 1), 'latin1'),
      isDir: l.node.type === S_IFDIR,
    };
  }

  /** IN_ACCESS, IN_MODIFY, IN_ATTRIB on the file at `l`, as Linux's fsnotify_parent sends them. */
  onFile(t: IoContext, l: Loc | null, mask: number): void {
    if (l === null || !this.watching(l)) return;
    const n = this.describe(t, l);
    this.fileEvent(n.self, n.parent, n.name, n.isDir, mask);
  }

  /** A read (IN_ACCESS) or write (IN_MODIFY) that moved bytes through a description. */
  onIo(t: IoContext, f: FileDescription, write: boolean): void {
    if (f.notified !== null) this.onFile(t, f.loc, write ? IN_MODIFY : IN_ACCESS);
  }

  /** Linux's fsnotify_change: what a change of attributes reports. */
  onSetattr(t: IoContext, l: Loc | null, a: SetAttr): void {
    let mask = 0;
    if (a.uid !== undefined || a.gid !== undefined || a.mode !== undefined) mask |= IN_ATTRIB;
    if (a.size !== undefined) mask |= IN_MODIFY;
    if (a.atime !== undefined && a.mtime !== undefined) mask |= IN_ATTRIB;
    else if (a.atime !== undefined) mask |= IN_ACCESS;
    else if (a.mtime !== undefined) mask |= IN_MODIFY;
    if (mask !== 0) this.onFile(t, l, mask);
  }

  /** A description was opened on the file at its loc: IN_OPEN now, and its close event later. */
  opened(t: IoContext, f: FileDescription): void {
    const l = f.loc;
    if (l === null || l.node.fs.hostNotified) return;
    f.notified = { notifier: this, ...this.describe(t, l) };
    this.opens.set(f.notified.self, (this.opens.get(f.notified.self) ?? 0) + 1);
    if (this.count > 0) this.fileEvent(f.notified.self, f.notified.parent, f.notified.name, f.notified.isDir, IN_OPEN);
  }

  /** A name was made in `dir` (open O_CREAT, mkdir, mknod, symlink, link). */
  created(dir: Loc, name: string, isDir: boolean): void {
    if (this.watching(dir)) this.emit(Notifier.key(dir.node), IN_CREATE | (isDir ? IN_ISDIR : 0), Buffer.from(name, 'latin1'));
  }

  /** A hard link was made to `node`: IN_ATTRIB on it (its link count), then IN_CREATE in `dir`. */
  linked(dir: Loc, name: string, node: VNode): void {
    if (!this.watching(dir)) return;
    this.emit(Notifier.key(node), IN_ATTRIB);
    this.created(dir, name, false);
  }

  /**
   * The name `name` of `node` was removed from `dir`: IN_ATTRIB on a file
   * (its link count), IN_DELETE_SELF and the watches' end when it was the
   * last link or a directory, then IN_DELETE in the directory.
   */
  removed(t: IoContext, dir: Loc, name: string, node: VNode): void {
    if (!this.watching(dir)) return;
    const key = Notifier.key(node);
    const isDir = node.type === S_IFDIR;
    if (!isDir) this.emit(key, IN_ATTRIB);
    if (isDir || lastLink(t, node)) this.lastGone(key);
    this.emit(Notifier.key(dir.node), IN_DELETE | (isDir ? IN_ISDIR : 0), Buffer.from(name, 'latin1'));
  }

  /**
   * Linux's fsnotify_move: IN_MOVED_FROM and IN_MOVED_TO with one cookie,
   * IN_ATTRIB on a replaced file, IN_MOVE_SELF on the moved one; a replaced
   * file's last link goes as unlink's does. `target`: what the new name
   * named before, if anything; `exchange`: RENAME_EXCHANGE (both move).
   */
  moved(t: IoContext, from: Loc, fromName: string, to: Loc, toName: string, node: VNode, target: VNode | null, exchange: boolean): void {
    if (!this.watching(from)) return;
    const one = (d1: Loc, n1: string, d2: Loc, n2: string, src: VNode, tgt: VNode | null): void => {
      const dirBit = src.type === S_IFDIR ? IN_ISDIR : 0;
      const cookie = this.nextCookie();
      this.emit(Notifier.key(d1.node), IN_MOVED_FROM | dirBit, Buffer.from(n1, 'latin1'), cookie);
      this.emit(Notifier.key(d2.node), IN_MOVED_TO | dirBit, Buffer.from(n2, 'latin1'), cookie);
      if (tgt !== null) this.emit(Notifier.key(tgt), IN_ATTRIB);
      this.emit(Notifier.key(src), IN_MOVE_SELF);
    };
    one(from, fromName, to, toName, node, exchange ? null : target);
    if (exchange && target !== null) one(to, toName, from, fromName, target, null);
    else if (target !== null && (target.type === S_IFDIR || lastLink(t, target))) this.lastGone(Notifier.key(target));
  }

  /** The inode's last link went: IN_DELETE_SELF now, or at its last close while it is open. */
  private lastGone(key: string): void {
    if ((this.opens.get(key) ?? 0) > 0) this.unlinked.add(key);
    else this.gone(key, IN_DELETE_SELF);
  }

  /** The last reference to a description opened on an in-memory file system went. */
  closed(f: FileDescription, n: Notified): void {
    if (this.count > 0) this.fileEvent(n.self, n.parent, n.name, n.isDir, f.writable ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
    const left = (this.opens.get(n.self) ?? 1) - 1;
    if (left > 0) {
      this.opens.set(n.self, left);
      return;
    }
    this.opens.delete(n.self);
    if (this.unlinked.delete(n.self)) this.gone(n.self, IN_DELETE_SELF);
  }
}

/** Has `node` no link left? (stat's st_nlink, at offset 16 of the host layout) */
function lastLink(t: IoContext, node: VNode): boolean {
  try {
    return Buffer.from(node.stat(t)).readBigUInt64LE(16) === 0n;
  } catch {
    return true;
  }
}

/** Scratch memory for reading the host's events. */
let scratch: Scratch | null = null;

export class InotifyFile extends FileDescription {
  override readonly anonName = 'inotify';
  private readonly watches = new Map<number, Watch>();
  private readonly byHost = new Map<number, Watch>();
  private readonly byKey = new Map<string, Watch>();
  /** the events not yet read: queue[head...] */
  private queue: InotifyEvent[] = [];
  private head = 0;
  private queued = 0;
  private overflowQueued = false;
  private lastWd = 0;
  private host = -1;
  private readonly readers = new WaitQueue('inotify');
  private readonly created = Date.now();

  constructor(
    flags: number,
    private readonly ino: number,
    private readonly notifier: Notifier,
  ) {
    super(flags);
  }

  /** Linux's idr_alloc_cyclic from 1: the number after the last one given, skipping those in use. */
  private allocWd(): number {
    do this.lastWd = this.lastWd >= 0x7fffffff ? 1 : this.lastWd + 1;
    while (this.watches.has(this.lastWd));
    return this.lastWd;
  }

  /** The user-visible part of a watch's mask: events, IN_ONESHOT, IN_EXCL_UNLINK. */
  private static userMask(mask: number): number {
    return (mask & (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK)) >>> 0;
  }

  private update(w: Watch, mask: number): number {
    if (mask & IN_MASK_CREATE) fail(E.EEXIST);
    w.mask = mask & IN_MASK_ADD ? (w.mask | InotifyFile.userMask(mask)) >>> 0 : InotifyFile.userMask(mask);
    return w.wd;
  }

  /** A watch on an in-memory inode (its identity, stat's ino and dev): a new wd, or the existing watch's. */
  watchNode(key: string, mask: number, ino: bigint, dev: bigint, isDir: boolean): number {
    const old = this.byKey.get(key);
    if (old !== undefined) return this.update(old, mask);
    const w: Watch = { wd: this.allocWd(), mask: InotifyFile.userMask(mask), key, hostWd: -1, ino, sdev: kernelDev(dev), handle: null, isDir, owner: this };
    this.watches.set(w.wd, w);
    this.byKey.set(key, w);
    this.notifier.add(w);
    return w.wd;
  }

  /** A watch on a host inode at `hostPath` (already resolved by the guest's walk: the host follows nothing). */
  watchHost(hostPath: string, mask: number, ino: bigint, dev: bigint): number {
    if (this.host < 0) {
      const fd = hostInotify.init1(IN_NONBLOCK | IN_CLOEXEC);
      if (fd < 0) fail(-fd);
      this.host = fd;
    }
    this.drain();
    const hostMask = (mask & ~IN_ONLYDIR) | IN_DONT_FOLLOW;
    const r = hostInotify.addWatch(this.host, Buffer.from(hostPath + '\0', 'latin1'), hostMask);
    if (r < 0) fail(-r);
    const old = this.byHost.get(r);
    if (old !== undefined) return this.update(old, mask & ~IN_MASK_CREATE);
    const w: Watch = { wd: this.allocWd(), mask: InotifyFile.userMask(mask), key: null, hostWd: r, ino, sdev: kernelDev(dev), handle: hostInotify.fileHandle(hostPath), isDir: false, owner: this };
    this.watches.set(w.wd, w);
    this.byHost.set(r, w);
    return w.wd;
  }

  /** inotify_rm_watch: EINVAL for a wd this instance does not have; the watch ends with IN_IGNORED. */
  unwatch(wd: number): void {
    const w = this.watches.get(wd) ?? fail(E.EINVAL);
    if (w.hostWd >= 0) {
      hostInotify.rmWatch(this.host, w.hostWd);
      // the host queued IN_IGNORED for it: take it now, in order
      this.drain();
      if (this.watches.get(wd) === w) this.drop(w);
      return;
    }
    this.drop(w);
  }

  /** An event for watch `w` (from the Notifier); IN_ONESHOT watches end after their first. */
  deliver(w: Watch, mask: number, name: Buffer | null, cookie: number): void {
    if (this.watches.get(w.wd) !== w) return;
    this.enqueue({ wd: w.wd, mask: mask & (IN_ALL_EVENTS | IN_ISDIR | IN_UNMOUNT), cookie, name });
    if (w.mask & IN_ONESHOT && !(mask & IN_UNMOUNT)) this.drop(w);
  }

  /** The watch ends: IN_IGNORED is queued, the wd is free. */
  drop(w: Watch): void {
    if (this.watches.get(w.wd) !== w) return;
    this.forget(w);
    this.enqueue({ wd: w.wd, mask: IN_IGNORED, cookie: 0, name: null });
  }

  private forget(w: Watch): void {
    this.watches.delete(w.wd);
    if (w.key !== null) {
      this.byKey.delete(w.key);
      this.notifier.remove(w);
    } else this.byHost.delete(w.hostWd);
  }

  /** Linux's fsnotify_insert_event with inotify_merge: an overflow past the limit, a repeat of the last event merged. */
  private enqueue(e: InotifyEvent): void {
    const last = this.length > 0 ? this.queue[this.queue.length - 1] : undefined;
    if (this.length >= MAX_QUEUED_EVENTS || e.mask & IN_Q_OVERFLOW) {
      if (this.overflowQueued) return;
      this.overflowQueued = true;
      e = { wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: null };
    } else if (last !== undefined && !(last.mask & IN_IGNORED) && last.mask === e.mask && last.wd === e.wd && last.cookie === e.cookie && (last.name ?? Buffer.alloc(0)).equals(e.name ?? Buffer.alloc(0))) return;
    this.queue.push(e);
    this.queued += eventSize(e);
    this.readers.wake();
  }

  private get length(): number {
    return this.queue.length - this.head;
  }

  /** Take the host's events into the queue, with the guest's wds. */
  private drain(): void {
    if (this.host < 0) return;
    scratch ??= new Scratch();
    for (;;) {
      const n = host.read(this.host, scratch.addr, scratch.bytes.length);
      if (n <= 0) return;
      const b = Buffer.from(scratch.bytes.buffer, scratch.bytes.byteOffset, n);
      for (let off = 0; off + INOTIFY_EVENT_SIZE <= n; ) {
        const hwd = b.readInt32LE(off);
        const mask = b.readUInt32LE(off + 4);
        const cookie = b.readUInt32LE(off + 8);
        const len = b.readUInt32LE(off + 12);
        const raw = b.subarray(off + 16, off + 16 + len);
        const z = raw.indexOf(0);
        const name = len === 0 ? null : Buffer.from(z < 0 ? raw : raw.subarray(0, z));
        off += INOTIFY_EVENT_SIZE + len;
        if (mask & IN_Q_OVERFLOW) {
          this.enqueue({ wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: null });
          continue;
        }
        const w = this.byHost.get(hwd);
        if (w === undefined) continue;
        if (mask & IN_IGNORED) {
          this.drop(w);
          continue;
        }
        this.enqueue({ wd: w.wd, mask, cookie, name });
        // the host ended an IN_ONESHOT watch: its IN_IGNORED follows
      }
    }
  }

  /** Take every queued event, the host's too, as elfrun's own reader (dnotify's instance) sees them. */
  take(): Array<{ mask: number; cookie: number; named: boolean }> {
    this.drain();
    const out = this.queue.slice(this.head).map((e) => ({ mask: e.mask, cookie: e.cookie, named: e.name !== null }));
    this.queue = [];
    this.head = 0;
    this.queued = 0;
    this.overflowQueued = false;
    return out;
  }

  override read(t: IoContext, addr: number, len: number): number {
    this.drain();
    if (this.length === 0) {
      if (this.flags & O_NONBLOCK) fail(E.EAGAIN);
      t.block(this.host >= 0 ? [this.readers, t.hostPollQueue(this.host, POLLIN)] : [this.readers]);
    }
    if (eventSize(this.queue[this.head]) > len) fail(E.EINVAL);
    const parts: Buffer[] = [];
    let total = 0;
    while (this.length > 0 && total + eventSize(this.queue[this.head]) <= len) {
      const e = this.queue[this.head];
      const size = eventSize(e);
      const b = Buffer.alloc(size);
      b.writeInt32LE(e.wd, 0);
      b.writeUInt32LE(e.mask >>> 0, 4);
      b.writeUInt32LE(e.cookie >>> 0, 8);
      b.writeUInt32LE(size - INOTIFY_EVENT_SIZE, 12);
      e.name?.copy(b, 16);
      parts.push(b);
      total += size;
      this.head++;
      this.queued -= size;
      if (e.mask & IN_Q_OVERFLOW) this.overflowQueued = false;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    t.mm.write(addr, Buffer.concat(parts));
    return total;
  }

  override write(): number {
    return fail(E.EINVAL);
  }

  override ioctl(t: IoContext, req: number, arg: number): number {
    if (req !== FIONREAD) return fail(E.ENOTTY);
    this.drain();
    const b = Buffer.alloc(4);
    b.writeInt32LE(this.queued);
    t.mm.write(arg, b);
    return 0;
  }

  override poll(_t: IoContext, _events: number): number {
    this.drain();
    return this.length > 0 ? POLLIN | POLLRDNORM : 0;
  }

  override pollQueues(t: IoContext, events: number): WaitQueue[] {
    if (!(events & (POLLIN | POLLRDNORM))) return [];
    return this.host >= 0 ? [this.readers, t.hostPollQueue(this.host, POLLIN)] : [this.readers];
  }

  override get fasyncStyle(): FasyncStyle {
    return 'inotify';
  }

  override statBytes(t: IoContext): Uint8Array {
    const c = t.cred;
    return hostStatBytes({ dev: 0xd, ino: this.ino, mode: 0o600, nlink: 1, uid: c.euid, gid: c.egid, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: this.created, mtimeMs: this.created, ctimeMs: this.created });
  }

  /** Linux's inotify_fdinfo: one line per watch, the newest first, with the inode's file handle where its file system has one (the host's). */
  override fdinfo(): string {
    const fh = (h: [number, Buffer] | null): string => (h === null ? '' : `fhandle-bytes:${h[1].length.toString(16)} fhandle-type:${h[0].toString(16)} f_handle:${h[1].toString('hex')}`);
    return [...this.watches.values()]
      .reverse()
      .map((w) => `inotify wd:${w.wd.toString(16)} ino:${w.ino.toString(16)} sdev:${w.sdev.toString(16)} mask:${w.mask.toString(16)} ignored_mask:0 ${fh(w.handle)}\n`)
      .join('');
  }

  override release(): void {
    for (const w of [...this.watches.values()]) this.forget(w);
    if (this.host >= 0) host.close(this.host);
    this.host = -1;
  }
}
