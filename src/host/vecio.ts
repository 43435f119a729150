// The host's vectored and zero-copy I/O calls, for host files: the guest's
// flags and offsets go to the host kernel as they are, so the host file
// system decides what it supports (RWF_* flags, fallocate modes). Each
// returns -errno on failure. Bound on first use: few runs need them.
import koffi from './ffi.js';

type Fns = {
  preadv2: (fd: number, iov: number, cnt: number, off: bigint, flags: number) => number;
  pwritev2: (fd: number, iov: number, cnt: number, off: bigint, flags: number) => number;
  copyFileRange: (fdIn: number, offIn: bigint[] | null, fdOut: number, offOut: bigint[] | null, len: number, flags: number) => number;
  fallocate: (fd: number, mode: number, off: bigint, len: bigint) => number;
  syncFileRange: (fd: number, off: bigint, len: bigint, flags: number) => number;
  readahead: (fd: number, off: bigint, len: number) => number;
  fadvise: (fd: number, off: bigint, len: bigint, advice: number) => number;
  cachestat: (nr: number, fd: number, range: number, out: number, flags: number) => number;
};
let fns: Fns | null = null;
function bind(): Fns {
  if (fns !== null) return fns;
  const libc = koffi.load('libc.so.6');
  fns = {
    preadv2: libc.func('intptr_t preadv2(int fd, intptr_t iov, int cnt, int64_t off, int flags)') as Fns['preadv2'],
    pwritev2: libc.func('intptr_t pwritev2(int fd, intptr_t iov, int cnt, int64_t off, int flags)') as Fns['pwritev2'],
    copyFileRange: libc.func('intptr_t copy_file_range(int fdin, _Inout_ int64_t *offin, int fdout, _Inout_ int64_t *offout, size_t len, unsigned int flags)') as Fns['copyFileRange'],
    fallocate: libc.func('int fallocate64(int fd, int mode, int64_t off, int64_t len)') as Fns['fallocate'],
    syncFileRange: libc.func('int sync_file_range(int fd, int64_t off, int64_t len, unsigned int flags)') as Fns['syncFileRange'],
    readahead: libc.func('intptr_t readahead(int fd, int64_t off, size_t len)') as Fns['readahead'],
    // posix_fadvise returns the error number itself
    fadvise: libc.func('int posix_fadvise64(int fd, int64_t off, int64_t len, int advice)') as Fns['fadvise'],
    // no libc wrapper: syscall(2), with the arguments cachestat takes (all integers, so no variadic promotion matters)
    cachestat: libc.func('intptr_t syscall(intptr_t nr, int fd, intptr_t range, intptr_t out, unsigned int flags)') as Fns['cachestat'],
  };
  return fns;
}

const ret = (r: number): number => (r < 0 ? -koffi.errno() : r);

export const hostVec = {
  /** preadv2/pwritev2 with a host iovec array at `iov` (host addresses) */
  preadv2: (fd: number, iov: number, cnt: number, off: bigint, flags: number): number => ret(bind().preadv2(fd, iov, cnt, off, flags)),
  pwritev2: (fd: number, iov: number, cnt: number, off: bigint, flags: number): number => ret(bind().pwritev2(fd, iov, cnt, off, flags)),
  /** offsets: a one-element array updated in place, or null for the file position */
  copyFileRange: (fdIn: number, offIn: bigint[] | null, fdOut: number, offOut: bigint[] | null, len: number, flags: number): number =>
    ret(bind().copyFileRange(fdIn, offIn, fdOut, offOut, len, flags)),
  fallocate: (fd: number, mode: number, off: bigint, len: bigint): number => ret(bind().fallocate(fd, mode, off, len)),
  syncFileRange: (fd: number, off: bigint, len: bigint, flags: number): number => ret(bind().syncFileRange(fd, off, len, flags)),
  readahead: (fd: number, off: bigint, len: number): number => ret(bind().readahead(fd, off, len)),
  fadvise: (fd: number, off: bigint, len: bigint, advice: number): number => -bind().fadvise(fd, off, len, advice),
  /** cachestat(2) on the host (x86_64 number 451): range and out are host addresses */
  cachestat: (fd: number, range: number, out: number): number => ret(bind().cachestat(451, fd, range, out, 0)),
};
