// The host's libc, through koffi: memory for guest RAM, and passthrough I/O that
// reads and writes guest memory in place (raw host addresses, no copies).
// Every function returns -errno on failure, like a raw syscall.
import { CLOCK_REALTIME } from '../abi/time.js';
import { E } from '../abi/errno.js';
import koffi from './ffi.js';
import { readFileSync } from 'node:fs';
import {
  MADV_DONTNEED,
  MADV_REMOVE,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_NORESERVE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from '../abi/mman.js';

const libc = koffi.load('libc.so.6');

const mmapFn = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)');
const mmapFixedFn = libc.func('intptr_t mmap(intptr_t addr, size_t len, int prot, int flags, int fd, int64_t off)');
const munmapFn = libc.func('int munmap(intptr_t addr, size_t len)');
const madviseFn = libc.func('int madvise(intptr_t addr, size_t len, int advice)');
const mprotectFn = libc.func('int mprotect(intptr_t addr, size_t len, int prot)');
const msyncFn = libc.func('int msync(intptr_t addr, size_t len, int flags)');
const memfdCreateFn = libc.func('int memfd_create(const char *name, unsigned int flags)');
const mincoreFn = libc.func('int mincore(intptr_t addr, size_t len, _Out_ uint8_t *vec)');
const memmoveFn = libc.func('intptr_t memmove(intptr_t dst, intptr_t src, size_t n)');
const memsetFn = libc.func('intptr_t memset(intptr_t dst, int c, size_t n)');
const readFn = libc.func('intptr_t read(int fd, intptr_t buf, size_t n)');
const writeFn = libc.func('intptr_t write(int fd, intptr_t buf, size_t n)');
const preadFn = libc.func('intptr_t pread64(int fd, intptr_t buf, size_t n, int64_t off)');
const pwriteFn = libc.func('intptr_t pwrite64(int fd, intptr_t buf, size_t n, int64_t off)');
const lseekFn = libc.func('int64_t lseek64(int fd, int64_t off, int whence)');
const getdentsFn = libc.func('intptr_t getdents64(int fd, intptr_t buf, size_t n)');
const ioctlFn = libc.func('int ioctl(int fd, unsigned long req, intptr_t arg)');
const openatFn = libc.func('int openat(int dirfd, const char *path, int flags, uint32_t mode)');
const closeFn = libc.func('int close(int fd)');
const dupFn = libc.func('int dup(int fd)');
const fcntlFn = libc.func('int fcntl(int fd, int cmd, intptr_t arg)');
const flockFn = libc.func('int flock(int fd, int op)');
const statxFn = libc.func('int statx(int dirfd, const char *path, int flags, unsigned int mask, intptr_t buf)');
const readlinkatFn = libc.func('intptr_t readlinkat(int dirfd, const char *path, intptr_t buf, size_t n)');
const fstatatFn = libc.func('int fstatat64(int dirfd, const char *path, intptr_t buf, int flags)');
const fstatFn = libc.func('int fstat64(int fd, intptr_t buf)');
const ftruncateFn = libc.func('int ftruncate64(int fd, int64_t len)');
const fsyncFn = libc.func('int fsync(int fd)');
const faccessatFn = libc.func('int faccessat(int dirfd, const char *path, int mode, int flags)');
const sendfileFn = libc.func('intptr_t sendfile64(int out, int in, _Inout_ int64_t *off, size_t n)');
const sysinfoFn = libc.func('int sysinfo(intptr_t info)');
const klogctlFn = libc.func('int klogctl(int type, intptr_t buf, int len)');
const pollFn = libc.func('int poll(_Inout_ int16_t *fds, unsigned long n, int timeout)');
const clockGettimeOutFn = libc.func('int clock_gettime(int clk, _Out_ int64_t *ts)');
const getrandomFn = libc.func('intptr_t getrandom(intptr_t buf, size_t n, unsigned int flags)');
const getrandomBufFn = libc.func('intptr_t getrandom(_Out_ uint8_t *buf, size_t n, unsigned int flags)');
const pathFns = {
  unlinkat: libc.func('int unlinkat(int dirfd, const char *path, int flags)'),
  mkdirat: libc.func('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
  renameat2: libc.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)'),
  symlinkat: libc.func('int symlinkat(const char *target, int newdirfd, const char *linkpath)'),
  linkat: libc.func('int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)'),
  fchmodat: libc.func('int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)'),
  fchmod: libc.func('int fchmod(int fd, uint32_t mode)'),
  fchownat: libc.func('int fchownat(int dirfd, const char *path, uint32_t owner, uint32_t group, int flags)'),
  fchown: libc.func('int fchown(int fd, uint32_t owner, uint32_t group)'),
  utimensat: libc.func('int utimensat(int dirfd, const char *path, intptr_t times, int flags)'),
  truncate: libc.func('int truncate64(const char *path, int64_t len)'),
  mknodat: libc.func('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)'),
  statfs: libc.func('int statfs64(const char *path, intptr_t buf)'),
  fstatfs: libc.func('int fstatfs64(int fd, intptr_t buf)'),
  sync: libc.func('void sync(void)'),
  syncfs: libc.func('int syncfs(int fd)'),
  fdatasync: libc.func('int fdatasync(int fd)'),
};
const getpgrpFn = libc.func('int getpgrp(void)');
const getsidFn = libc.func('int getsid(int pid)');
const schedGetaffinityFn = libc.func('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)');
const clockGettimeFn = libc.func('int clock_gettime(int clk, intptr_t ts)');
const clockGetresFn = libc.func('int clock_getres(int clk, intptr_t ts)');
const unameFn = libc.func('int uname(intptr_t buf)');
const isattyFn = libc.func('int isatty(int fd)');
const getsocknameFn = libc.func('int getsockname(int fd, intptr_t addr, _Inout_ uint32_t *len)');
const getpeernameFn = libc.func('int getpeername(int fd, intptr_t addr, _Inout_ uint32_t *len)');
const getsockoptFn = libc.func('int getsockopt(int fd, int level, int name, intptr_t val, _Inout_ uint32_t *len)');

