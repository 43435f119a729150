// Resource limits, getrusage's who and getpriority's which
// (asm-generic/resource.h, linux/resource.h). x86_64 and arm64 both take
// asm-generic's numbering.

export const RLIMIT_CPU = 0;
export const RLIMIT_FSIZE = 1;
export const RLIMIT_DATA = 2;
export const RLIMIT_STACK = 3;
export const RLIMIT_CORE = 4;
export const RLIMIT_RSS = 5;
export const RLIMIT_NPROC = 6;
export const RLIMIT_NOFILE = 7;
export const RLIMIT_MEMLOCK = 8;
export const RLIMIT_AS = 9;
export const RLIMIT_LOCKS = 10;
export const RLIMIT_SIGPENDING = 11;
export const RLIMIT_MSGQUEUE = 12;
/** the lowest nice value allowed, as 20 - nice */
export const RLIMIT_NICE = 13;
export const RLIMIT_RTPRIO = 14;
export const RLIMIT_RTTIME = 15;
export const RLIM_NLIMITS = 16;
/** (~0UL): no limit, as the u64 the guest reads */
export const RLIM_INFINITY = 0xffffffffffffffffn;

export const RUSAGE_SELF = 0;
export const RUSAGE_CHILDREN = -1;
/** wait4 internally */
export const RUSAGE_BOTH = -2;
export const RUSAGE_THREAD = 1;

export const PRIO_MIN = -20;
export const PRIO_MAX = 20;
export const PRIO_PROCESS = 0;
export const PRIO_PGRP = 1;
export const PRIO_USER = 2;
