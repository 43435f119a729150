// System V IPC and POSIX message queues: linux/ipc.h, shm.h, sem.h, msg.h,
// mqueue.h (the same on x86_64 and arm64).

/** linux/ipc.h: keys, the get calls' flags, the common commands */
export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000;
export const IPC_EXCL = 0o2000;
export const IPC_NOWAIT = 0o4000;
export const IPC_RMID = 0;
export const IPC_SET = 1;
export const IPC_STAT = 2;
export const IPC_INFO = 3;

/** linux/shm.h: shmget's and shmat's flags, shmctl's commands, the mode bits of a segment */
export const SHM_HUGETLB = 0o4000;
export const SHM_NORESERVE = 0o10000;
export const SHM_RDONLY = 0o10000;
export const SHM_RND = 0o20000;
export const SHM_REMAP = 0o40000;
export const SHM_EXEC = 0o100000;
export const SHM_LOCK = 11;
export const SHM_UNLOCK = 12;
export const SHM_STAT = 13;
export const SHM_INFO = 14;
export const SHM_STAT_ANY = 15;
export const SHM_DEST = 0o1000;
export const SHM_LOCKED = 0o2000;

/** linux/sem.h: semop's flag, semctl's commands, the value limit */
export const SEM_UNDO = 0x1000;
export const GETPID = 11;
export const GETVAL = 12;
export const GETALL = 13;
export const GETNCNT = 14;
export const GETZCNT = 15;
export const SETVAL = 16;
export const SETALL = 17;
export const SEM_STAT = 18;
export const SEM_INFO = 19;
export const SEM_STAT_ANY = 20;
export const SEMVMX = 32767;
export const SEMAEM = SEMVMX;
export const SEMUSZ = 20;
/** seminfo's semmap and semmnu (SEMMNS) and semume (SEMOPM): the constants, whatever the sysctls say */
export const SEMMNS = 1024000000;
export const SEMOPM = 500;

/** linux/msg.h: msgrcv's flags, msgctl's commands, the constants msginfo shows */
export const MSG_NOERROR = 0o10000;
export const MSG_EXCEPT = 0o20000;
export const MSG_COPY = 0o40000;
export const MSG_STAT = 11;
export const MSG_INFO = 12;
export const MSG_STAT_ANY = 13;
export const MSGMNI = 32000;
export const MSGMNB = 16384;
export const MSGSSZ = 16;
export const MSGPOOL = (MSGMNI * MSGMNB) / 1024;
export const MSGSEG = Math.min((MSGPOOL * 1024) / MSGSSZ, 0xffff);

/** mqueue.h and limits.h: the priority bound; asm-generic/siginfo.h: a queue's si_code and sigev_notify kinds */
export const MQ_PRIO_MAX = 32768;
export const SI_MESGQ = -3;
export const SIGEV_SIGNAL = 0;
export const SIGEV_NONE = 1;
export const SIGEV_THREAD = 2;