/**
 * Host processes, for a guest that sees them (see Kernel.hostProcesses):
 * bound on first use, as few runs need them.
 */
let procFns: {
  kill: (pid: number, sig: number) => number;
  tgkill: (tgid: number, tid: number, sig: number) => number;
  getaffinity: (pid: number, size: number, mask: Uint8Array) => number;
  setaffinity: (pid: number, size: number, mask: Uint8Array) => number;
  getpriority: (which: number, who: number) => number;
  setpriority: (which: number, who: number, prio: number) => number;
  getpgid: (pid: number) => number;
  getsid: (pid: number) => number;
} | null = null;
function procs(): NonNullable<typeof procFns> {
  procFns ??= {
    kill: libc.func('int kill(int pid, int sig)') as (pid: number, sig: number) => number,
    tgkill: libc.func('int tgkill(int tgid, int tid, int sig)') as (tgid: number, tid: number, sig: number) => number,
    getaffinity: libc.func('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)') as (pid: number, size: number, mask: Uint8Array) => number,
    setaffinity: libc.func('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)') as (pid: number, size: number, mask: Uint8Array) => number,
    getpriority: libc.func('int getpriority(int which, int who)') as (which: number, who: number) => number,
    setpriority: libc.func('int setpriority(int which, int who, int prio)') as (which: number, who: number, prio: number) => number,
    getpgid: libc.func('int getpgid(int pid)') as (pid: number) => number,
    getsid: libc.func('int getsid(int pid)') as (pid: number) => number,
  };
  return procFns;
}

