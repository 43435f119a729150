// futex(2) operations, their flags, and the robust-list word layout
// (linux/futex.h). The same on x86_64 and arm64.

export const FUTEX_WAIT = 0;
export const FUTEX_WAKE = 1;
export const FUTEX_FD = 2;
export const FUTEX_REQUEUE = 3;
export const FUTEX_CMP_REQUEUE = 4;
export const FUTEX_WAKE_OP = 5;
export const FUTEX_LOCK_PI = 6;
export const FUTEX_UNLOCK_PI = 7;
export const FUTEX_TRYLOCK_PI = 8;
export const FUTEX_WAIT_BITSET = 9;
export const FUTEX_WAKE_BITSET = 10;
export const FUTEX_WAIT_REQUEUE_PI = 11;
export const FUTEX_CMP_REQUEUE_PI = 12;
export const FUTEX_LOCK_PI2 = 13;

/** flags or'ed into the operation */
export const FUTEX_PRIVATE_FLAG = 128;
export const FUTEX_CLOCK_REALTIME = 256;
export const FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

/** FUTEX_WAIT_BITSET/FUTEX_WAKE_BITSET: the mask that matches every waiter */
export const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

/** a robust futex word: waiters exist, the owner died, the owner's tid */
export const FUTEX_WAITERS = 0x80000000;
export const FUTEX_OWNER_DIED = 0x40000000;
export const FUTEX_TID_MASK = 0x3fffffff;

/** FUTEX_WAKE_OP's operation and comparison */
export const FUTEX_OP_SET = 0;
export const FUTEX_OP_ADD = 1;
export const FUTEX_OP_OR = 2;
export const FUTEX_OP_ANDN = 3;
export const FUTEX_OP_XOR = 4;
export const FUTEX_OP_OPARG_SHIFT = 8;
export const FUTEX_OP_CMP_EQ = 0;
export const FUTEX_OP_CMP_NE = 1;
export const FUTEX_OP_CMP_LT = 2;
export const FUTEX_OP_CMP_LE = 3;
export const FUTEX_OP_CMP_GT = 4;
export const FUTEX_OP_CMP_GE = 5;

/** futex_waitv: at most this many words; each word's flags (futex2's) */
export const FUTEX_WAITV_MAX = 128;
export const FUTEX2_SIZE_U32 = 0x02;
export const FUTEX2_SIZE_MASK = 0x03;
export const FUTEX2_NUMA = 0x04;
export const FUTEX2_MPOL = 0x08;
export const FUTEX2_PRIVATE = FUTEX_PRIVATE_FLAG;
