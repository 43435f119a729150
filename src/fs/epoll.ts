// epoll: an interest list of (file, fd) pairs whose readiness is the files'
// own poll answers; epoll_wait parks on their wait queues like poll(2).
import type { WaitQueue } from '../ctx/waitq.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { hostStatBytes } from './stat.js';
import { EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLEXCLUSIVE, EPOLLONESHOT, POLLERR, POLLHUP, POLLIN, POLLRDNORM } from '../abi/poll.js';
import { FileDescription } from './file.js';
import { type IoContext } from './context.js';
import { nowMs } from '../host/clock.js';

const ALWAYS = POLLERR | POLLHUP; // reported whether asked for or not

interface Interest {
  fd: number;
  file: FileDescription;
  events: number;
  data: bigint;
  /** EPOLLONESHOT: reported once, then disabled until EPOLL_CTL_MOD */
  disabled: boolean;
}

export class EpollFile extends FileDescription {
  override readonly anonName = '[eventpoll]';
  private readonly interests = new Map<FileDescription, Map<number, Interest>>();
  constructor(
    flags: number,
    /** its inode number (the Vfs's anonIno) */
    private readonly ino: number,
  ) {
    super(flags);
  }
  private readonly created = Date.now();
  /** the interest list as /proc/<pid>/fdinfo shows it: each (fd, file) with its events and data */
  interestList(): Array<{ fd: number; file: FileDescription; events: number; data: bigint }> {
    return [...this.interests.values()].flatMap((byFd) => [...byFd.values()]);
  }

  override read(): number {
    return fail(E.EINVAL);
  }
  override write(): number {
    return fail(E.EINVAL);
  }
  override statBytes(t: IoContext): Uint8Array {
    const c = t.cred;
    return hostStatBytes({ dev: 0xd, ino: this.ino, mode: 0o600, nlink: 1, uid: c.euid, gid: c.egid, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: this.created, mtimeMs: this.created, ctimeMs: this.created });
  }

  ctl(op: number, fd: number, file: FileDescription, events: number, data: bigint): void {
    if (file === this) fail(E.EINVAL);
    let byFd = this.interests.get(file);
    const cur = byFd?.get(fd);
    switch (op) {
      case EPOLL_CTL_ADD:
        if (cur) fail(E.EEXIST);
        if (file instanceof EpollFile && file.watches(this)) fail(E.ELOOP);
        if (byFd === undefined) this.interests.set(file, (byFd = new Map()));
        byFd.set(fd, { fd, file, events, data, disabled: false });
        return;
      case EPOLL_CTL_DEL:
        if (!cur) fail(E.ENOENT);
        byFd!.delete(fd);
        if (byFd!.size === 0) this.interests.delete(file);
        return;
      case EPOLL_CTL_MOD:
        if (!cur) fail(E.ENOENT);
        if (cur.events & EPOLLEXCLUSIVE) fail(E.EINVAL);
        cur.events = events;
        cur.data = data;
        cur.disabled = false;
        return;
      default:
        fail(E.EINVAL);
    }
  }

  /** Does this epoll (or one it watches) watch `other`? (a loop is ELOOP) */
  private watches(other: EpollFile, depth = 0): boolean {
    if (depth > 5) return true;
    for (const f of this.interests.keys()) if (f === other || (f instanceof EpollFile && f.watches(other, depth + 1))) return true;
    return false;
  }

  /** The ready interests now (files closed everywhere are dropped, as Linux drops them). */
  ready(t: IoContext, max: number, consume: boolean): Array<{ events: number; data: bigint }> {
    const out: Array<{ events: number; data: bigint }> = [];
    for (const [file, byFd] of this.interests) {
      if (file.refs <= 0) {
        this.interests.delete(file);
        continue;
      }
      for (const i of byFd.values()) {
        if (out.length >= max) return out;
        if (i.disabled) continue;
        const want = i.events & 0xffff;
        const r = file.poll(t, want | ALWAYS) & (want | ALWAYS);
        if (r === 0) continue;
        out.push({ events: r, data: i.data });
        if (consume && i.events & EPOLLONESHOT) i.disabled = true;
      }
    }
    return out;
  }

  queues(t: IoContext): WaitQueue[] {
    const q: WaitQueue[] = [];
    for (const [file, byFd] of this.interests) for (const i of byFd.values()) if (!i.disabled) q.push(...file.pollQueues(t, i.events & 0xffff));
    return q;
  }

  override poll(t: IoContext): number {
    return this.ready(t, 1, false).length > 0 ? POLLIN | POLLRDNORM : 0;
  }
  override pollQueues(t: IoContext): WaitQueue[] {
    return this.queues(t);
  }
}

/** struct epoll_event: packed (12 bytes) on x86_64, 16 bytes on arm64; where its 64-bit data sits. */
export function epollEventLayout(t: IoContext): { size: number; dataOff: number } {
  return t.arch.name === 'x86_64' ? { size: 12, dataOff: 4 } : { size: 16, dataOff: 8 };
}

/** epoll_wait: up to max ready events into guest memory. */
export function epollWait(t: IoContext, ep: EpollFile, addr: number, max: number, deadline: number): number {
  const { size: rec, dataOff } = epollEventLayout(t);
  const ready = ep.ready(t, max, true);
  if (ready.length === 0) {
    if (nowMs() < deadline) t.block(ep.queues(t), { deadline, restart: 'intr' });
    return 0;
  }
  const b = Buffer.alloc(ready.length * rec);
  ready.forEach((e, i) => {
    b.writeUInt32LE(e.events >>> 0, i * rec);
    b.writeBigUInt64LE(e.data, i * rec + dataOff);
  });
  t.mm.write(addr, b);
  return ready.length;
}
