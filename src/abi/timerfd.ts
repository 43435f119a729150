// include/uapi/linux/timerfd.h (glibc's sys/timerfd.h): timerfd's flags.
import { O_CLOEXEC, O_NONBLOCK } from './fcntl.js';

export const TFD_CLOEXEC = O_CLOEXEC;
export const TFD_NONBLOCK = O_NONBLOCK;
export const TFD_TIMER_ABSTIME = 1;
export const TFD_TIMER_CANCEL_ON_SET = 2;
