// Memory syscalls: brk, mmap family.
import type { Task } from '../../proc/task.js';
import { PAGE, PROT_READ, PROT_WRITE, PROT_EXEC, anon, pageUp } from '../../mm/address-space.js';
import { host } from '../../host/libc.js';
import { HostFile } from '../../fs/file.js';
import { E, fail } from '../errno.js';
import { Unsupported } from '../dispatch.js';
import { partial, supported, type Def } from './util.js';
import type { Args } from '../args.js';

const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_SHARED_VALIDATE = 0x03;
const MAP_TYPE = 0x0f;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_GROWSDOWN = 0x100;
const MAP_DENYWRITE = 0x800;
const MAP_EXECUTABLE = 0x1000;
const MAP_LOCKED = 0x2000;
const MAP_NORESERVE = 0x4000;
const MAP_POPULATE = 0x8000;
const MAP_NONBLOCK = 0x10000;
const MAP_STACK = 0x20000;
const MAP_HUGETLB = 0x40000;
const MAP_FIXED_NOREPLACE = 0x100000;
const KNOWN =
  MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED | MAP_NORESERVE |
  MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_FIXED_NOREPLACE;
const PROT_GROWSDOWN = 0x01000000;
const PROT_GROWSUP = 0x02000000;
const PROT_MASK = PROT_READ | PROT_WRITE | PROT_EXEC;

function mmap(t: Task, a: Args): number {
  const addr = a.ptr(0);
  const len = a.u64(1);
  const prot = a.u32(2);
  const flags = a.u32(3);
  const fd = a.i32(4);
  const off = a.i64(5);
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) fail(E.EINVAL);
  if (type === MAP_SHARED_VALIDATE && flags & ~KNOWN) fail(E.ENOTSUP);
  if (len === 0) fail(E.EINVAL);
  if (off % PAGE !== 0 || off < 0) fail(E.EINVAL);
  const size = pageUp(len);
  if (!Number.isFinite(size) || size > t.mm.layout.taskSize) fail(E.ENOMEM);
  if (prot & ~PROT_MASK) fail(E.EINVAL);
  if (flags & MAP_HUGETLB) throw new Unsupported('mmap flag MAP_HUGETLB', E.EINVAL);
  const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
  if (fixed) {
    if (addr % PAGE !== 0) fail(E.EINVAL);
    if (addr + size > t.mm.layout.taskSize || addr < 0x10000) fail(flags & MAP_FIXED ? E.EPERM : E.ENOMEM);
    if (!(flags & MAP_FIXED) && !t.mm.isFree(addr, size)) fail(E.EEXIST);
  }
  const anonymous = (flags & MAP_ANONYMOUS) !== 0;
  if (!anonymous) {
    const f = t.fds.file(fd);
    if (type !== MAP_PRIVATE) throw new Unsupported('mmap of a file with MAP_SHARED', E.ENODEV);
    if (!f.readable) fail(E.EACCES);
    if (f.hostFd < 0) fail(E.ENODEV);
  } else if (type !== MAP_PRIVATE) {
    throw new Unsupported('mmap with MAP_SHARED|MAP_ANONYMOUS (shared memory across fork)', E.EINVAL);
  }
  const start = fixed ? addr : t.mm.findFree(size, addr < 0x10000 ? 0 : addr);
  // Private mappings are copies: fill fresh memory, then map it with the requested protection.
  const vma = t.mm.mapAnon(start, size, prot & PROT_MASK, anon(''));
  if (!anonymous) {
    const f = t.fds.file(fd);
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
    vma.info = { name: f instanceof HostFile ? f.path : '', shared: false, offset: off, dev: 0, ino: 0 };
  }
  return start;
}

function munmap(t: Task, a: Args): number {
  const addr = a.ptr(0);
  const len = a.u64(1);
  if (addr % PAGE !== 0 || len === 0) fail(E.EINVAL);
  const end = addr + pageUp(len);
  if (!Number.isFinite(end) || end > t.mm.layout.taskSize) fail(E.EINVAL);
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
  t.mm.protect(addr, end, prot & PROT_MASK);
  return 0;
}

const MREMAP_MAYMOVE = 1;
const MREMAP_FIXED = 2;
const MREMAP_DONTUNMAP = 4;

function mremap(t: Task, a: Args): number {
  const old = a.ptr(0);
  const oldLen = pageUp(a.u64(1));
  const newLen = pageUp(a.u64(2));
  const flags = a.u32(3);
  const newAddr = a.ptr(4);
  if (old % PAGE !== 0) fail(E.EINVAL);
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) fail(E.EINVAL);
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) fail(E.EINVAL);
  if (flags & MREMAP_DONTUNMAP) throw new Unsupported('mremap flag MREMAP_DONTUNMAP', E.EINVAL);
  if (newLen === 0 || !Number.isFinite(newLen)) fail(E.EINVAL);
  if (oldLen === 0) throw new Unsupported('mremap of a shared mapping with old_size 0', E.EINVAL);
  let fixedAt: number | null = null;
  if (flags & MREMAP_FIXED) {
    if (newAddr % PAGE !== 0) fail(E.EINVAL);
    if (newAddr < old + oldLen && old < newAddr + newLen) fail(E.EINVAL);
    fixedAt = newAddr;
  }
  return t.mm.remap(old, oldLen, newLen, (flags & MREMAP_MAYMOVE) !== 0, fixedAt);
}

const MADV_DONTNEED = 4;
const MADV_FREE = 8;
const MADV_REMOVE = 9;

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
  if (advice === MADV_DONTNEED) t.mm.zeroPages(addr, end);
  else if (advice === MADV_REMOVE) fail(E.EINVAL);
  // MADV_FREE and the hints (NORMAL, RANDOM, SEQUENTIAL, WILLNEED, HUGEPAGE, DONTDUMP...) change no content.
  void MADV_FREE;
  return 0;
}

export const mmDefs: Record<string, Def> = {
  brk: supported((t, a) => t.mm.brk(a.ptr(0))),
  mmap: partial(mmap, 'anonymous private memory and private (copied) file mappings; MAP_SHARED and MAP_HUGETLB are reported as unsupported'),
  munmap: supported(munmap),
  mprotect: supported(mprotect),
  mremap: partial(mremap, 'private mappings; MREMAP_DONTUNMAP and the shared old_size==0 form are reported as unsupported'),
  madvise: supported(madvise, 'MADV_DONTNEED zeroes private pages; hints are accepted and change nothing, as on Linux'),
};
