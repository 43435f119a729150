// <linux/inotify.h>: event bits, watch flags, inotify_init1 flags.
export const IN_ACCESS = 0x1;
export const IN_MODIFY = 0x2;
export const IN_ATTRIB = 0x4;
export const IN_CLOSE_WRITE = 0x8;
export const IN_CLOSE_NOWRITE = 0x10;
export const IN_OPEN = 0x20;
export const IN_MOVED_FROM = 0x40;
export const IN_MOVED_TO = 0x80;
export const IN_CREATE = 0x100;
export const IN_DELETE = 0x200;
export const IN_DELETE_SELF = 0x400;
export const IN_MOVE_SELF = 0x800;
export const IN_UNMOUNT = 0x2000;
export const IN_Q_OVERFLOW = 0x4000;
export const IN_IGNORED = 0x8000;
export const IN_ONLYDIR = 0x1000000;
export const IN_DONT_FOLLOW = 0x2000000;
export const IN_EXCL_UNLINK = 0x4000000;
export const IN_MASK_CREATE = 0x10000000;
export const IN_MASK_ADD = 0x20000000;
export const IN_ISDIR = 0x40000000;
export const IN_ONESHOT = 0x80000000;
export const IN_ALL_EVENTS = 0xfff;
/** every bit inotify_add_watch accepts (Linux's ALL_INOTIFY_BITS) */
export const ALL_INOTIFY_BITS = (IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_ADD | IN_MASK_CREATE | IN_ISDIR | IN_ONESHOT) >>> 0;
/** inotify_init1: O_CLOEXEC and O_NONBLOCK, the same on x86_64 and arm64 */
export const IN_CLOEXEC = 0o2000000;
export const IN_NONBLOCK = 0o4000;
/** sizeof(struct inotify_event): wd, mask, cookie, len */
export const INOTIFY_EVENT_SIZE = 16;
/** /proc/sys/fs/inotify/max_queued_events, max_user_instances, max_user_watches as Linux's defaults */
export const MAX_QUEUED_EVENTS = 16384;
