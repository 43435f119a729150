// System V shared memory (Linux's ipc/shm.c): segments, each a host memfd of
// the segment's size (Linux's shmem file), attached by mapping it MAP_SHARED
// into the caller (its pages are the same host pages in every process that
// attaches it, and fork shares them). Each attach tags its VMAs (VmaInfo.owner),
// which split, fork and mremap copy, so shm_nattch counts the VMAs over the
// segment in every live address space, as Linux's vm_ops open/close do, and
// shmdt finds what one shmat mapped. A segment removed with IPC_RMID while
// attached (SHM_DEST) goes when its last mapping does.
import type { ShmemAccount } from '../fs/shmem.js';
import { E } from '../abi/errno.js';
import { fail, Unsupported } from '../abi/errors.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mman.js';
import type { Cred } from '../ctx/cred.js';
import type { IoContext } from '../fs/context.js';
import { host, hostFileInfo, hostMemfd } from '../host/libc.js';
import type { AddressSpace } from '../mm/address-space.js';
import { Chunk } from '../mm/chunk.js';
import { PAGE, pageUp } from '../mm/layout.js';
import type { VmLimits } from '../mm/mapping.js';
import { Vma, type VmaOwner } from '../mm/vma.js';
import {
  capable,
  CAP_IPC_LOCK,
  IPC64_PERM_SIZE,
  IpcIds,
  IpcPerm,
  nowSec,
  S_IRUGO,
  S_IRWXUGO,
  S_IWUGO,
  S_IXUGO,
  type IpcObject,
} from './ids.js';
import type { IpcLimits } from './limits.js';
import { IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, SHM_DEST, SHM_EXEC, SHM_HUGETLB, SHM_INFO, SHM_LOCK, SHM_LOCKED, SHM_RDONLY, SHM_REMAP, SHM_RND, SHM_STAT, SHM_STAT_ANY, SHM_UNLOCK } from '../abi/ipc.js';

/** SHMLBA on x86_64 and arm64 (native tasks): a page */
const SHMLBA = PAGE;
/** SHMMIN */
const SHMMIN = 1n;
/** SHMSEG: attaches per process, as Linux reports it (SHMMNI; not enforced) */
const SHMSEG = 4096;
/** vm.mmap_min_addr: no mapping below it */
const MMAP_MIN_ADDR = 0x10000;
/** shmem's device in /proc/<pid>/maps (the internal shm mount, 00:01) */
const SHM_DEV = 1;

export class ShmSegment implements IpcObject {
  readonly perm: IpcPerm;
  /** the file name Linux gives it, with the key it was made with */
  readonly name: string;
  cpid: number;
  lpid = 0;
  atime = 0;
  dtime = 0;
  ctime = nowSec();
  constructor(
    key: number,
    mode: number,
    c: Cred,
    pid: number,
    readonly size: number,
    /** the host memfd holding its pages */
    readonly fd: number,
  ) {
    this.perm = new IpcPerm(key, mode, c);
    this.cpid = pid;
    this.name = `/SYSV${(key >>> 0).toString(16).padStart(8, '0')} (deleted)`;
  }
  get pages(): number {
    return pageUp(this.size) / PAGE;
  }
  /** the account its size is charged to (under a memory cap), until it is destroyed */
  charged: ShmemAccount | null = null;
}

/** One shmat: the VMAs it made carry it. */
export interface ShmAttach extends VmaOwner {
  readonly kind: 'sysv-shm';
  readonly seg: ShmSegment;
}

const segOf = (o: VmaOwner | undefined): ShmSegment | null => (o?.kind === 'sysv-shm' ? (o as ShmAttach).seg : null);

export class SharedMemory {
  readonly ids: IpcIds<ShmSegment>;
  /** pages of every segment (shm_tot) */
  private tot = 0;

  constructor(
    private readonly limits: IpcLimits,
    /** the address spaces of the live processes (shm_nattch counts their VMAs) */
    private readonly spaces: () => Iterable<AddressSpace>,
  ) {
    this.ids = new IpcIds(() => limits.shmmni);
  }

