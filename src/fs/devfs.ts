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
import { HostFs } from './hostfs.js';
import type { VNode } from './vfs.js';
import { existsSync } from 'node:fs';
import { hostScratch, transfer } from './transfer.js';
import { openSlave, PtyMaster, Ptys, PTS_MAJOR } from './pty.js';

const dev = (major: number, minor: number): number => (major << 8) | minor;
export const DEV = { null: dev(1, 3), zero: dev(1, 5), full: dev(1, 7), random: dev(1, 8), urandom: dev(1, 9), tty: dev(5, 0), ptmx: dev(5, 2) };

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

function openDevice(t: IoContext, rdev: number, flags: number, node: TmpNode, devfs: DevFs): FileDescription {
  if (((rdev >> 8) & 0xfff) === PTS_MAJOR) {
    const p = devfs.ptys.all.get((rdev & 0xff) | ((rdev >> 12) & ~0xff));
    if (p === undefined) fail(E.EIO);
    return openSlave(t, p, flags, node);
  }
  switch (rdev) {
    case DEV.ptmx:
      return devfs.openMaster(t, flags, node);
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
      // a guest pty's slave, with /dev/tty's own inode (fstat and ttyname say /dev/tty)
      const pty = devfs.ptys.of(ctty);
      if (pty !== null) return openSlave(t, pty, flags | O_NOCTTY, node);
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

/**
 * /dev/pts: the guest's pty slaves, and the host's terminals by the names
 * the host gives them (a terminal elfrun was given is /dev/pts/N of the
 * host: ttyname finds it there). A listing shows the guest's.
 */
class PtsDir extends TmpNode {
  private host: VNode | null | undefined = undefined;
  override lookup(t: IoContext, name: string): VNode {
    const n = this.children!.get(name);
    if (n !== undefined) return n;
    if (this.host === undefined) this.host = existsSync('/dev/pts') ? new HostFs('/dev/pts').root() : null;
    if (this.host === null || !/^[0-9]+$/.test(name)) fail(E.ENOENT);
    return this.host.lookup(t, name);
  }
}

export class DevFs extends TmpFs {
  override readonly type = 'devtmpfs';
  /** the guest's ptys: /dev/ptmx makes them, /dev/pts shows their slaves */
  readonly ptys = new Ptys();
  private readonly pts: PtsDir;
  constructor() {
    super(0o755, 0, 0);
    this.openDevice = (t, rdev, flags, node) => openDevice(t, rdev, flags, node, this);
    const root = this.rootNode;
    const add = (name: string, n: TmpNode): void => {
      root.children!.set(name, n);
      root.size += 20;
      if (n.type === S_IFDIR) root.nlink++;
    };
    for (const [name, rdev] of Object.entries(DEV)) {
      const n = new TmpNode(this, S_IFCHR | 0o666, 0, name === 'tty' || name === 'ptmx' ? 5 : 0, root);
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
    this.pts = new PtsDir(this, S_IFDIR | 0o755, 0, 0, root);
    add('pts', this.pts);
    // devpts's own ptmx, mode 0 as devpts mounts it by default (ptmxmode=000)
    const ptmx = new TmpNode(this, S_IFCHR, 0, 0, this.pts);
    ptmx.rdev = DEV.ptmx;
    this.pts.children!.set('ptmx', ptmx);
  }

  /** open(/dev/ptmx): a new pty, its slave /dev/pts/N (the opener's, group tty, mode 0620) locked until unlockpt */
  openMaster(t: IoContext, flags: number, node: TmpNode): FileDescription {
    // the host's terminals keep their names: a guest pty takes an index no host one has
    const p = this.ptys.alloc(t.terminal, (i) => existsSync(`/dev/pts/${i}`));
    const n = new TmpNode(this, S_IFCHR | 0o620, t.cred.fsuid, 5, this.pts);
    n.rdev = p.ctrl.rdev;
    this.pts.children!.set(String(p.index), n);
    p.node = n;
    return new PtyMaster(p, flags, node, (q) => {
      this.pts.children!.delete(String(q.index));
      this.ptys.all.delete(q.index);
    });
  }
}
