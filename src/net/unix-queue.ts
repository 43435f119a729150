// What an AF_UNIX socket's receive queue holds, as Linux's skbs on
// sk_receive_queue: each message (a stream's send, a datagram, a record) with
// its bytes, its sender (whose name recvfrom gives and whose send buffer it
// counts against), the files it carries (SCM_RIGHTS) and the sender's
// credentials (SCM_CREDENTIALS). Also moving bytes between iovecs and
// buffers from a given offset, so that a call retried after a park goes on
// where it stopped.
import type { IoContext } from '../fs/context.js';
import type { FileDescription } from '../fs/file.js';
import { PROT_WRITE } from '../abi/mman.js';
import type { Iov, Ucred } from './socket.js';

/** shutdown bits, as sk_shutdown */
export const RCV_SHUTDOWN = 1;
export const SEND_SHUTDOWN = 2;
export const SHUTDOWN_MASK = 3;
/** net.unix.max_dgram_qlen's default: datagrams a socket queues from senders that are not its peer */
export const MAX_DGRAM_QLEN = 10;

/** The bookkeeping Linux adds to every skb (its truesize beyond the data), counted against the sender's SO_SNDBUF */
export const SKB_OVERHEAD = 768;

/** The sender's side of a message: its name now, and its send-buffer accounting. */
export interface Sender {
  readonly name: Buffer | null;
  wmem: number;
  /** woken when a message it sent is consumed */
  sent(): void;
}

export class Msg {
  /** bytes already read (a stream message read in parts) */
  off = 0;
  constructor(
    readonly data: Buffer,
    readonly from: Sender,
    /** SCM_RIGHTS: one reference each, until received or dropped */
    public rights: FileDescription[] | null,
    readonly creds: Ucred,
  ) {
    from.wmem += this.cost;
  }
  get cost(): number {
    return this.data.length + SKB_OVERHEAD;
  }
  get left(): number {
    return this.data.length - this.off;
  }
  /** The message leaves the queue (read or dropped): its sender's buffer has room again. */
  done(): void {
    this.from.wmem -= this.cost;
    this.from.sent();
  }
  /** Dropped unread (its socket went): the files it carried are let go. */
  drop(): void {
    if (this.rights) for (const f of this.rights) f.unref();
    this.rights = null;
    this.done();
  }
  /** The files for a receiver: taken, or with a reference more each for a peek. */
  takeRights(peek: boolean): FileDescription[] | null {
    const r = this.rights;
    if (r === null) return null;
    if (peek) {
      for (const f of r) f.refs++;
      return [...r];
    }
    this.rights = null;
    return r;
  }
}

export const iovLen = (iov: Iov[]): number => iov.reduce((n, v) => n + v.len, 0);

/** `len` bytes of the iovecs from byte `from` (EFAULT if unreadable). */
export function readIov(t: IoContext, iov: Iov[], from: number, len: number): Buffer {
  const parts: Buffer[] = [];
  let skip = from;
  let want = len;
  for (const v of iov) {
    if (want === 0) break;
    if (skip >= v.len) {
      skip -= v.len;
      continue;
    }
    const n = Math.min(v.len - skip, want);
    parts.push(t.mm.read(v.base + skip, n));
    want -= n;
    skip = 0;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Write `data` into the iovecs from byte `from` (EFAULT if not writable); what does not fit is left out. */
export function writeIov(t: IoContext, iov: Iov[], from: number, data: Buffer): number {
  let skip = from;
  let off = 0;
  for (const v of iov) {
    if (off >= data.length) break;
    if (skip >= v.len) {
      skip -= v.len;
      continue;
    }
    const n = Math.min(v.len - skip, data.length - off);
    if (n > 0) {
      t.mm.check(v.base + skip, n, PROT_WRITE);
      t.mm.write(v.base + skip, data.subarray(off, off + n));
    }
    off += n;
    skip = 0;
  }
  return off;
}
