// Event and notification fds: eventfd.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { O_RDWR } from '../../abi/fcntl.js';
import { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE } from '../../abi/eventfd.js';
import { EventFd } from '../../fs/eventfd.js';
import { supported, type Def } from './util.js';

function eventfd(t: Task, initval: number, flags: number): number {
  if (flags & ~(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK)) fail(E.EINVAL);
  const f = new EventFd(initval, O_RDWR | (flags & EFD_NONBLOCK), flags & EFD_SEMAPHORE, t.vfs.anonIno('eventfd'));
  return t.fds.add(f, (flags & EFD_CLOEXEC) !== 0);
}

export const eventDefs: Record<string, Def> = {
  eventfd2: supported({ args: ['uint', 'efdflags'], ret: 'fd' }, (t, a) => eventfd(t, a.u32(0), a.i32(1))),
  // x86_64 only: eventfd2 without flags
  eventfd: supported({ args: ['uint'], ret: 'fd' }, (t, a) => eventfd(t, a.u32(0), 0)),
};