/** Calls on other host processes; each returns -errno on failure. */
export const hostProc = {
  /** Does a host process (or thread) with this id exist? (kill(pid, 0): EPERM still means it does) */
  exists(pid: number): boolean {
    return procs().kill(pid, 0) === 0 || koffi.errno() === E.EPERM;
  },
  kill: (pid: number, sig: number): number => ret(procs().kill(pid, sig)),
  tgkill: (tgid: number, tid: number, sig: number): number => ret(procs().tgkill(tgid, tid, sig)),
  /** 0 (libc's wrapper, not the kernel's mask size), or -errno */
  getaffinity: (pid: number, mask: Uint8Array): number => ret(procs().getaffinity(pid, mask.length, mask)),
  setaffinity: (pid: number, mask: Uint8Array): number => ret(procs().setaffinity(pid, mask.length, mask)),
  /** as the kernel's ABI has it: 20 - nice (1..40), or -errno */
  getpriority(which: number, who: number): number {
    koffi.errno(0);
    const r = procs().getpriority(which, who);
    const e = koffi.errno();
    return r === -1 && e !== 0 ? -e : 20 - r;
  },
  setpriority: (which: number, who: number, prio: number): number => ret(procs().setpriority(which, who, prio)),
  getpgid: (pid: number): number => ret(procs().getpgid(pid)),
  getsid: (pid: number): number => ret(procs().getsid(pid)),
};

function ret(r: number): number {
  return r < 0 ? -koffi.errno() : r;
}

/** Host memory: an anonymous private mapping, and its address as a number. */
export interface HostBlock {
  addr: number;
  size: number;
  ptr: unknown;
}

/**
 * Guest memory is host MAP_SHARED anonymous memory (a shmem object per
 * chunk) once the engine can map it a second time, into its direct-access
 * window (uc_elfrun_direct: an alias by mremap needs a shared mapping).
 * Private memory would still be right there, but each guest access to it
 * would take a host fault. Set before any guest memory exists.
 */
