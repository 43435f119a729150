// Linux's memory-mapping constants, grouped as <linux/mman.h>,
// <asm-generic/mman.h> and <asm-generic/mman-common.h> define them. x86_64
// and arm64 share the asm-generic values; the few arch-only ones say so.

// ---- mmap/mprotect prot (mman-common.h) ----------------------------------------
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const PROT_SEM = 0x8;
/** arm64 only (asm/mman.h): branch target identification */
export const PROT_BTI = 0x10;
/** arm64 only (asm/mman.h): memory tagging */
export const PROT_MTE = 0x20;
/** mprotect: extend the change to the start of a grows-down VMA */
export const PROT_GROWSDOWN = 0x01000000;
/** mprotect: extend the change to the end of a grows-up VMA */
export const PROT_GROWSUP = 0x02000000;

// ---- mmap flags: the mapping type (linux/mman.h) -------------------------------
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
/** MAP_SHARED, and fail on flags the kernel does not know */
export const MAP_SHARED_VALIDATE = 0x03;

// ---- mmap flags (mman-common.h) ------------------------------------------------
/** mask of the mapping type */
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
/** x86_64 only (asm/mman.h): an address in the low 2 GiB */
export const MAP_32BIT = 0x40;
export const MAP_POPULATE = 0x008000;
export const MAP_NONBLOCK = 0x010000;
export const MAP_STACK = 0x020000;
export const MAP_HUGETLB = 0x040000;
export const MAP_SYNC = 0x080000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MAP_UNINITIALIZED = 0x4000000;
/** compatibility flag: no bit */
export const MAP_FILE = 0;

// ---- mmap flags (asm-generic/mman.h) -------------------------------------------
export const MAP_GROWSDOWN = 0x0100;
export const MAP_DENYWRITE = 0x0800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;

/** MAP_HUGETLB: log2 of the huge page size in bits [26, 32) (hugetlb_encode.h) */
export const MAP_HUGE_SHIFT = 26;
export const MAP_HUGE_MASK = 0x3f;

// ---- mremap flags (linux/mman.h) ----------------------------------------------
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

// ---- mlock2 flags (mman-common.h) ----------------------------------------------
export const MLOCK_ONFAULT = 0x01;

// ---- mlockall flags (asm-generic/mman.h) ---------------------------------------
export const MCL_CURRENT = 1;
export const MCL_FUTURE = 2;
export const MCL_ONFAULT = 4;

// ---- msync flags (mman-common.h) -----------------------------------------------
export const MS_ASYNC = 1;
export const MS_INVALIDATE = 2;
export const MS_SYNC = 4;

// ---- madvise advice (mman-common.h) --------------------------------------------
export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_DONTDUMP = 16;
export const MADV_DODUMP = 17;
export const MADV_WIPEONFORK = 18;
export const MADV_KEEPONFORK = 19;
export const MADV_COLD = 20;
export const MADV_PAGEOUT = 21;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;
export const MADV_DONTNEED_LOCKED = 24;
export const MADV_COLLAPSE = 25;
export const MADV_HWPOISON = 100;
export const MADV_SOFT_OFFLINE = 101;

// ---- pkey_alloc access rights (mman-common.h) ----------------------------------
export const PKEY_DISABLE_ACCESS = 0x1;
export const PKEY_DISABLE_WRITE = 0x2;
export const PKEY_ACCESS_MASK = PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE;
