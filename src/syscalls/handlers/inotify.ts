// inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch: the
// instance and its watches are fs/inotify.ts's; here the arguments are
// checked in Linux's order and the path walked in the guest's tree.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { AT_FDCWD, O_RDONLY } from '../../abi/fcntl.js';
import { R_OK, S_IFDIR } from '../../abi/stat.js';
import { ALL_INOTIFY_BITS, IN_CLOEXEC, IN_DONT_FOLLOW, IN_MASK_ADD, IN_MASK_CREATE, IN_NONBLOCK, IN_ONLYDIR } from '../../abi/inotify.js';
import { InotifyFile, Notifier } from '../../fs/inotify.js';
import { HostNode } from '../../fs/hostfs.js';
import { statFields } from '../../fs/stat.js';
import { lookupAt, pathArg, partial, type Def } from './util.js';

function init(t: Task, flags: number): number {
  if (flags & ~(IN_CLOEXEC | IN_NONBLOCK)) fail(E.EINVAL);
  const f = new InotifyFile(O_RDONLY | (flags & IN_NONBLOCK), t.vfs.anonIno('inotify'), t.kernel.vfs.notify);
  return t.fds.add(f, (flags & IN_CLOEXEC) !== 0);
}

function instance(t: Task, fd: number): InotifyFile {
  const f = t.fds.file(fd);
  if (!(f instanceof InotifyFile)) fail(E.EINVAL);
  return f;
}

function addWatch(t: Task, fd: number, pathAddr: number, mask: number): number {
  if (!(mask & ALL_INOTIFY_BITS)) fail(E.EINVAL);
  t.fds.file(fd);
  if (mask & IN_MASK_ADD && mask & IN_MASK_CREATE) fail(E.EINVAL);
  const f = instance(t, fd);
  const loc = lookupAt(t, AT_FDCWD, pathArg(t, pathAddr), !(mask & IN_DONT_FOLLOW));
  if (mask & IN_ONLYDIR && loc.node.type !== S_IFDIR) fail(E.ENOTDIR);
  const st = statFields(loc.node.stat(t));
  if (loc.node instanceof HostNode) return f.watchHost(loc.node.path, mask, st.ino, st.dev);
  t.kernel.vfs.permission(t, loc, R_OK);
  return f.watchNode(Notifier.key(loc.node), mask, st.ino, st.dev, loc.node.type === S_IFDIR);
}

const NOTE =
  'events on host directories come from the host\'s inotify, so changes by host processes are seen as well; on in-memory file systems ' +
  '(tmpfs, /dev) elfrun reports the guest\'s own changes: open, close, read, write, ftruncate, attribute changes, create, link, unlink, rename, unmount ' +
  '(not splice, copy_file_range or writes through shared mappings); IN_EXCL_UNLINK knows a file unlinked while watched; ' +
  'fdinfo shows no file handle for watches on in-memory file systems (elfrun has no handles for them); max_user_instances and max_user_watches are not counted';

export const inotifyDefs: Record<string, Def> = {
  inotify_init1: partial({ args: ['inotifyflags'], ret: 'fd' }, (t, a) => init(t, a.i32(0)), NOTE),
  // x86_64 only: inotify_init1 without flags
  inotify_init: partial({ args: [], ret: 'fd' }, (t) => init(t, 0), NOTE),
  inotify_add_watch: partial(['fd', 'path', 'inotifymask'], (t, a) => addWatch(t, a.i32(0), a.ptr(1), a.u32(2)), NOTE),
  inotify_rm_watch: partial(['fd', 'int'], (t, a) => {
    instance(t, a.i32(0)).unwatch(a.i32(1));
    return 0;
  }, NOTE),
};
