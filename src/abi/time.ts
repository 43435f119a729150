// Clocks and timers (<linux/time.h>): the same on x86_64 and arm64.

export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_PROCESS_CPUTIME_ID = 2;
export const CLOCK_THREAD_CPUTIME_ID = 3;
export const CLOCK_MONOTONIC_RAW = 4;
export const CLOCK_REALTIME_COARSE = 5;
export const CLOCK_MONOTONIC_COARSE = 6;
export const CLOCK_BOOTTIME = 7;
export const CLOCK_REALTIME_ALARM = 8;
export const CLOCK_BOOTTIME_ALARM = 9;
/** (CLOCK_SGI_CYCLE, never implemented by Linux) */
export const CLOCK_SGI_CYCLE = 10;
export const CLOCK_TAI = 11;
/** the highest clock id */
export const MAX_CLOCKS_ID = CLOCK_TAI;

/** clock_nanosleep, timer_settime, timerfd_settime: the time is absolute */
export const TIMER_ABSTIME = 0x01;

export const ITIMER_REAL = 0;
export const ITIMER_VIRTUAL = 1;
export const ITIMER_PROF = 2;
