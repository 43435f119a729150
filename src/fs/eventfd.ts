// eventfd: a 64-bit counter behind a file. A write adds to it (waiting
// while the sum would pass 0xfffffffffffffffe), a read takes it all, or one
// in semaphore mode (waiting while it is zero); poll says which would wait.
import { WaitQueue } from '../ctx/waitq.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { O_NONBLOCK } from '../abi/fcntl.js';
import { EFD_SEMAPHORE } from '../abi/eventfd.js';
import { POLLIN, POLLOUT } from '../abi/poll.js';
import { hostStatBytes } from './stat.js';
import { FileDescription } from './file.js';
import { type IoContext } from './context.js';

const MAX = 0xfffffffffffffffen;

/** eventfd-id in fdinfo: a number for each eventfd, as Linux's IDA gives them */
let nextId = 0;

export class EventFd extends FileDescription {
  override readonly anonName = '[eventfd]';
  private count: bigint;
  private readonly semaphore: boolean;
  private readonly id = nextId++;
  /** woken when the count goes up (readers) or down (writers) */
  private readonly readers = new WaitQueue('eventfd-read');
  private readonly writers = new WaitQueue('eventfd-write');
  private readonly created = Date.now();

  constructor(
    initval: number,
    flags: number,
    /** EFD_SEMAPHORE */
    efdFlags: number,
    private readonly ino: number,
  ) {
    super(flags);
    this.count = BigInt(initval >>> 0);
    this.semaphore = (efdFlags & EFD_SEMAPHORE) !== 0;
  }

  override read(t: IoContext, addr: number, len: number): number {
    if (len < 8) fail(E.EINVAL);
    if (this.count === 0n) {
      if (this.flags & O_NONBLOCK) fail(E.EAGAIN);
      t.block([this.readers]);
    }
    const v = this.semaphore ? 1n : this.count;
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    t.mm.write(addr, b);
    this.count -= v;
    this.writers.wake();
    return 8;
  }

  override write(t: IoContext, addr: number, len: number): number {
    if (len < 8) fail(E.EINVAL);
    const v = t.mm.read(addr, 8).readBigUInt64LE(0);
    if (v === 0xffffffffffffffffn) fail(E.EINVAL);
    if (MAX - this.count < v) {
      if (this.flags & O_NONBLOCK) fail(E.EAGAIN);
      t.block([this.writers]);
    }
    this.count += v;
    if (v > 0n) this.readers.wake();
    return 8;
  }

  /** eventfd_signal: the kernel adds 1 (an AIO completion with IOCB_FLAG_RESFD); the count stops at its maximum. */
  signal(): void {
    if (this.count < MAX) this.count++;
    this.readers.wake();
  }

  override poll(_t: IoContext, _events: number): number {
    return (this.count > 0n ? POLLIN : 0) | (this.count < MAX ? POLLOUT : 0);
  }

  override pollQueues(_t: IoContext, events: number): WaitQueue[] {
    const q: WaitQueue[] = [];
    if (events & POLLIN) q.push(this.readers);
    if (events & POLLOUT) q.push(this.writers);
    return q;
  }

  override statBytes(t: IoContext): Uint8Array {
    const c = t.cred;
    return hostStatBytes({ dev: 0xd, ino: this.ino, mode: 0o600, nlink: 1, uid: c.euid, gid: c.egid, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: this.created, mtimeMs: this.created, ctimeMs: this.created });
  }

  override fdinfo(): string {
    return `eventfd-count: ${this.count.toString(16).padStart(16)}\neventfd-id: ${this.id}\neventfd-semaphore: ${this.semaphore ? 1 : 0}\n`;
  }
}
