// Memory syscalls: brk, mmap family.
import { S_IFMT, S_IFREG } from '../../abi/stat.js';
import { statFields } from '../../fs/stat.js';
import type { Task } from '../../proc/task.js';
import { brkLocked, mmapLocked } from './runtime.js';
import { Chunk } from '../../mm/chunk.js';
import { PAGE, pageUp } from '../../mm/layout.js';
import type { VmLimits } from '../../mm/mapping.js';
import { RLIM_INFINITY, RLIMIT_AS, RLIMIT_DATA } from '../../abi/resource.js';
import { SHARED_ANON_NAME, Vma, anon, isAnon, type VmaInfo } from '../../mm/vma.js';
import {
  MADV_DONTNEED,
  MADV_FREE,
  MADV_REMOVE,
  MAP_ANONYMOUS,
  MAP_DENYWRITE,
  MAP_EXECUTABLE,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_HUGETLB,
  MAP_LOCKED,
  MAP_NONBLOCK,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_STACK,
  MAP_TYPE,
  MAP_UNINITIALIZED,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  MS_ASYNC,
  MS_INVALIDATE,
  MS_SYNC,
  PROT_EXEC,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
  PROT_READ,
  PROT_WRITE,
} from '../../abi/mman.js';
import { host, hostCanMapPrivate, hostFileInfo, hostMemfd } from '../../host/libc.js';
import { type FileDescription } from '../../fs/file.js';
import { HostFile } from '../../fs/hostfile.js';
import { E } from '../../abi/errno.js';
import { fail, SysError, Unsupported } from '../../abi/errors.js';
import { partial, supported, type Def } from './util.js';
import { mremapShape } from '../signature.js';
import type { Args } from '../../cpu/args.js';

const PROT_MASK = PROT_READ | PROT_WRITE | PROT_EXEC;

/** Linux's LEGACY_MAP_MASK: what MAP_SHARED_VALIDATE accepts (MAP_SYNC needs DAX). */
const LEGACY_MAP_MASK =
  MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED |
  MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB;
/** the largest offset+length a regular file may be mapped at (MAX_LFS_FILESIZE + 1) */
const MAX_FILE_END = 2 ** 63;

/** What /proc/<pid>/maps shows of a mapped file: its path in the guest's tree, and device and inode as fstat gives them. */
function fileInfo(t: Task, f: FileDescription, offset: number, shared: boolean): VmaInfo {
  const name = f.loc !== null ? f.loc.path : f instanceof HostFile ? f.path : '';
  try {
    const st = statFields(f.statBytes(t));
    return { name, shared, offset, dev: Number(st.dev), ino: Number(st.ino) };
  } catch {
    return { name, shared, offset, dev: 0, ino: 0 };
  }
}

/** The caller's RLIMIT_AS and RLIMIT_DATA soft limits and what --max-memory leaves, for the address space's checks. */
export function vmLimits(t: Task): VmLimits {
  return { as: softLimit(t, RLIMIT_AS), data: softLimit(t, RLIMIT_DATA), commit: t.kernel.commitRoom() };
}

function softLimit(t: Task, r: number): number {
  const v = t.rlimits[r]?.[0];
  return v === undefined || v >= RLIM_INFINITY ? Infinity : Number(v);
}

