// devfs: /dev as elfrun shows it, a tmpfs holding Linux's character devices
// (null, zero, full, random, urandom, tty) and the links into /proc/self/fd.
// mknod of these device numbers in any tmpfs opens the same devices, as on Linux.
import { host, hostMemmove, hostRandom, Scratch } from '../host/libc.js';
import { PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { AT_FDCWD, O_CLOEXEC, O_NOCTTY } from '../abi/fcntl.js';
import { S_IFCHR, S_IFDIR, S_IFLNK } from '../abi/stat.js';
import { FileDescription } from './file.js';
import { type IoContext } from './context.js';
import { toHostOpenFlags } from './flags.js';
import { HostFile } from './hostfile.js';
import { TmpFs, TmpNode } from './tmpfs.js';
import { hostScratch, transfer } from './transfer.js';

const dev = (major: number, minor: number): number => (major << 8) | minor;
export const DEV = { null: dev(1, 3), zero: dev(1, 5), full: dev(1, 7), random: dev(1, 8), urandom: dev(1, 9), tty: dev(5, 0) };

let zeros: Scratch | null = null;

/** A character device: reads and writes as its driver answers them. */
class CharDevice extends FileDescription {
  constructor(
    private node: TmpNode,
    flags: number,
    private kind: 'null' | 'zero' | 'full' | 'random',
  ) {
    super(flags);
  }
  override read(t: IoContext, addr: number, len: number): number {
    switch (this.kind) {
      case 'null':
        return 0;
      case 'zero':
      case 'full':
        // a small read (dd bs=1) within one mapping: no call into libc
        if (len <= 4096 && t.mm.zeroWithin(addr, len, PROT_WRITE)) return len;
        zeros ??= new Scratch(65536); // never written: always zero
        return transfer(t.mm, addr, len, PROT_WRITE, (h, n) => {
          for (let done = 0; done < n; done += 65536) hostMemmove(h + done, zeros!.addr, Math.min(65536, n - done));
          return n;
        });
      case 'random': {
        // random and urandom never block once the host's pool is ready
        const s = hostScratch();
        return transfer(t.mm, addr, Math.min(len, 1 << 25), PROT_WRITE, (h, n) => {
          for (let done = 0; done < n; done += s.bytes.length) {
            const k = Math.min(n - done, s.bytes.length);
            hostRandom(s.bytes.subarray(0, k));
            hostMemmove(h + done, s.addr, k);
          }
          return n;
        });
      }
    }
  }
  override pread(t: IoContext, addr: number, len: number): number {
    return this.read(t, addr, len);
  }
  override write(t: IoContext, addr: number, len: number): number {
    if (this.kind === 'full') fail(E.ENOSPC);
    t.mm.check(addr, len, PROT_READ);
    return len;
  }
  override pwrite(t: IoContext, addr: number, len: number): number {
    return this.write(t, addr, len);
  }
  override get mapsAsAnonymous(): boolean {
    return this.kind === 'zero';
  }
  override kread(_t: IoContext, s: Scratch, len: number): number {
    if (this.kind === 'null') return 0;
    if (this.kind === 'random') hostRandom(s.bytes.subarray(0, len));
    else s.bytes.fill(0, 0, len);
    return len;
  }
  override kwrite(_t: IoContext, _s: Scratch, len: number): number {
    if (this.kind === 'full') fail(E.ENOSPC);
    return len;
  }
  override lseek(): number {
    return 0; // Linux: these devices accept any seek and stay at 0
  }
  override statBytes(): Uint8Array {
    return this.node.stat();
  }
}

function openDevice(t: IoContext, rdev: number, flags: number, node: TmpNode): FileDescription {
  switch (rdev) {
    case DEV.null:
      return new CharDevice(node, flags, 'null');
    case DEV.zero:
      return new CharDevice(node, flags, 'zero');
    case DEV.full:
      return new CharDevice(node, flags, 'full');
    case DEV.random:
    case DEV.urandom:
      return new CharDevice(node, flags, 'random');
    case DEV.tty: {
      // the caller's controlling terminal: ENXIO without one; the host's is elfrun's own
      const ctty = t.terminal.controlling(t);
      if (ctty === null) fail(E.ENXIO);
      const fd = host.openat(AT_FDCWD, Buffer.from('/dev/tty\0'), toHostOpenFlags(t.arch.name, flags) | O_CLOEXEC | O_NOCTTY, 0);
      if (fd < 0) fail(-fd);
      const f = new HostFile(fd, flags & ~O_CLOEXEC, '/dev/tty', null, t.vfs.writers);
      f.tty = ctty;
      return f;
    }
    default:
      return fail(E.ENXIO);
  }
}

export class DevFs extends TmpFs {
  override readonly type = 'devtmpfs';
  constructor() {
    super(0o755, 0, 0);
    this.openDevice = openDevice;
    const root = this.rootNode;
    const add = (name: string, n: TmpNode): void => {
      root.children!.set(name, n);
      root.size += 20;
      if (n.type === S_IFDIR) root.nlink++;
    };
    for (const [name, rdev] of Object.entries(DEV)) {
      const n = new TmpNode(this, S_IFCHR | 0o666, 0, name === 'tty' ? 5 : 0, root);
      n.rdev = rdev;
      add(name, n);
    }
    const links: Array<[string, string]> = [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2']];
    for (const [name, target] of links) {
      const n = new TmpNode(this, S_IFLNK | 0o777, 0, 0, root);
      n.target = Buffer.from(target);
      n.size = target.length;
      add(name, n);
    }
    add('shm', new TmpNode(this, S_IFDIR | 0o1777, 0, 0, root));
    add('pts', new TmpNode(this, S_IFDIR | 0o755, 0, 0, root));
  }
}