let guestShared = false;
export function useSharedGuestMemory(): void {
  guestShared = true;
}
const guestMapFlags = (): number => (guestShared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_NORESERVE;

/** The address mmap returned, or -1 (MAP_FAILED; errno says why). */
function mapped(ptr: unknown): number {
  const addr = ptr === null ? -1 : Number(koffi.address(ptr));
  return addr === 0xffffffffffffffff ? -1 : addr;
}

export function hostAlloc(size: number): HostBlock {
  const ptr = mmapFn(null, size, PROT_READ | PROT_WRITE, guestMapFlags(), -1, 0);
  const addr = mapped(ptr);
  if (addr === -1) throw new Error(`host mmap of ${size} bytes failed: errno ${koffi.errno()}`);
  return { addr, size, ptr };
}

/** Address space only (PROT_NONE): pages are committed later with hostAllocAt. */
export function hostReserve(size: number): HostBlock {
  const ptr = mmapFn(null, size, PROT_NONE, guestMapFlags(), -1, 0);
  const addr = mapped(ptr);
  if (addr === -1) throw new Error(`host reservation of ${size} bytes failed`);
  return { addr, size, ptr };
}

/** Fresh zeroed read-write pages at a host address inside a reservation. */
export function hostAllocAt(addr: number, size: number): void {
  if (guestShared) {
    // the same shmem object throughout the chunk (the engine's window maps
    // a region by its first page's object and offset): emptied, then opened
    if ((mprotectFn(addr, size, PROT_READ | PROT_WRITE) as number) !== 0 || (madviseFn(addr, size, MADV_REMOVE) as number) !== 0) {
      throw new Error(`host mprotect/madvise at 0x${addr.toString(16)} failed: errno ${koffi.errno()}`);
    }
    return;
  }
  const r = mmapFixedFn(addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  if (Number(r) !== addr) throw new Error(`host mmap at 0x${addr.toString(16)} failed: errno ${koffi.errno()}`);
}

/**
 * A MAP_SHARED mapping of a host fd (a file, or a memfd for shared anonymous
 * memory): the host kernel keeps it coherent with read(2)/write(2) and writes
 * it back. Read-only unless `writable`. A negative errno if the host refuses.
 */
export function hostMapShared(fd: number, offset: number, size: number, writable: boolean): HostBlock | number {
  const ptr = mmapFn(null, size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, offset);
  const addr = mapped(ptr);
  if (addr === -1) return -koffi.errno();
  return { addr, size, ptr };
}

/** Map size bytes of host fd at offset MAP_SHARED over addr again (a page the SIGBUS handler replaced); 0 or -errno. */
export function hostRemapShared(addr: number, fd: number, offset: number, size: number, writable: boolean): number {
  const r = mmapFixedFn(addr, size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED | MAP_FIXED, fd, offset);
  return Number(r) === addr ? 0 : -koffi.errno();
}

/**
 * Can the host map this fd privately at offset? 0, or the negative errno its
 * mmap gives (a file system with no mmap at all: ENODEV).
 */
export function hostCanMapPrivate(fd: number, offset: number): number {
  const addr = mapped(mmapFn(null, 4096, PROT_READ, MAP_PRIVATE, fd, offset));
  if (addr === -1) return -koffi.errno();
  munmapFn(addr, 4096);
  return 0;
}

/** A host memfd (close-on-exec), or a negative errno. */
export function hostMemfd(name: string): number {
  const MFD_CLOEXEC = 1;
  return ret(memfdCreateFn(name, MFD_CLOEXEC) as number);
}

/** msync(2) of host memory; 0 or a negative errno. */
export function hostMsync(addr: number, size: number, flags: number): number {
  return ret(msyncFn(addr, size, flags) as number);
}

/** madvise(2) of host memory; 0 or a negative errno. */
export function hostMadvise(addr: number, size: number, advice: number): number {
  return ret(madviseFn(addr, size, advice) as number);
}

/** What a host fd refers to (statx, the same layout on every host arch). */
export interface HostFileInfo {
  mode: number;
  size: number;
  ino: number;
  /** st_dev as glibc encodes it (makedev) */
  dev: number;
  /** 512-byte blocks allocated (a memfd's resident pages) */
  blocks: number;
}

let statxBuf: Scratch | null = null;
/** statx(fd, "", AT_EMPTY_PATH): mode, size, inode and device, or a negative errno. */
export function hostFileInfo(fd: number): HostFileInfo | number {
  const s = (statxBuf ??= new Scratch(4096));
  const AT_EMPTY_PATH = 0x1000;
  const STATX_BASIC = 0x7ff;
  const r = ret(statxFn(fd, '', AT_EMPTY_PATH, STATX_BASIC, s.addr) as number);
  if (r < 0) return r;
  const dv = s.dv;
  const major = dv.getUint32(0x88, true);
  const minor = dv.getUint32(0x8c, true);
  // glibc's makedev: the low 8 bits of minor, 12 of major, then the rest of each
  const lo = ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & 0xfff00) << 12)) >>> 0;
  const hi = ((major & 0xfffff000) | ((minor >>> 20) & 0xfff)) >>> 0;
  return {
    mode: dv.getUint16(0x1c, true),
    size: Number(dv.getBigUint64(0x28, true)),
    ino: Number(dv.getBigUint64(0x20, true)),
    dev: lo + hi * 0x100000000,
    blocks: Number(dv.getBigUint64(0x30, true)),
  };
}

/** An ArrayBuffer over host memory (no copy). */
export function hostView(block: HostBlock): ArrayBuffer {
  return koffi.view(block.ptr, block.size) as ArrayBuffer;
}

// memmove(p, p, 0) returns p: a koffi pointer for a host address
const ptrOfFn = libc.func('void *memmove(intptr_t dst, intptr_t src, size_t n)');

/** An ArrayBuffer over host memory [addr, addr+size) (no copy). */
export function hostViewAt(addr: number, size: number): ArrayBuffer {
  return koffi.view(ptrOfFn(addr, addr, 0), size) as ArrayBuffer;
}

export function hostFree(addr: number, size: number): void {
  munmapFn(addr, size);
}

/** Give pages back to the host (they read as zero afterwards). */
export function hostZeroPages(addr: number, size: number): void {
  // shared memory keeps its pages through MADV_DONTNEED; MADV_REMOVE frees
  // them. It refuses pages that are not writable (EACCES: a reservation's
  // uncommitted part, which hostAllocAt empties when it opens it); other
  // pages it could not free are cleared by hand.
  const EACCES = 13;
  if (!guestShared) madviseFn(addr, size, MADV_DONTNEED);
  else if ((madviseFn(addr, size, MADV_REMOVE) as number) !== 0 && koffi.errno() !== EACCES) memsetFn(addr, 0, size);
}