function mmap(t: Task, a: Args): number {
  const addr = a.ptr(0);
  const len = a.u64(1);
  const prot = a.u32(2);
  const flags = a.u32(3);
  const fd = a.i32(4);
  const off = a.i64(5);
  // In Linux's order: the offset (arch sys_mmap), the fd (ksys_mmap_pgoff), then do_mmap.
  if (off % PAGE !== 0) fail(E.EINVAL);
  const anonymous = (flags & MAP_ANONYMOUS) !== 0;
  let f = anonymous ? null : t.fds.file(fd);
  // /dev/zero maps as anonymous memory (shared: shared anonymous memory), as its driver does
  if (f !== null && f.mapsAsAnonymous) f = null;
  if (flags & MAP_HUGETLB) {
    if (f !== null) fail(E.EINVAL); // not a hugetlbfs file
    throw new Unsupported('mmap flag MAP_HUGETLB', E.EINVAL);
  }
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) fail(E.EINVAL);
  if (len === 0) fail(E.EINVAL);
  const size = pageUp(len);
  if (!Number.isFinite(size) || size > t.mm.layout.taskSize) fail(E.ENOMEM);
  // do_mmap keeps the bits it knows and ignores the rest (mprotect is stricter)
  const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
  if (fixed) {
    if (addr % PAGE !== 0) fail(E.EINVAL);
    if (addr + size > t.mm.layout.taskSize || addr < 0x10000) fail(flags & MAP_FIXED ? E.EPERM : E.ENOMEM);
    if (!(flags & MAP_FIXED) && !t.mm.isFree(addr, size)) fail(E.EEXIST);
  }
  const shared = type !== MAP_PRIVATE;
  if (f !== null) {
    if (off < 0 || off + size >= MAX_FILE_END) fail(E.EOVERFLOW); // file_mmap_ok
    if (shared) {
      if (type === MAP_SHARED_VALIDATE && flags & ~LEGACY_MAP_MASK) fail(E.ENOTSUP);
      if (prot & PROT_WRITE && !f.writable) fail(E.EACCES);
    }
    if (!f.readable) fail(E.EACCES);
    if (f.hostFd < 0) fail(E.ENODEV);
    if (flags & MAP_GROWSDOWN) fail(E.EINVAL);
  } else if (shared) {
    if (type === MAP_SHARED_VALIDATE) fail(E.EINVAL); // no file to validate the flags against
    if (flags & MAP_GROWSDOWN) fail(E.EINVAL);
  }
  const start = fixed ? addr : t.mm.findFree(size, addr < 0x10000 ? 0 : addr);
  // mmap_region's may_expand_vm: RLIMIT_AS, and RLIMIT_DATA for private writable memory; under
  // --max-memory, shared anonymous memory is committed too (shmem_zero_setup's shmem_acct_size)
  // memory-deny-write-execute (prctl PR_SET_MDWE): never writable and executable at once (mmap_region)
  if (t.proc.mm.flags.mdwe && prot & PROT_WRITE && prot & PROT_EXEC) fail(E.EACCES);
  const data = !shared && (prot & PROT_WRITE) !== 0;
  const lim = vmLimits(t);
  // private writable MAP_NORESERVE memory is charged as it is touched, as Linux's default
  // overcommit leaves it unaccounted (VM_NORESERVE): the OOM killer acts past the cap
  const lazy = data && f === null && (flags & MAP_NORESERVE) !== 0 && lim.commit !== Infinity;
  if (!t.mm.mayExpand(lim, size, data, flags & MAP_FIXED ? { start, end: start + size } : null, (data && !lazy) || (shared && f === null))) fail(E.ENOMEM);
  // MAP_FIXED would unmap what it replaces: not a sealed mapping (mseal)
  if (flags & MAP_FIXED && t.mm.sealedIn(start, start + size) >= 0) fail(E.EPERM);
  if (shared) return mapShared(t, f, start, size, prot & PROT_MASK, off);
  if (f !== null && !(prot & PROT_WRITE) && isRegularHostFile(f)) {
    // Private and read-only (a library's code and constants): the file's own
    // pages, as on Linux until a page is written. They follow the file (what
    // it has since gained shows; a page wholly past its end is SIGBUS), and
    // cost no copy. mprotect to PROT_WRITE makes the VMA a private copy.
    // A file system that cannot map files shared, but can privately, gets
    // the copy below; one that cannot map them at all, its error (sysfs: ENODEV).
    let chunk: Chunk | null = null;
    try {
      chunk = Chunk.mapShared(t.mm.memory, f.hostFd, off, size, false);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      const r = hostCanMapPrivate(f.hostFd, off);
      if (r < 0) fail(-r);
    }
    if (chunk !== null) {
      t.mm.insert(new Vma(start, start + size, prot & PROT_MASK, chunk, 0, fileInfo(t, f, off, false)));
      return start;
    }
  }
  // Other private mappings are copies: fill fresh memory, then map it with the requested protection.
  const vma = t.mm.mapAnon(start, size, prot & PROT_MASK, anon(''), lazy);
  if (f !== null) {
    const h = vma.hostAddr(start);
    let done = 0;
    while (done < len) {
      const r = host.pread(f.hostFd, h + done, len - done, off + done);
      if (r < 0) {
        t.mm.removeRange(start, start + size);
        fail(-r);
      }
      if (r === 0) break;
      done += r;
    }
    vma.info = fileInfo(t, f, off, false);
    if (pageUp(done) < size) {
      // pages wholly past EOF: SIGBUS, unless the file grows to them (Chunk.source)
      t.mm.unmapChunk(vma.chunk);
      vma.chunk.copyOf(f.hostFd, off, pageUp(done));
      t.mm.mapChunk(vma.chunk);
    }
  }
  return start;
}

