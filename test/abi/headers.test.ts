// abi/'s file, poll, ioctl, socket, IPC and limit constants against the C
// headers: a program compiled for each arch (gcc, and aarch64-linux-gnu-gcc
// run under qemu-aarch64) prints every name it knows, and each must equal
// ours. Names the C headers do not define (elfrun's own, or the kernel's
// outside its UAPI) are listed and checked by hand in the modules; glibc 2.36's and
// Linux 6.1's headers lack the memfd exec flags and seal of Linux 6.3.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fcntl from '../../src/abi/fcntl.js';
import * as stat from '../../src/abi/stat.js';
import * as poll from '../../src/abi/poll.js';
import * as ioctl from '../../src/abi/ioctl.js';
import * as socket from '../../src/abi/socket.js';
import * as limits from '../../src/abi/limits.js';
import * as eventfd from '../../src/abi/eventfd.js';
import * as timerfd from '../../src/abi/timerfd.js';
import * as signalfd from '../../src/abi/signalfd.js';
import * as ipc from '../../src/abi/ipc.js';
import * as inotify from '../../src/abi/inotify.js';
import { haveQemu } from '../helpers/oracle.js';

/**
 * Not C macros (elfrun's own names, struct sizes, the kernel's internal
 * values) or not in glibc's headers (O_NOTIFICATION_PIPE is in
 * linux/watch_queue.h, which cannot be included beside glibc's fcntl.h;
 * F_DUPFD_QUERY and F_CREATED_QUERY, Linux 6.10's and 6.12's, are newer).
 */
const NOT_IN_C = new Set(['O_NOTIFICATION_PIPE', 'F_DUPFD_QUERY', 'F_CREATED_QUERY', 'O_TMPFILE_BASE', 'TERMIOS_SIZE', 'TERMIOS_CC', 'WINSIZE_SIZE', 'SOCKADDR_UN_SIZE', 'MAX_RW_COUNT', 'MAXSYMLINKS', 'S_IALLUGO', 'SOCK_TYPE_MASK', 'IOV_MAX', 'ST_VALID', 'SEEK_MAX', 'EPOLLNVAL', 'MFD_NOEXEC_SEAL', 'MFD_EXEC', 'F_SEAL_EXEC', 'SIGNALFD_SIGINFO_SIZE', 'ALL_INOTIFY_BITS', 'INOTIFY_EVENT_SIZE', 'MAX_QUEUED_EVENTS',
  // linux/sem.h's and msg.h's limits, which glibc's sys/sem.h and sys/msg.h do not define (checked by the ipcids and sysv* fixtures' info output)
  'SEMVMX', 'SEMAEM', 'SEMUSZ', 'SEMMNS', 'SEMOPM', 'MSGMNI', 'MSGMNB', 'MSGSSZ', 'MSGPOOL', 'MSGSEG',
  // glibc's enum __pid_type, no macros (the sigio fixture prints the types F_GETOWN_EX gives)
  'F_OWNER_TID', 'F_OWNER_PID', 'F_OWNER_PGRP']);

const numbers = Object.entries({ ...fcntl, ...stat, ...poll, ...ioctl, ...socket, ...limits, ...eventfd, ...timerfd, ...signalfd, ...ipc, ...inotify }).filter((e): e is [string, number] => typeof e[1] === 'number' && !NOT_IN_C.has(e[0]));

const PROGRAM = `#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/magic.h>
#include <sys/statvfs.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <asm/termbits.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <linux/limits.h>
#include <linux/close_range.h>
#include <sys/mman.h>
#include <linux/falloc.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/sem.h>
#include <sys/msg.h>
#include <mqueue.h>
#include <limits.h>
#include <signal.h>
#include <sys/inotify.h>
#include <stdio.h>
int main(void) {
${numbers.map(([n]) => `#ifdef ${n}\n  printf("${n} %lld\\n", (long long)(${n}));\n#else\n  printf("${n} missing\\n");\n#endif`).join('\n')}
  printf("TERMIOS_SIZE %zu\\nWINSIZE_SIZE %zu\\n", sizeof(struct termios), sizeof(struct winsize));
  printf("O_DIRECT %d\\nO_DIRECTORY %d\\nO_NOFOLLOW %d\\n", O_DIRECT, O_DIRECTORY, O_NOFOLLOW);
  return 0;
}
`;

const dir = mkdtempSync(join(tmpdir(), 'elfrun-abi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'abi.c'), PROGRAM);

/** Compile and run the program for one arch: name -> value, or null without a compiler. */
function cValues(cc: string, run: string[]): Map<string, string> | null {
  const exe = join(dir, cc);
  const c = spawnSync(cc, ['-w', '-static', '-o', exe, join(dir, 'abi.c')], { encoding: 'utf8' });
  if (c.error !== undefined || c.status !== 0) return null;
  const r = spawnSync(run[0] ?? exe, run.length > 0 ? [...run.slice(1), exe] : [], { encoding: 'utf8' });
  return new Map(r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

const ARCHES = [
  { arch: 'x86_64', cc: 'gcc', run: [] as string[], flags: fcntl.OPEN_FLAGS_X86_64 },
  { arch: 'arm64', cc: 'aarch64-linux-gnu-gcc', run: ['qemu-aarch64'], flags: fcntl.OPEN_FLAGS_ARM64 },
];

describe('abi constants against the C headers', () => {
  for (const { arch, cc, run, flags } of ARCHES) {
    const have = spawnSync(cc, ['--version']).status === 0 && (run.length === 0 || haveQemu());
    it.runIf(have)(arch, () => {
      const c = cValues(cc, run);
      expect(c, `${cc} compiles the program`).not.toBeNull();
      for (const [name, value] of numbers) {
        const v = c!.get(name);
        expect(v, `${name} is defined by the headers`).not.toBe('missing');
        // compared as 32-bit words: EPOLLET is 1U << 31 in C, a negative int32 here
        expect(BigInt.asUintN(32, BigInt(v!)), name).toBe(BigInt.asUintN(32, BigInt(value)));
      }
      expect(Number(c!.get('TERMIOS_SIZE'))).toBe(ioctl.TERMIOS_SIZE);
      expect(Number(c!.get('WINSIZE_SIZE'))).toBe(ioctl.WINSIZE_SIZE);
      expect(Number(c!.get('O_DIRECT'))).toBe(flags.O_DIRECT);
      expect(Number(c!.get('O_DIRECTORY'))).toBe(flags.O_DIRECTORY);
      expect(Number(c!.get('O_NOFOLLOW'))).toBe(flags.O_NOFOLLOW);
    });
  }
});