/** Is any swap active? Then non-resident pages may hold data and must be copied too. */
let swapActive: boolean | null = null;
export function swapOn(): boolean {
  if (swapActive === null) {
    try {
      swapActive = readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1;
    } catch {
      swapActive = true;
    }
  }
  return swapActive;
}

/**
 * Calls fn(off, n) for each run of pages of [addr, addr+len) that were ever
 * touched (mincore: resident), or once for all of it when that cannot be
 * known: with swap active a page that is not resident may hold data.
 * addr page-aligned.
 */
export function residentRuns(addr: number, len: number, fn: (off: number, n: number) => void): void {
  const vec = touchedPages(addr, len);
  if (vec === null) fn(0, len);
  else
    pageRuns(len, (i) => vec[i] & 1, (kind, off, n) => {
      if (kind === 1) fn(off, n);
    });
}

/** mincore's vector for [addr, addr+len) (bit 0: ever touched), or null when that cannot be known (swap active, mincore failed). */
export function touchedPages(addr: number, len: number): Uint8Array | null {
  const vec = new Uint8Array(Math.ceil(len / 4096));
  return swapOn() || (mincoreFn(addr, len, vec) as number) !== 0 ? null : vec;
}

/** fn(kind, off, n) for each run of consecutive pages of len bytes that kind(page) puts in the same class. */
function pageRuns(len: number, kind: (i: number) => number, fn: (kind: number, off: number, n: number) => void): void {
  const pages = Math.ceil(len / 4096);
  for (let i = 0; i < pages; ) {
    const k = kind(i);
    let j = i + 1;
    while (j < pages && kind(j) === k) j++;
    const off = i * 4096;
    fn(k, off, Math.min(j * 4096, len) - off);
    i = j;
  }
}

/**
 * Copy len bytes of host memory, skipping pages that were never touched
 * (they read as zero and the fresh destination already is). Both addresses
 * page-aligned.
 */
export function hostCopyResident(dst: number, src: number, len: number): void {
  residentRuns(src, len, (off, n) => memmoveFn(dst + off, src + off, n));
}

/**
 * Make [dst, dst+len) hold what [src, src+len) holds, where dst already holds
 * other data: src's touched pages are copied, dst's other touched pages
 * cleared (untouched pages read as zero on both sides). Both page-aligned.
 */
export function hostCopyOver(dst: number, src: number, len: number): void {
  const sv = touchedPages(src, len);
  const dv = sv === null ? null : touchedPages(dst, len);
  if (sv === null || dv === null) {
    memmoveFn(dst, src, len);
    return;
  }
  // each page: 1 copy (src touched), 2 clear (only dst touched), 0 nothing
  pageRuns(len, (i) => (sv[i] & 1 ? 1 : dv[i] & 1 ? 2 : 0), (kind, off, n) => {
    if (kind === 1) memmoveFn(dst + off, src + off, n);
    else if (kind === 2) memsetFn(dst + off, 0, n);
  });
}

/**
 * Make len bytes of anonymous host memory read as zero. Private memory: by
 * writing only the pages that were ever touched (the others already are
 * zero); they stay resident, so whoever uses them next takes no page faults.
 */
export function hostZeroResident(addr: number, len: number): void {
  // Shared memory: mincore looks each page without a mapping here up in the
  // shmem object, where punching a large range out walks only the pages it
  // has (its next user then faults them in again).
  if (guestShared && len > 1 << 20 && (madviseFn(addr, len, MADV_REMOVE) as number) === 0) return;
  residentRuns(addr, len, (off, n) => memsetFn(addr + off, 0, n));
}

export function hostMemmove(dst: number, src: number, n: number): void {
  memmoveFn(dst, src, n);
}

const tsOut = new BigInt64Array(2);
/** The host's CLOCK_REALTIME, to the nanosecond. */
export function hostRealtime(): { sec: number; nsec: number } {
  clockGettimeOutFn(CLOCK_REALTIME, tsOut);
  return { sec: Number(tsOut[0]), nsec: Number(tsOut[1]) };
}