  /** shmget(2) */
  get(t: IoContext, key: number, size: bigint, flags: number): number {
    this.reap();
    return this.ids.getOrMake(
      key,
      flags,
      t.cred,
      () => this.make(t, key, size, flags),
      (s) => {
        if (BigInt(s.size) < size) fail(E.EINVAL);
      },
    );
  }

  private make(t: IoContext, key: number, big: bigint, flags: number): ShmSegment {
    if (flags & SHM_HUGETLB) throw new Unsupported('shmget SHM_HUGETLB', E.ENOMEM);
    if (big < SHMMIN || big > this.limits.shmmax) fail(E.EINVAL);
    // numpages << PAGE_SHIFT must not wrap; then shm_tot within shmall; beyond 2^53 bytes no host gives the memory
    const bigPages = (big + BigInt(PAGE - 1)) / BigInt(PAGE);
    if (bigPages * BigInt(PAGE) >= 2n ** 64n || BigInt(this.tot) + bigPages > this.limits.shmall) fail(E.ENOSPC);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) fail(E.ENOMEM);
    const size = Number(big);
    const pages = Number(bigPages);
    if (this.ids.inUse >= this.limits.shmmni) fail(E.ENOSPC);
    const fd = hostMemfd(`SYSV${(key >>> 0).toString(16).padStart(8, '0')}`);
    if (fd < 0) fail(-fd);
    const r = host.ftruncate(fd, size);
    if (r < 0) {
      host.close(fd);
      fail(r === -E.EFBIG ? E.ENOSPC : -r);
    }
    try {
      // under a memory cap the segment is charged whole (Linux's strict overcommit accounting of shmget)
      t.vfs.shmem.chargeSegment(pageUp(size));
    } catch (e) {
      host.close(fd);
      throw e;
    }
    this.tot += pages;
    const seg = new ShmSegment(key, flags & S_IRWXUGO, t.cred, t.pid, size, fd);
    seg.charged = t.vfs.shmem;
    return seg;
  }

  /** shm_nattch: the VMAs over the segment in every live address space. */
  nattch(s: ShmSegment): number {
    let n = 0;
    for (const space of this.spaces()) for (const v of space.vmas) if (segOf(v.info.owner) === s) n++;
    return n;
  }

  /** Segments removed while attached go once nothing maps them. */
  reap(): void {
    for (const s of [...this.ids.values()]) if (s.perm.mode & SHM_DEST && this.nattch(s) === 0) this.destroy(s);
  }

  private destroy(s: ShmSegment): void {
    this.ids.remove(s);
    this.tot -= s.pages;
    s.charged?.uncharge(pageUp(s.size));
    host.close(s.fd);
  }

  /** shmat(2): the address the segment is mapped at. */
  attach(t: IoContext, id: number, addr: number, flags: number, lim: VmLimits): number {
    this.reap();
    if (id < 0) fail(E.EINVAL);
    if (addr !== 0) {
      if (addr % SHMLBA !== 0) {
        if (!(flags & SHM_RND)) fail(E.EINVAL);
        addr -= addr % SHMLBA;
        if (addr === 0 && flags & SHM_REMAP) fail(E.EINVAL);
      }
    } else if (flags & SHM_REMAP) fail(E.EINVAL);
    let prot = PROT_READ;
    let access = S_IRUGO;
    if (!(flags & SHM_RDONLY)) {
      prot |= PROT_WRITE;
      access |= S_IWUGO;
    }
    if (flags & SHM_EXEC) {
      prot |= PROT_EXEC;
      access |= S_IXUGO;
    }
    const s = this.ids.get(id);
    s.perm.check(t.cred, access);
    const mm = t.mm;
    const size = pageUp(s.size);
    const fixed = addr !== 0;
    if (fixed) {
      // without SHM_REMAP nothing may be mapped there; then do_mmap's checks of a MAP_FIXED address
      if (!(flags & SHM_REMAP) && !mm.isFree(addr, size)) fail(E.EINVAL);
      if (addr + size > mm.layout.taskSize) fail(E.ENOMEM);
      if (addr < MMAP_MIN_ADDR) fail(E.EPERM);
      // SHM_REMAP's MAP_FIXED would unmap what is there: not a sealed mapping (mseal)
      if (mm.sealedIn(addr, addr + size) >= 0) fail(E.EPERM);
    }
    const start = fixed ? addr : mm.findFree(size, 0);
    if (!mm.mayExpand(lim, size, false, fixed ? { start, end: start + size } : null)) fail(E.ENOMEM);
    const chunk = Chunk.mapShared(mm.memory, s.fd, 0, size, (prot & PROT_WRITE) !== 0);
    chunk.onFree = () => this.reap();
    const owner: ShmAttach = { kind: 'sysv-shm', seg: s };
    mm.insert(new Vma(start, start + size, prot, chunk, 0, { name: s.name, shared: true, offset: 0, dev: SHM_DEV, ino: s.perm.id, owner }));
    s.atime = nowSec();
    s.lpid = t.pid;
    return start;
  }

  /**
   * shmdt(2), as Linux's: the first VMA at or above addr that one shmat made
   * starting at addr (its offset in the segment is its distance from addr),
   * then every VMA of that attach within the segment's size from addr.
   */
  detach(t: IoContext, addr: number): number {
    if (addr % PAGE !== 0) fail(E.EINVAL);
    const mm = t.mm;
    const fits = (v: Vma): boolean => v.info.owner?.kind === 'sysv-shm' && v.start - addr === v.info.offset;
    let first: Vma | undefined;
    for (const v of mm.vmas) if (v.end > addr && fits(v)) {
      first = v;
      break;
    }
    if (first === undefined) return fail(E.EINVAL);
    const owner = first.info.owner as ShmAttach;
    const end = addr + pageUp(owner.seg.size);
    const gone = mm.vmas.filter((v) => v === first || (v.start >= first.start && v.end <= end && v.info.owner === owner && fits(v)));
    // each VMA is unmapped on its own and a sealed one (mseal) stays: Linux's
    // shmdt ignores what its munmap of a VMA returns
    for (const v of gone) if (v.info.sealed !== true) mm.removeRange(v.start, v.end);
    owner.seg.dtime = nowSec();
    owner.seg.lpid = t.pid;
    this.reap();
    return 0;
  }

  /** A process forked: its child's VMAs attach the segments again (Linux's shm_open: lpid is the parent's, atime now). */
  forked(child: AddressSpace, pid: number): void {
    for (const v of child.vmas) {
      const s = segOf(v.info.owner);
      if (s !== null) {
        s.lpid = pid;
        s.atime = nowSec();
      }
    }
  }

  /** An address space is about to go (exit, exec): its segments are detached by that process (shm_close). */
  leaving(space: AddressSpace, pid: number): void {
    for (const v of space.vmas) {
      const s = segOf(v.info.owner);
      if (s !== null) {
        s.lpid = pid;
        s.dtime = nowSec();
      }
    }
  }

  /** shmctl(2); `buf` reads and writes the caller's struct. */
  ctl(t: IoContext, id: number, cmd: number, buf: number): number {
    this.reap();
    if (cmd < 0 || id < 0) fail(E.EINVAL);
    const c = t.cred;
    switch (cmd) {
      case IPC_INFO: {
        const b = Buffer.alloc(72);
        const l = this.limits;
        b.writeBigUInt64LE(l.shmmax, 0);
        b.writeBigUInt64LE(SHMMIN, 8);
        b.writeBigUInt64LE(BigInt(l.shmmni), 16);
        b.writeBigUInt64LE(BigInt(SHMSEG), 24);
        b.writeBigUInt64LE(l.shmall, 32);
        t.mm.write(buf, b);
        return Math.max(this.ids.maxIdx(), 0);
      }
      case SHM_INFO: {
        const b = Buffer.alloc(48);
        let rss = 0;
        for (const s of this.ids.values()) rss += this.resident(s);
        b.writeInt32LE(this.ids.inUse, 0);
        b.writeBigUInt64LE(BigInt(this.tot), 8);
        b.writeBigUInt64LE(BigInt(rss), 16);
        t.mm.write(buf, b);
        return Math.max(this.ids.maxIdx(), 0);
      }
      case IPC_STAT:
      case SHM_STAT:
      case SHM_STAT_ANY: {
        const s = cmd === IPC_STAT ? this.ids.get(id) : this.ids.at(id);
        if (cmd !== SHM_STAT_ANY) s.perm.check(c, S_IRUGO);
        t.mm.write(buf, this.encode(s));
        return cmd === IPC_STAT ? 0 : s.perm.id;
      }
      case IPC_SET: {
        const b = t.mm.read(buf, IPC64_PERM_SIZE);
        const s = this.ids.get(id);
        s.perm.checkOwner(c);
        s.perm.update(b);
        s.ctime = nowSec();
        return 0;
      }
      case IPC_RMID: {
        const s = this.ids.get(id);
        s.perm.checkOwner(c);
        if (this.nattch(s) > 0) {
          s.perm.mode |= SHM_DEST;
          this.ids.forgetKey(s);
        } else this.destroy(s);
        return 0;
      }
      case SHM_LOCK:
      case SHM_UNLOCK: {
        const s = this.ids.get(id);
        // shmctl_do_lock: the owner or CAP_IPC_LOCK (with RLIMIT_MEMLOCK, which a segment always fits here) may lock
        if (!capable(c, CAP_IPC_LOCK) && c.euid !== s.perm.uid && c.euid !== s.perm.cuid) fail(E.EPERM);
        if (cmd === SHM_LOCK) s.perm.mode |= SHM_LOCKED;
        else s.perm.mode &= ~SHM_LOCKED;
        return 0;
      }
      default:
        return fail(E.EINVAL);
    }
  }

  /** The segment's pages in memory (the host memfd's blocks). */
  resident(s: ShmSegment): number {
    const info = hostFileInfo(s.fd);
    return typeof info === 'number' ? 0 : Math.ceil((info.blocks * 512) / PAGE);
  }

  /** struct shmid64_ds (112 bytes, the same on x86_64 and arm64). */
  private encode(s: ShmSegment): Buffer {
    const b = Buffer.alloc(112);
    s.perm.encode(b, 0);
    b.writeBigUInt64LE(BigInt(s.size), 48);
    b.writeBigInt64LE(BigInt(s.atime), 56);
    b.writeBigInt64LE(BigInt(s.dtime), 64);
    b.writeBigInt64LE(BigInt(s.ctime), 72);
    b.writeInt32LE(s.cpid, 80);
    b.writeInt32LE(s.lpid, 84);
    b.writeBigUInt64LE(BigInt(this.nattch(s)), 88);
    return b;
  }

  /** /proc/sysvipc/shm */
  procText(): string {
    this.reap();
    let out = '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n';
    for (const s of [...this.ids.values()].sort((a, b) => (a.perm.id % 32768) - (b.perm.id % 32768))) {
      const p = s.perm;
      out +=
        `${String(p.key | 0).padStart(10)} ${String(p.id).padStart(10)}  ${p.mode.toString(8).padStart(4)} ` +
        `${String(s.size).padStart(21)} ${String(s.cpid).padStart(5)} ${String(s.lpid).padStart(5)}  ` +
        `${String(this.nattch(s)).padStart(5)} ${String(p.uid).padStart(5)} ${String(p.gid).padStart(5)} ${String(p.cuid).padStart(5)} ${String(p.cgid).padStart(5)} ` +
        `${String(s.atime).padStart(10)} ${String(s.dtime).padStart(10)} ${String(s.ctime).padStart(10)} ` +
        `${String(this.resident(s) * PAGE).padStart(21)} ${'0'.padStart(21)}\n`;
    }
    return out;
  }
}
