// The host's inotify, for watches on host directories: the host kernel
// sees every change to them, by the guest (through elfrun's host calls) and
// by host processes alike. Each returns -errno on failure. Bound on first
// use: few runs watch files.
import koffi from './ffi.js';

type Fns = {
  init1: (flags: number) => number;
  addWatch: (fd: number, path: Buffer, mask: number) => number;
  rmWatch: (fd: number, wd: number) => number;
};
let fns: Fns | null = null;
function bind(): Fns {
  if (fns !== null) return fns;
  const libc = koffi.load('libc.so.6');
  fns = {
    init1: libc.func('int inotify_init1(int flags)') as Fns['init1'],
    addWatch: libc.func('int inotify_add_watch(int fd, const char *path, uint32_t mask)') as Fns['addWatch'],
    rmWatch: libc.func('int inotify_rm_watch(int fd, int wd)') as Fns['rmWatch'],
  };
  return fns;
}

const ret = (r: number): number => (r < 0 ? -koffi.errno() : r);

export const hostInotify = {
  /** flags: the host's IN_NONBLOCK | IN_CLOEXEC */
  init1: (flags: number): number => ret(bind().init1(flags)),
  /** path: a host path, NUL-terminated */
  addWatch: (fd: number, path: Buffer, mask: number): number => ret(bind().addWatch(fd, path, mask >>> 0)),
  rmWatch: (fd: number, wd: number): number => ret(bind().rmWatch(fd, wd)),
};
