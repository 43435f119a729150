// wait4/waitid options and waitid's idtype (linux/wait.h). The same on
// x86_64 and arm64.

export const WNOHANG = 0x00000001;
export const WUNTRACED = 0x00000002;
export const WSTOPPED = WUNTRACED;
export const WEXITED = 0x00000004;
export const WCONTINUED = 0x00000008;
/** don't reap, just report */
export const WNOWAIT = 0x01000000;
/** don't wait on children of other threads of the group */
export const __WNOTHREAD = 0x20000000;
/** wait on every child, whatever its exit signal */
export const __WALL = 0x40000000;
/** wait only on children whose exit signal is not SIGCHLD */
export const __WCLONE = 0x80000000;

/** waitid's idtype */
export const P_ALL = 0;
export const P_PID = 1;
export const P_PGID = 2;
export const P_PIDFD = 3;