/**
 * Fill bytes from the host kernel's random source (getrandom(2), as Node's
 * crypto would, without loading node:crypto and OpenSSL at start-up).
 */
export function hostRandom(dst: Uint8Array): void {
  let done = 0;
  while (done < dst.length) {
    const part = dst.subarray(done);
    const r = ret(getrandomBufFn(part, part.length, 0) as number);
    if (r === -E.EINTR) continue;
    if (r <= 0) throw new Error(`getrandom: ${r}`);
    done += r;
  }
}

export const host = {
  /** getrandom(2) into host memory at addr (raw: -errno on failure, may be short) */
  getrandom: (addr: number, n: number): number => ret(getrandomFn(addr, n, 0) as number),
  read: (fd: number, buf: number, n: number): number => ret(readFn(fd, buf, n) as number),
  write: (fd: number, buf: number, n: number): number => ret(writeFn(fd, buf, n) as number),
  pread: (fd: number, buf: number, n: number, off: number): number => ret(preadFn(fd, buf, n, off) as number),
  pwrite: (fd: number, buf: number, n: number, off: number): number => ret(pwriteFn(fd, buf, n, off) as number),
  lseek: (fd: number, off: number, whence: number): number => ret(lseekFn(fd, off, whence) as number),
  getdents64: (fd: number, buf: number, n: number): number => ret(getdentsFn(fd, buf, n) as number),
  ioctl: (fd: number, req: number, arg: number): number => ret(ioctlFn(fd, req, arg) as number),
  openat: (dirfd: number, path: string | Buffer, flags: number, mode: number): number =>
    ret(openatFn(dirfd, path, flags, mode) as number),
  close: (fd: number): number => ret(closeFn(fd) as number),
  dup: (fd: number): number => ret(dupFn(fd) as number),
  fcntl: (fd: number, cmd: number, arg: number): number => ret(fcntlFn(fd, cmd, arg) as number),
  flock: (fd: number, op: number): number => ret(flockFn(fd, op) as number),
  statx: (dirfd: number, path: string | Buffer, flags: number, mask: number, buf: number): number =>
    ret(statxFn(dirfd, path, flags, mask, buf) as number),
  readlinkat: (dirfd: number, path: string | Buffer, buf: number, n: number): number =>
    ret(readlinkatFn(dirfd, path, buf, n) as number),
  fstatat: (dirfd: number, path: string | Buffer, buf: number, flags: number): number =>
    ret(fstatatFn(dirfd, path, buf, flags) as number),
  fstat: (fd: number, buf: number): number => ret(fstatFn(fd, buf) as number),
  ftruncate: (fd: number, len: number): number => ret(ftruncateFn(fd, len) as number),
  fsync: (fd: number): number => ret(fsyncFn(fd) as number),
  faccessat: (dirfd: number, path: Buffer, mode: number, flags: number): number =>
    ret(faccessatFn(dirfd, path, mode, flags) as number),
  /** off: null to use and move the file offset; else [offset], updated in place */
  sendfile: (out: number, inp: number, off: [number] | null, n: number): number => ret(sendfileFn(out, inp, off, n) as number),
  sysinfo: (buf: number): number => ret(sysinfoFn(buf) as number),
  /** the host kernel log's size (klogctl SYSLOG_ACTION_SIZE_BUFFER) */
  klogSize: (): number => ret(klogctlFn(10, 0, 0) as number),
  /** Is the host fd ready for these poll events now? (errors and hang-ups count as ready) */
  pollReady: (fd: number, events: number): boolean => {
    const pfd = new Int16Array([fd & 0xffff, fd >>> 16, events, 0]);
    const r = pollFn(pfd, 1, 0) as number;
    return r !== 0;
  },
  /** The host's revents for this fd now (0 if nothing is ready). */
  /** poll(2) of a struct pollfd array (fd as two int16s, events, revents), waiting up to `ms`: how many are ready. */
  pollMany: (pfds: Int16Array, ms: number): number => ret(pollFn(pfds, pfds.length / 4, ms) as number),
  pollEvents: (fd: number, events: number): number => {
    const pfd = new Int16Array([fd & 0xffff, fd >>> 16, events, 0]);
    return (pollFn(pfd, 1, 0) as number) > 0 ? pfd[3] & 0xffff : 0;
  },
  unlinkat: (d: number, p: Buffer, f: number): number => ret(pathFns.unlinkat(d, p, f) as number),
  mkdirat: (d: number, p: Buffer, m: number): number => ret(pathFns.mkdirat(d, p, m) as number),
  renameat2: (od: number, op: Buffer, nd: number, np: Buffer, f: number): number => ret(pathFns.renameat2(od, op, nd, np, f) as number),
  symlinkat: (target: Buffer, d: number, p: Buffer): number => ret(pathFns.symlinkat(target, d, p) as number),
  linkat: (od: number, op: Buffer, nd: number, np: Buffer, f: number): number => ret(pathFns.linkat(od, op, nd, np, f) as number),
  fchmodat: (d: number, p: Buffer, m: number, f: number): number => ret(pathFns.fchmodat(d, p, m, f) as number),
  fchmod: (fd: number, m: number): number => ret(pathFns.fchmod(fd, m) as number),
  fchownat: (d: number, p: Buffer, u: number, g: number, f: number): number => ret(pathFns.fchownat(d, p, u, g, f) as number),
  fchown: (fd: number, u: number, g: number): number => ret(pathFns.fchown(fd, u, g) as number),
  utimensat: (d: number, p: Buffer | null, times: number, f: number): number => ret(pathFns.utimensat(d, p, times, f) as number),
  truncate: (p: Buffer, len: number): number => ret(pathFns.truncate(p, len) as number),
  mknodat: (d: number, p: Buffer, m: number, dev: number): number => ret(pathFns.mknodat(d, p, m, dev) as number),
  statfs: (p: Buffer, buf: number): number => ret(pathFns.statfs(p, buf) as number),
  fstatfs: (fd: number, buf: number): number => ret(pathFns.fstatfs(fd, buf) as number),
  sync: (): void => void pathFns.sync(),
  syncfs: (fd: number): number => ret(pathFns.syncfs(fd) as number),
  fdatasync: (fd: number): number => ret(pathFns.fdatasync(fd) as number),
  getpgrp: (): number => getpgrpFn() as number,
  getsid: (): number => getsidFn(0) as number,
  /** elfrun's own CPU affinity mask (what a native process would inherit), 128 bytes */
  affinity: (): Uint8Array => {
    const m = new Uint8Array(128);
    schedGetaffinityFn(0, 128, m);
    return m;
  },
  clockGettime: (clk: number, ts: number): number => ret(clockGettimeFn(clk, ts) as number),
  clockGetres: (clk: number, ts: number): number => ret(clockGetresFn(clk, ts) as number),
  uname: (buf: number): number => ret(unameFn(buf) as number),
  isatty: (fd: number): boolean => (isattyFn(fd) as number) === 1,
  /** getsockopt of a host socket into host memory: the value's length, or -errno */
  getsockopt: (fd: number, level: number, name: number, val: number, size: number): number => {
    const len = new Uint32Array([size]);
    const r = ret(getsockoptFn(fd, level, name, val, len) as number);
    return r < 0 ? r : len[0];
  },
  /** getsockname/getpeername of a host socket into host memory: the address length, or -errno */
  sockName: (fd: number, peer: boolean, addr: number, size: number): number => {
    const len = new Uint32Array([size]);
    const r = ret((peer ? getpeernameFn : getsocknameFn)(fd, addr, len) as number);
    return r < 0 ? r : len[0];
  },
};

/** A page of host scratch memory, for results the host writes before we translate them. */
export class Scratch {
  readonly block: HostBlock;
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  constructor(size = 65536) {
    this.block = hostAlloc(size);
    const ab = hostView(this.block);
    this.bytes = new Uint8Array(ab);
    this.dv = new DataView(ab);
  }
  get addr(): number {
    return this.block.addr;
  }
  free(): void {
    hostFree(this.block.addr, this.block.size);
  }
}
