// clone(2) flags (linux/sched.h): the low byte (CSIGNAL) is the signal sent
// to the parent at exit; the rest say what the child shares or gets anew.
// The same on x86_64 and arm64.

export const CSIGNAL = 0x000000ff;

export const CLONE = {
  NEWTIME: 0x80,
  VM: 0x100,
  FS: 0x200,
  FILES: 0x400,
  SIGHAND: 0x800,
  PIDFD: 0x1000,
  PTRACE: 0x2000,
  VFORK: 0x4000,
  PARENT: 0x8000,
  THREAD: 0x10000,
  NEWNS: 0x20000,
  SYSVSEM: 0x40000,
  SETTLS: 0x80000,
  PARENT_SETTID: 0x100000,
  CHILD_CLEARTID: 0x200000,
  DETACHED: 0x400000,
  UNTRACED: 0x800000,
  CHILD_SETTID: 0x1000000,
  NEWCGROUP: 0x2000000,
  NEWUTS: 0x4000000,
  NEWIPC: 0x8000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
  IO: 0x80000000,
  /** clone3 only: past 32 bits */
  CLEAR_SIGHAND: 0x100000000,
  INTO_CGROUP: 0x200000000,
} as const;
