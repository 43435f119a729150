// include/uapi/linux/signalfd.h (glibc's sys/signalfd.h): signalfd4's flags
// and the size of struct signalfd_siginfo.
import { O_CLOEXEC, O_NONBLOCK } from './fcntl.js';

export const SFD_CLOEXEC = O_CLOEXEC;
export const SFD_NONBLOCK = O_NONBLOCK;
/** sizeof(struct signalfd_siginfo) */
export const SIGNALFD_SIGINFO_SIZE = 128;
