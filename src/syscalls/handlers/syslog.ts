// syslog(2) (klogctl): the guest's kernel log, which is elfrun's and holds no
// messages: reading it gives nothing (SYSLOG_ACTION_READ waits for a message,
// as on Linux, so until a signal), the console calls change nothing a guest
// can see, and the buffer is the host's size. The permission checks are
// Linux's, with the host's dmesg_restrict.
import { readFileSync } from 'node:fs';
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { host } from '../../host/libc.js';
import { partial, type Def } from './util.js';

const CAP_SYS_ADMIN = 1n << 21n;
const CAP_SYSLOG = 1n << 34n;
const READ = 2;
const READ_ALL = 3;
const READ_CLEAR = 4;
const CONSOLE_LEVEL = 8;
const SIZE_UNREAD = 9;
const SIZE_BUFFER = 10;

function dmesgRestrict(): boolean {
  try {
    return readFileSync('/proc/sys/kernel/dmesg_restrict', 'latin1').trim() !== '0';
  } catch {
    return true;
  }
}

function syslog(t: Task, type: number, buf: number, len: number): number {
  // check_syslog_permissions: without dmesg_restrict anyone may read the whole log and ask its size
  const restricted = dmesgRestrict() || (type !== READ_ALL && type !== SIZE_BUFFER);
  if (restricted && !(t.cred.caps.eff & (CAP_SYSLOG | CAP_SYS_ADMIN))) fail(E.EPERM);
  switch (type) {
    case 0: // CLOSE
    case 1: // OPEN
    case 5: // CLEAR
    case 6: // CONSOLE_OFF
    case 7: // CONSOLE_ON
      return 0;
    case READ:
    case READ_ALL:
    case READ_CLEAR:
      if (buf === 0 || len < 0) fail(E.EINVAL);
      if (len === 0) return 0;
      // access_ok: a range of user addresses (nothing is copied from an empty log, so no fault)
      if (buf + len > t.mm.layout.taskSize) fail(E.EFAULT);
      // no message: READ waits for one (interruptible; a handler restarts it with SA_RESTART)
      if (type === READ) return t.block([], { restart: 'sys' });
      return 0;
    case CONSOLE_LEVEL:
      if (len < 1 || len > 8) fail(E.EINVAL);
      return 0;
    case SIZE_UNREAD:
      return 0;
    case SIZE_BUFFER: {
      const n = host.klogSize();
      return n > 0 ? n : 131072;
    }
    default:
      return fail(E.EINVAL);
  }
}

export const syslogDefs: Record<string, Def> = {
  syslog: partial(['int', 'ptr', 'int'], (t, a) => syslog(t, a.i32(0), a.ptr(1), a.i32(2)), 'the guest\'s kernel log is elfrun\'s and holds no messages (dmesg prints nothing; SYSLOG_ACTION_READ waits); the console level is accepted and changes nothing; the buffer size is the host\'s'),
};
