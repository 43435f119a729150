// Reading directories: getdents64, and x86_64's old getdents, whose
// records are getdents64's rewritten in place (fs/dirents.ts).
import type { Task } from '../../proc/task.js';
import { toOldDirents } from '../../fs/dirents.js';
import { supported, type Def } from './util.js';

const getdents64 = (t: Task, fd: number, addr: number, len: number): number => t.fds.file(fd).getdents64(t, addr, Math.min(len, 0x7fffffff));

export const direntDefs: Record<string, Def> = {
  getdents64: supported(['fd', 'dirents', 'size'], (t, a) => getdents64(t, a.i32(0), a.ptr(1), a.size(2))),
  getdents: supported(['fd', 'dirents', 'size'], (t, a) => {
    const n = getdents64(t, a.i32(0), a.ptr(1), a.size(2));
    if (n > 0) t.mm.write(a.ptr(1), toOldDirents(t.mm.read(a.ptr(1), n)));
    return n;
  }),
};
