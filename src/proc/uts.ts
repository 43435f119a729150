// The guest's UTS names. sysname, release and version are the host's; the
// machine is the guest's arch; nodename and domainname start as the host's
// and belong to the guest from then on (as a UTS namespace of its own):
// sethostname and setdomainname change them for every guest process and
// leave the host's untouched.
import { hostScratch } from '../fs/transfer.js';
import { host } from '../host/libc.js';

/** __NEW_UTS_LEN + 1: each field of struct utsname */
export const UTS_LEN = 65;

export class Uts {
  nodename: Buffer;
  domainname: Buffer;
  private readonly hostNames: Buffer;

  constructor() {
    const s = hostScratch();
    if (host.uname(s.addr) < 0) throw new Error('uname failed');
    this.hostNames = Buffer.from(s.bytes.subarray(0, UTS_LEN * 6));
    this.nodename = field(this.hostNames, 1);
    this.domainname = field(this.hostNames, 5);
  }

  /** struct utsname for a guest of this machine name */
  bytes(machine: string): Buffer {
    const b = Buffer.from(this.hostNames);
    b.fill(0, UTS_LEN, UTS_LEN * 2);
    this.nodename.copy(b, UTS_LEN);
    b.fill(0, UTS_LEN * 4, UTS_LEN * 6);
    b.write(machine, UTS_LEN * 4, 'latin1');
    this.domainname.copy(b, UTS_LEN * 5);
    return b;
  }
}

/** field i of a struct utsname, up to its NUL */
function field(b: Buffer, i: number): Buffer {
  const f = b.subarray(UTS_LEN * i, UTS_LEN * (i + 1));
  const end = f.indexOf(0);
  return Buffer.from(end < 0 ? f : f.subarray(0, end));
}
