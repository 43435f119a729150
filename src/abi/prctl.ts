// prctl(2) options (linux/prctl.h, the same on x86_64 and arm64) and
// arch_prctl(2)'s codes (x86_64's asm/prctl.h; arm64 has no arch_prctl).
// Sub-options follow their option where a handler uses them.

export const PR_SET_PDEATHSIG = 1;
export const PR_GET_PDEATHSIG = 2;
export const PR_GET_DUMPABLE = 3;
export const PR_SET_DUMPABLE = 4;
export const PR_GET_UNALIGN = 5;
export const PR_SET_UNALIGN = 6;
export const PR_GET_KEEPCAPS = 7;
export const PR_SET_KEEPCAPS = 8;
export const PR_GET_FPEMU = 9;
export const PR_SET_FPEMU = 10;
export const PR_GET_FPEXC = 11;
export const PR_SET_FPEXC = 12;
export const PR_GET_TIMING = 13;
export const PR_SET_TIMING = 14;
export const PR_SET_NAME = 15;
export const PR_GET_NAME = 16;
export const PR_GET_ENDIAN = 19;
export const PR_SET_ENDIAN = 20;
export const PR_GET_SECCOMP = 21;
export const PR_SET_SECCOMP = 22;
export const PR_CAPBSET_READ = 23;
export const PR_CAPBSET_DROP = 24;
export const PR_GET_TSC = 25;
export const PR_SET_TSC = 26;
export const PR_TSC_ENABLE = 1;
export const PR_TSC_SIGSEGV = 2;
export const PR_GET_SECUREBITS = 27;
export const PR_SET_SECUREBITS = 28;
export const PR_SET_TIMERSLACK = 29;
export const PR_GET_TIMERSLACK = 30;
export const PR_TASK_PERF_EVENTS_DISABLE = 31;
export const PR_TASK_PERF_EVENTS_ENABLE = 32;
export const PR_MCE_KILL = 33;
export const PR_MCE_KILL_GET = 34;
export const PR_SET_MM = 35;
export const PR_SET_PTRACER = 0x59616d61;
export const PR_SET_CHILD_SUBREAPER = 36;
export const PR_GET_CHILD_SUBREAPER = 37;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_GET_NO_NEW_PRIVS = 39;
export const PR_GET_TID_ADDRESS = 40;
export const PR_SET_THP_DISABLE = 41;
export const PR_GET_THP_DISABLE = 42;
export const PR_MPX_ENABLE_MANAGEMENT = 43;
export const PR_MPX_DISABLE_MANAGEMENT = 44;
export const PR_SET_FP_MODE = 45;
export const PR_GET_FP_MODE = 46;
export const PR_CAP_AMBIENT = 47;
export const PR_SVE_SET_VL = 50;
export const PR_SVE_GET_VL = 51;
export const PR_GET_SPECULATION_CTRL = 52;
export const PR_SET_SPECULATION_CTRL = 53;
export const PR_PAC_RESET_KEYS = 54;
export const PR_SET_TAGGED_ADDR_CTRL = 55;
export const PR_GET_TAGGED_ADDR_CTRL = 56;
export const PR_SET_IO_FLUSHER = 57;
export const PR_GET_IO_FLUSHER = 58;
export const PR_SET_SYSCALL_USER_DISPATCH = 59;
export const PR_PAC_SET_ENABLED_KEYS = 60;
export const PR_PAC_GET_ENABLED_KEYS = 61;
export const PR_SCHED_CORE = 62;
export const PR_SME_SET_VL = 63;
export const PR_SME_GET_VL = 64;
export const PR_SET_MDWE = 65;
export const PR_GET_MDWE = 66;
export const PR_MDWE_REFUSE_EXEC_GAIN = 1;
export const PR_MDWE_NO_INHERIT = 2;
export const PR_SET_MEMORY_MERGE = 67;
export const PR_GET_MEMORY_MERGE = 68;
export const PR_RISCV_V_SET_CONTROL = 69;
export const PR_RISCV_V_GET_CONTROL = 70;
export const PR_RISCV_SET_ICACHE_FLUSH_CTX = 71;
export const PR_PPC_GET_DEXCR = 72;
export const PR_PPC_SET_DEXCR = 73;
export const PR_GET_SHADOW_STACK_STATUS = 74;
export const PR_SET_SHADOW_STACK_STATUS = 75;
export const PR_LOCK_SHADOW_STACK_STATUS = 76;
export const PR_TIMER_CREATE_RESTORE_IDS = 77;
export const PR_FUTEX_HASH = 78;
export const PR_SET_VMA = 0x53564d41;
export const PR_SET_VMA_ANON_NAME = 0;
export const PR_GET_AUXV = 0x41555856;
export const PR_SET_PTRACER_ANY = -1;

