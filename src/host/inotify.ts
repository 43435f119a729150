// The host's inotify, for watches on host directories: the host kernel
// sees every change to them, by the guest (through elfrun's host calls) and
// by host processes alike. Each returns -errno on failure. Bound on first
// use: few runs watch files.
import koffi from './ffi.js';

type Fns = {
  init1: (flags: number) => number;
  addWatch: (fd: number, path: Buffer, mask: number) => number;
  rmWatch: (fd: number, wd: number) => number;
  nameToHandle: (dirfd: number, path: Buffer, handle: Uint8Array, mountId: Int32Array, flags: number) => number;
};
let fns: Fns | null = null;
function bind(): Fns {
  if (fns !== null) return fns;
  const libc = koffi.load('libc.so.6');
  fns = {
    init1: libc.func('int inotify_init1(int flags)') as Fns['init1'],
    addWatch: libc.func('int inotify_add_watch(int fd, const char *path, uint32_t mask)') as Fns['addWatch'],
    rmWatch: libc.func('int inotify_rm_watch(int fd, int wd)') as Fns['rmWatch'],
    nameToHandle: libc.func('int name_to_handle_at(int dirfd, const char *path, _Inout_ uint8_t *handle, _Out_ int32_t *mount_id, int flags)') as Fns['nameToHandle'],
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
  /**
   * The host file system's handle of the file at a host path (not following
   * a final symlink), as fdinfo shows a watch's: [type, bytes], or null
   * when the file system has none.
   */
  fileHandle: (path: string): [number, Buffer] | null => {
    const MAX_HANDLE_SZ = 128;
    const h = new Uint8Array(8 + MAX_HANDLE_SZ);
    new DataView(h.buffer).setUint32(0, MAX_HANDLE_SZ, true);
    const AT_FDCWD = -100;
    if (bind().nameToHandle(AT_FDCWD, Buffer.from(path + '\0', 'latin1'), h, new Int32Array(1), 0) < 0) return null;
    const dv = new DataView(h.buffer);
    return [dv.getInt32(4, true), Buffer.from(h.subarray(8, 8 + dv.getUint32(0, true)))];
  },
};