/** A regular file with a host fd: its pages can be mapped from the host. */
function isRegularHostFile(f: FileDescription): boolean {
  if (f.hostFd < 0) return false;
  const info = hostFileInfo(f.hostFd);
  return typeof info !== 'number' && (info.mode & S_IFMT) === S_IFREG;
}

/**
 * MAP_SHARED: the guest maps host memory that is itself a MAP_SHARED mapping of
 * the file's host fd (or of a fresh memfd, for shared anonymous memory), so the
 * host kernel gives coherence with read(2)/write(2) and write-back for free.
 */
function mapShared(t: Task, f: FileDescription | null, start: number, size: number, prot: number, off: number): number {
  let chunk: Chunk;
  let info: VmaInfo;
  if (f !== null) {
    // the host mapping is writable whenever the file is (mprotect may add PROT_WRITE later), unless write-sealed
    chunk = Chunk.mapShared(t.mm.memory, f.hostFd, off, size, f.sharedMapWritable(prot));
    info = fileInfo(t, f, off, true);
  } else {
    // Linux backs it with a shmem file of the mapping's size ("/dev/zero (deleted)" in maps)
    const memfd = hostMemfd('elfrun-shared-anon');
    if (memfd < 0) fail(-memfd);
    const r = host.ftruncate(memfd, size);
    if (r < 0) {
      host.close(memfd);
      fail(r === -E.EFBIG ? E.ENOMEM : -r);
    }
    try {
      chunk = Chunk.mapShared(t.mm.memory, memfd, 0, size, true, true);
    } catch (e) {
      host.close(memfd);
      throw e;
    }
    const id = hostFileInfo(memfd);
    info = { name: SHARED_ANON_NAME, shared: true, offset: 0, dev: 1 /* 00:01 */, ino: typeof id === 'number' ? 0 : id.ino };
  }
  t.mm.insert(new Vma(start, start + size, prot, chunk, 0, info));
  return start;
}

function munmap(t: Task, a: Args): number {
  const addr = a.ptr(0);
  const len = a.u64(1);
  if (addr % PAGE !== 0 || len === 0) fail(E.EINVAL);
  const end = addr + pageUp(len);
  if (!Number.isFinite(end) || end > t.mm.layout.taskSize) fail(E.EINVAL);
  // a sealed mapping in the range: nothing is unmapped
  if (t.mm.sealedIn(addr, end) >= 0) fail(E.EPERM);
  t.mm.removeRange(addr, end);
  return 0;
}

function mprotect(t: Task, a: Args): number {
  const addr = a.ptr(0);
  const len = a.u64(1);
  const prot = a.u32(2);
  if (addr % PAGE !== 0) fail(E.EINVAL);
  if (prot & ~(PROT_MASK | PROT_GROWSDOWN | PROT_GROWSUP)) fail(E.EINVAL);
  if (len === 0) return 0;
  const end = addr + pageUp(len);
  if (!Number.isFinite(end) || end > t.mm.layout.taskSize) fail(E.ENOMEM);
  // memory-deny-write-execute: no mapping becomes writable and executable, none gains execute;
  // the mappings before the first refused one change (do_mprotect_pkey checks each in turn)
  if (t.proc.mm.flags.mdwe && prot & PROT_EXEC) {
    const bad = t.proc.mm.space.vmas.find((v) => v.end > addr && v.start < end && (prot & PROT_WRITE || !(v.prot & PROT_EXEC)));
    if (bad !== undefined) {
      if (bad.start > addr) t.mm.protect(addr, bad.start, prot & PROT_MASK, vmLimits(t));
      fail(E.EACCES);
    }
  }
  const sealed = t.mm.sealedIn(addr, end);
  if (sealed >= 0) {
    if (sealed > addr) t.mm.protect(addr, sealed, prot & PROT_MASK, vmLimits(t));
    fail(E.EPERM);
  }
  t.mm.protect(addr, end, prot & PROT_MASK, vmLimits(t));
  return 0;
}

