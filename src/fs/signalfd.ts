// signalfd: a file that reads the caller's pending signals of a mask (its
// thread's and its process's) as struct signalfd_siginfo, taking them as
// delivery would; poll says whether one is pending. What is pending is the
// kernel's (IoContext.signals): the file keeps only its mask.
import type { WaitQueue } from '../ctx/waitq.js';
import { E } from '../abi/errno.js';
import { fail, SysError } from '../abi/errors.js';
import { O_NONBLOCK } from '../abi/fcntl.js';
import { POLLIN } from '../abi/poll.js';
import { SIGNALFD_SIGINFO_SIZE } from '../abi/signalfd.js';
import { SIG, SI_SIGIO, SI_TIMER, SI_USER } from '../abi/signal.js';
import { hostStatBytes } from './stat.js';
import { FileDescription } from './file.js';
import type { IoContext } from './context.js';

/** Linux's siginfo layouts (siginfo_layout), as signalfd_copyinfo fills from them */
type Layout = 'kill' | 'timer' | 'poll' | 'fault' | 'chld' | 'rt' | 'sys' | 'mceerr';

/** the highest si_code of each signal's kernel codes (sig_sicodes: NSIGILL, NSIGFPE...) */
const KERNEL_CODES: Record<number, [number, Layout]> = {
  [SIG.SIGILL]: [11, 'fault'],
  [SIG.SIGFPE]: [15, 'fault'],
  [SIG.SIGSEGV]: [10, 'fault'],
  [SIG.SIGBUS]: [5, 'fault'],
  [SIG.SIGTRAP]: [6, 'fault'],
  [SIG.SIGCHLD]: [6, 'chld'],
  [SIG.SIGIO]: [6, 'poll'],
  [SIG.SIGSYS]: [2, 'sys'],
};
const SI_KERNEL = 0x80;
const NSIGPOLL = 6;
const BUS_MCEERR_AR = 4;
const BUS_MCEERR_AO = 5;

function layout(sig: number, code: number): Layout {
  if (code > SI_USER && code < SI_KERNEL) {
    const k = KERNEL_CODES[sig];
    if (k !== undefined && code <= k[0]) return sig === SIG.SIGBUS && code >= BUS_MCEERR_AR && code <= BUS_MCEERR_AO ? 'mceerr' : k[1];
    return code <= NSIGPOLL ? 'poll' : 'kill';
  }
  if (code === SI_TIMER) return 'timer';
  if (code === SI_SIGIO) return 'poll';
  return code < 0 ? 'rt' : 'kill';
}

/** struct signalfd_siginfo from a kernel siginfo (Linux's signalfd_copyinfo). */
export function signalfdSiginfo(info: Buffer): Buffer {
  const o = Buffer.alloc(SIGNALFD_SIGINFO_SIZE);
  const sig = info.readInt32LE(0);
  const code = info.readInt32LE(8);
  o.writeUInt32LE(sig, 0);
  o.writeInt32LE(info.readInt32LE(4), 4);
  o.writeInt32LE(code, 8);
  const pidUid = (): void => {
    o.writeUInt32LE(info.readUInt32LE(16), 12);
    o.writeUInt32LE(info.readUInt32LE(20), 16);
  };
  const value = (): void => {
    o.writeInt32LE(info.readInt32LE(24), 44); // ssi_int
    o.writeBigUInt64LE(info.readBigUInt64LE(24), 48); // ssi_ptr
  };
  switch (layout(sig, code)) {
    case 'kill':
      pidUid();
      break;
    case 'timer':
      o.writeUInt32LE(info.readUInt32LE(16), 24); // ssi_tid
      o.writeUInt32LE(info.readUInt32LE(20), 32); // ssi_overrun
      value();
      break;
    case 'poll':
      o.writeUInt32LE(info.readUInt32LE(16), 28); // ssi_band
      o.writeInt32LE(info.readInt32LE(24), 20); // ssi_fd
      break;
    case 'fault':
      o.writeBigUInt64LE(info.readBigUInt64LE(16), 72);
      break;
    case 'mceerr':
      o.writeBigUInt64LE(info.readBigUInt64LE(16), 72);
      o.writeUInt16LE(info.readUInt16LE(24), 80);
      break;
    case 'chld':
      pidUid();
      o.writeInt32LE(info.readInt32LE(24), 40); // ssi_status
      o.writeBigUInt64LE(info.readBigUInt64LE(32), 56); // ssi_utime
      o.writeBigUInt64LE(info.readBigUInt64LE(40), 64); // ssi_stime
      break;
    case 'rt':
      pidUid();
      value();
      break;
    case 'sys':
      o.writeBigUInt64LE(info.readBigUInt64LE(16), 88); // ssi_call_addr
      o.writeInt32LE(info.readInt32LE(24), 84); // ssi_syscall
      o.writeUInt32LE(info.readUInt32LE(28), 96); // ssi_arch
      break;
  }
  return o;
}

export class SignalFd extends FileDescription {
  override readonly anonName = '[signalfd]';
  private readonly created = Date.now();

  constructor(
    /** the signals it reads (never SIGKILL or SIGSTOP) */
    public mask: bigint,
    flags: number,
    private readonly ino: number,
  ) {
    super(flags);
  }

  /**
   * As many signals as fit (at least one struct): a read waits for the
   * first (unless O_NONBLOCK), then takes what else is pending.
   */
  override read(t: IoContext, addr: number, len: number): number {
    const n = Math.floor(len / SIGNALFD_SIGINFO_SIZE);
    if (n === 0) fail(E.EINVAL);
    let done = 0;
    while (done < n) {
      const info = t.signals.take(this.mask);
      if (info === null) break;
      try {
        t.mm.write(addr + done * SIGNALFD_SIGINFO_SIZE, signalfdSiginfo(info));
      } catch (e) {
        // the signal taken is lost, as Linux's; what was read before it is returned
        if (done > 0 && e instanceof SysError) break;
        throw e;
      }
      done++;
    }
    if (done === 0) {
      if (this.flags & O_NONBLOCK) fail(E.EAGAIN);
      t.block([t.signals.queue]);
    }
    return done * SIGNALFD_SIGINFO_SIZE;
  }

  override poll(t: IoContext, _events: number): number {
    return t.signals.pending(this.mask) !== 0n ? POLLIN : 0;
  }

  override pollQueues(t: IoContext, _events: number): WaitQueue[] {
    return [t.signals.queue];
  }

  override statBytes(t: IoContext): Uint8Array {
    const c = t.cred;
    return hostStatBytes({ dev: 0xd, ino: this.ino, mode: 0o600, nlink: 1, uid: c.euid, gid: c.egid, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: this.created, mtimeMs: this.created, ctimeMs: this.created });
  }

  override fdinfo(): string {
    return `sigmask:\t${this.mask.toString(16).padStart(16, '0')}\n`;
  }
}