// PR_MCE_KILL's operations and policies
export const PR_MCE_KILL_CLEAR = 0;
export const PR_MCE_KILL_SET = 1;
export const PR_MCE_KILL_LATE = 0;
export const PR_MCE_KILL_EARLY = 1;
export const PR_MCE_KILL_DEFAULT = 2;

// PR_SET_MM's fields
export const PR_SET_MM_START_CODE = 1;
export const PR_SET_MM_END_CODE = 2;
export const PR_SET_MM_START_DATA = 3;
export const PR_SET_MM_END_DATA = 4;
export const PR_SET_MM_START_STACK = 5;
export const PR_SET_MM_START_BRK = 6;
export const PR_SET_MM_BRK = 7;
export const PR_SET_MM_ARG_START = 8;
export const PR_SET_MM_ARG_END = 9;
export const PR_SET_MM_ENV_START = 10;
export const PR_SET_MM_ENV_END = 11;
export const PR_SET_MM_AUXV = 12;
export const PR_SET_MM_EXE_FILE = 13;
export const PR_SET_MM_MAP = 14;
export const PR_SET_MM_MAP_SIZE = 15;
/** sizeof(struct prctl_mm_map) */
export const PRCTL_MM_MAP_SIZE = 104;

// PR_CAP_AMBIENT's operations
export const PR_CAP_AMBIENT_IS_SET = 1;
export const PR_CAP_AMBIENT_RAISE = 2;
export const PR_CAP_AMBIENT_LOWER = 3;
export const PR_CAP_AMBIENT_CLEAR_ALL = 4;

// PR_{GET,SET}_SPECULATION_CTRL's features and states
export const PR_SPEC_STORE_BYPASS = 0;
export const PR_SPEC_INDIRECT_BRANCH = 1;
export const PR_SPEC_L1D_FLUSH = 2;
export const PR_SPEC_NOT_AFFECTED = 0;
export const PR_SPEC_PRCTL = 1;
export const PR_SPEC_ENABLE = 2;
export const PR_SPEC_DISABLE = 4;
export const PR_SPEC_FORCE_DISABLE = 8;
export const PR_SPEC_DISABLE_NOEXEC = 16;

// PR_SET_SYSCALL_USER_DISPATCH's modes and selector values; SIGSYS's si_code for it
export const PR_SYS_DISPATCH_OFF = 0;
export const PR_SYS_DISPATCH_ON = 1;
export const SYSCALL_DISPATCH_FILTER_ALLOW = 0;
export const SYSCALL_DISPATCH_FILTER_BLOCK = 1;
export const SYS_USER_DISPATCH = 2;

// securebits (linux/securebits.h): each bit, and its lock one above it
export const SECURE_NOROOT = 0x1;
export const SECURE_NO_SETUID_FIXUP = 0x4;
export const SECURE_KEEP_CAPS = 0x10;
export const SECURE_KEEP_CAPS_LOCKED = 0x20;
export const SECURE_NO_CAP_AMBIENT_RAISE = 0x40;
/** NOROOT, NO_SETUID_FIXUP, KEEP_CAPS, NO_CAP_AMBIENT_RAISE, EXEC_RESTRICT_FILE, EXEC_DENY_INTERACTIVE */
export const SECURE_ALL_BITS = 0x155;
export const SECURE_ALL_LOCKS = SECURE_ALL_BITS << 1;

// ---- arch_prctl (x86_64) ----
export const ARCH_SET_GS = 0x1001;
export const ARCH_SET_FS = 0x1002;
export const ARCH_GET_FS = 0x1003;
export const ARCH_GET_GS = 0x1004;
export const ARCH_GET_CPUID = 0x1011;
export const ARCH_SET_CPUID = 0x1012;
export const ARCH_GET_XCOMP_SUPP = 0x1021;
export const ARCH_GET_XCOMP_PERM = 0x1022;
export const ARCH_REQ_XCOMP_PERM = 0x1023;
export const ARCH_GET_XCOMP_GUEST_PERM = 0x1024;
export const ARCH_REQ_XCOMP_GUEST_PERM = 0x1025;
export const ARCH_MAP_VDSO_X32 = 0x2001;
export const ARCH_MAP_VDSO_32 = 0x2002;
export const ARCH_MAP_VDSO_64 = 0x2003;
/** not in mainline's asm/prctl.h: the CET patches' query, which some glibc builds make */
export const ARCH_CET_STATUS = 0x3001;