function mremap(t: Task, a: Args): number {
  const old = a.ptr(0);
  const oldLen = pageUp(a.u64(1));
  const newLen = pageUp(a.u64(2));
  const flags = a.u32(3);
  const newAddr = a.ptr(4);
  if (old % PAGE !== 0) fail(E.EINVAL);
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) fail(E.EINVAL);
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) fail(E.EINVAL);
  // MREMAP_DONTUNMAP moves without changing the size (check_mremap_params)
  if (flags & MREMAP_DONTUNMAP && (!(flags & MREMAP_MAYMOVE) || oldLen !== newLen)) fail(E.EINVAL);
  if (newLen === 0 || !Number.isFinite(newLen)) fail(E.EINVAL);
  let fixedAt: number | null = null;
  if (flags & MREMAP_FIXED) {
    if (newAddr % PAGE !== 0) fail(E.EINVAL);
    if (newAddr < old + oldLen && old < newAddr + newLen) fail(E.EINVAL);
    fixedAt = newAddr;
  }
  // neither a sealed mapping nor a place over one moves or changes size
  if (t.mm.sealedIn(old, old + Math.max(oldLen, PAGE)) >= 0 || (fixedAt !== null && t.mm.sealedIn(fixedAt, fixedAt + newLen) >= 0)) fail(E.EPERM);
  if (flags & MREMAP_DONTUNMAP) return remapDontUnmap(t, old, oldLen, fixedAt);
  return t.mm.remap(old, oldLen, newLen, (flags & MREMAP_MAYMOVE) !== 0, fixedAt, vmLimits(t));
}

/**
 * MREMAP_DONTUNMAP: the pages move to a new place (MREMAP_FIXED's, or a free
 * one), and the old range stays mapped with the same protection, empty:
 * private anonymous memory reads as zeros there again. The old range keeps
 * its VMA but not its mlock (Linux clears VM_LOCKED on it). Shared and file
 * mappings, whose old range would fault their object back in, are reported
 * as unsupported.
 */
function remapDontUnmap(t: Task, old: number, len: number, fixedAt: number | null): number {
  const v = t.mm.find(old);
  if (v === null || old + len > v.end) fail(E.EFAULT);
  if (v.info.shared || v.info.ino !== 0 || v.chunk.source !== null || v.chunk.backing !== null) throw new Unsupported('mremap flag MREMAP_DONTUNMAP on a shared or file mapping', E.EINVAL);
  // the moved pages are new memory; the old range stays
  if (!t.mm.mayExpand(vmLimits(t), len, (v.prot & PROT_WRITE) !== 0)) fail(E.ENOMEM);
  const dest = fixedAt ?? t.mm.findFree(len);
  const info = { ...v.info, locked: 0 };
  const prot = v.prot;
  const moved = t.mm.remap(old, len, len, true, dest, vmLimits(t));
  t.mm.mapAnon(old, len, prot, info);
  return moved;
}

/** the advice mseal refuses on sealed read-only anonymous memory: FREE, DONTNEED, REMOVE, DONTFORK, WIPEONFORK, DONTNEED_LOCKED, GUARD_INSTALL */
const DISCARDING = new Set([8, 4, 9, 10, 18, 24, 102]);

/**
 * mseal(2): seal the mappings of [addr, addr + len) against munmap, mremap,
 * mprotect, MAP_FIXED over them and discarding advice (EPERM), as Linux 6.10
 * and later; fork keeps the seals, execve ends them with the address space.
 */
function mseal(t: Task, a: Args): number {
  const addr = a.ptr(0);
  const lenIn = a.u64(1);
  if (a.u64(2) !== 0) fail(E.EINVAL);
  if (addr % PAGE !== 0) fail(E.EINVAL);
  const len = pageUp(lenIn);
  if (!Number.isFinite(len) || (lenIn !== 0 && len === 0)) fail(E.EINVAL);
  const end = addr + len;
  if (!(end <= 2 ** 64) || end < addr) fail(E.EINVAL);
  if (end === addr) return 0;
  for (let p = addr; p < end; ) {
    const v = t.mm.find(p);
    if (v === null) fail(E.ENOMEM);
    p = v.end;
  }
  t.mm.seal(addr, end);
  return 0;
}

function madvise(t: Task, a: Args): number {
  const addr = a.ptr(0);
  const len = a.u64(1);
  const advice = a.i32(2);
  if (addr % PAGE !== 0) fail(E.EINVAL);
  const end = addr + pageUp(len);
  if (!Number.isFinite(end)) fail(E.EINVAL);
  for (let p = addr; p < end; ) {
    const v = t.mm.find(p);
    if (v === null) fail(E.ENOMEM);
    p = v.end;
  }
  // a discarding advice stops at a sealed, read-only, private anonymous mapping (mseal's can_madvise_modify): EPERM
  let stop = end;
  if (DISCARDING.has(advice)) {
    const v = t.mm.vmas.find((v) => v.info.sealed && v.start < end && v.end > addr && isAnon(v.info) && !v.info.shared && !(v.prot & PROT_WRITE));
    if (v !== undefined) stop = Math.max(v.start, addr);
  }
  if (advice === MADV_DONTNEED) t.mm.zeroPages(addr, stop);
  else if (advice === MADV_REMOVE) t.mm.removePages(addr, stop);
  if (stop < end) fail(E.EPERM);
  // MADV_FREE and the hints (NORMAL, RANDOM, SEQUENTIAL, WILLNEED, HUGEPAGE, DONTDUMP...) change no content.
  void MADV_FREE;
  return 0;
}

