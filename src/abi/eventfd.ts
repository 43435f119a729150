// include/uapi/linux/eventfd.h (glibc's sys/eventfd.h): eventfd2's flags.
import { O_CLOEXEC, O_NONBLOCK } from './fcntl.js';

export const EFD_SEMAPHORE = 1;
export const EFD_CLOEXEC = O_CLOEXEC;
export const EFD_NONBLOCK = O_NONBLOCK;