/** msync(2), with mm/msync.c's checks: the pages of shared file mappings are written back by the host. */
function msync(t: Task, a: Args): number {
  const addr = a.ptr(0);
  const len = a.u64(1);
  const flags = a.i32(2);
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) fail(E.EINVAL);
  if (addr % PAGE !== 0) fail(E.EINVAL);
  if (flags & MS_ASYNC && flags & MS_SYNC) fail(E.EINVAL);
  const end = addr + pageUp(len);
  if (!(end < 2 ** 64)) fail(E.ENOMEM); // the end wraps around
  if (end === addr) return 0;
  return t.mm.msync(addr, end, flags);
}

export const mmDefs: Record<string, Def> = {
  mseal: supported(['ptr', 'size', 'hex'], mseal),
  brk: supported({ args: ['ptr'], ret: 'hex' }, (t, a) => brkLocked(t, () => t.mm.brk(a.ptr(0), vmLimits(t)))),
  mmap: partial(
    { args: ['ptr', 'size', 'prot', 'mapflags', 'fd', 'hex'], ret: 'hex' },
    (t, a) => mmapLocked(t, (a.i32(3) & MAP_LOCKED) !== 0, a.size(1), () => mmap(t, a)),
    'MAP_HUGETLB is reported as unsupported; under --max-memory private writable memory is committed at mmap, MAP_NORESERVE memory charged as touched in 1 MiB pieces (the OOM killer past the cap); a private read-only mapping of a regular file maps the file\'s own pages, as Linux does until a page is written ' +
      '(later writes to the file show, SIGBUS past EOF; mprotect to writable makes a private copy); writable private file mappings are copies made at mmap time ' +
      '(later writes to the file do not show through pages the guest has not written; a page past EOF raises SIGBUS until the file grows to it, then reads the file); ' +
      '/dev/zero maps as anonymous memory; other files with no host fd (procfs, other devices) give ENODEV; ' +
      'MAP_SHARED maps the host file MAP_SHARED (coherent with read/write, shared across fork, SIGBUS past EOF); when a host process (not the guest) truncates a file mapped ' +
      'shared or private read-only, the access past its new end raises SIGBUS with its address, but after the access (which read zeros or wrote nowhere), ' +
      'with the pc later in its block; a writable private mapping\'s copy keeps its pages (Linux: SIGBUS there too)',
  ),
  munmap: supported(['ptr', 'size'], munmap),
  mprotect: supported(['ptr', 'size', 'prot'], mprotect),
  // Memory protection keys, as Linux answers on a CPU without them (the
  // engine has neither x86's PKU nor arm64's POE): no key can be allocated
  // or freed, and pkey_mprotect takes only -1, the default key.
  pkey_alloc: supported(['hex', 'hex'], () => fail(E.EINVAL)),
  pkey_free: supported(['int'], () => fail(E.EINVAL)),
  pkey_mprotect: supported(['ptr', 'size', 'prot', 'int'], (t, a) => (a.i32(3) === -1 ? mprotect(t, a) : fail(E.EINVAL))),
  mremap: partial(mremapShape, mremap, 'MREMAP_DONTUNMAP of shared and file mappings is reported as unsupported (of private anonymous memory it is as Linux)'),
  madvise: partial(
    ['ptr', 'size', 'madvise'],
    madvise,
    'MADV_DONTNEED zeroes private pages, also those of writable private file mappings made by mmap (Linux reads them from the file again; ' +
      "read-only private file mappings and an executable's unmodified pages do keep the file's content), and keeps shared ones; " +
      'MADV_REMOVE punches holes in shared file mappings; hints change nothing, as on Linux',
  ),
  msync: partial(['ptr', 'size', 'msflags'], msync, 'MS_SYNC writes back shared file mappings through the host; MS_INVALIDATE drops no cached pages (EBUSY over locked memory, as Linux)'),
};
