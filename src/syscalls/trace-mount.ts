// How strace shows the new mount API's arguments and setns's: fsconfig's
// command by name, with its key and value shown as the command uses them
// (strings, a path and its dirfd, an fd, or addresses), the FSOPEN_*,
// FSMOUNT_*, FSPICK_*, MOVE_MOUNT_*, OPEN_TREE_* and MOUNT_ATTR_* flags,
// struct mount_attr, and setns's namespace type.
import type { Args } from '../cpu/args.js';
import type { KindDecoder } from './trace-decode.js';
import { type DecodeCtx, at, cstr, hexNum, str } from './trace-prim.js';
import { CLONEF, flagNames, type Bits } from './trace-names.js';
import { AT_FDCWD } from '../abi/fcntl.js';

const FSCONFIG = ['FSCONFIG_SET_FLAG', 'FSCONFIG_SET_STRING', 'FSCONFIG_SET_BINARY', 'FSCONFIG_SET_PATH', 'FSCONFIG_SET_PATH_EMPTY', 'FSCONFIG_SET_FD', 'FSCONFIG_CMD_CREATE', 'FSCONFIG_CMD_RECONFIGURE', 'FSCONFIG_CMD_CREATE_EXCL'];
const AT_BITS: Bits = [[0x100, 'AT_SYMLINK_NOFOLLOW'], [0x800, 'AT_NO_AUTOMOUNT'], [0x1000, 'AT_EMPTY_PATH'], [0x8000, 'AT_RECURSIVE']];
const OPEN_TREE: Bits = [[1, 'OPEN_TREE_CLONE'], [0o2000000, 'OPEN_TREE_CLOEXEC'], ...AT_BITS];
const FSPICK: Bits = [[1, 'FSPICK_CLOEXEC'], [2, 'FSPICK_SYMLINK_NOFOLLOW'], [4, 'FSPICK_NO_AUTOMOUNT'], [8, 'FSPICK_EMPTY_PATH']];
const MOVE_MOUNT: Bits = [
  [1, 'MOVE_MOUNT_F_SYMLINKS'], [2, 'MOVE_MOUNT_F_AUTOMOUNTS'], [4, 'MOVE_MOUNT_F_EMPTY_PATH'], [0x10, 'MOVE_MOUNT_T_SYMLINKS'], [0x20, 'MOVE_MOUNT_T_AUTOMOUNTS'],
  [0x40, 'MOVE_MOUNT_T_EMPTY_PATH'], [0x100, 'MOVE_MOUNT_SET_GROUP'], [0x200, 'MOVE_MOUNT_BENEATH'],
];
const MOUNT_ATTR: Bits = [
  [1, 'MOUNT_ATTR_RDONLY'], [2, 'MOUNT_ATTR_NOSUID'], [4, 'MOUNT_ATTR_NODEV'], [8, 'MOUNT_ATTR_NOEXEC'], [0x10, 'MOUNT_ATTR_NOATIME'], [0x20, 'MOUNT_ATTR_STRICTATIME'],
  [0x80, 'MOUNT_ATTR_NODIRATIME'], [0x100000, 'MOUNT_ATTR_IDMAP'], [0x200000, 'MOUNT_ATTR_NOSYMFOLLOW'],
];
const PROPAGATION: Record<number, string> = { [1 << 17]: 'MS_UNBINDABLE', [1 << 18]: 'MS_PRIVATE', [1 << 19]: 'MS_SLAVE', [1 << 20]: 'MS_SHARED' };
/** the namespace types setns takes (CLONE_NEW*) */
const NS_TYPES = CLONEF.filter(([, n]) => n.startsWith('CLONE_NEW'));

const ptrText = (a: Args, i: number): string => hexNum(a.big(i)).replace(/^0$/, 'NULL');
const bits = (table: Bits, unknown: string): KindDecoder => ({ in: (_c, a, i) => flagNames(a.u32(i), table, '0', unknown) });
const big = (v: bigint, table: Bits, unknown: string): string => (v > 0xffffffffn ? hexNum(v) : flagNames(Number(v), table, '0', unknown));

/** struct mount_attr, when the size (the next argument) holds its first version */
function mountAttrText(c: DecodeCtx, a: Args, i: number): string {
  const p = a.ptr(i);
  if (a.size(i + 1) < 32) return ptrText(a, i);
  return at(p, () => {
    const b = c.mem.read(p, 32);
    const prop = b.readBigUInt64LE(16);
    const propName = PROPAGATION[Number(prop)] ?? `${hexNum(prop)} /* MS_??? */`;
    return `{attr_set=${big(b.readBigUInt64LE(0), MOUNT_ATTR, 'MOUNT_ATTR_???')}, attr_clr=${big(b.readBigUInt64LE(8), MOUNT_ATTR, 'MOUNT_ATTR_???')}, propagation=${propName}, userns_fd=${b.readBigUInt64LE(24)}}`;
  });
}

export const MOUNT_KINDS = {
  fsopenflags: bits([[1, 'FSOPEN_CLOEXEC']], 'FSOPEN_???'),
  fsmountflags: bits([[1, 'FSMOUNT_CLOEXEC']], 'FSMOUNT_???'),
  fspickflags: bits(FSPICK, 'FSPICK_???'),
  movemountflags: bits(MOVE_MOUNT, 'MOVE_MOUNT_???'),
  opentreeflags: bits(OPEN_TREE, 'OPEN_TREE_???'),
  mountattr: bits(MOUNT_ATTR, 'MOUNT_ATTR_???'),
  setattrflags: bits(AT_BITS, 'AT_???'),
  mountattrstruct: { in: mountAttrText },
  fsconfigcmd: { in: (_c, a, i) => FSCONFIG[a.u32(i)] ?? `${hexNum(a.u32(i))} /* FSCONFIG_??? */` },
  // the key is a string for the FSCONFIG_SET_* commands, an address for the others
  fsconfigkey: { in: (c, a, i) => (a.u32(i - 1) <= 5 ? cstr(c, a.ptr(i)) : ptrText(a, i)) },
  fsconfigvalue: {
    in: (c, a, i) => {
      const cmd = a.u32(i - 2);
      const aux = a.i32(i + 1);
      if (cmd === 1) return cstr(c, a.ptr(i));
      if (cmd === 3 || cmd === 4) return cstr(c, a.ptr(i), 4096);
      if (cmd === 2 && aux >= 0 && aux <= 1 << 20) return str(c, a.ptr(i), aux, true);
      return ptrText(a, i);
    },
  },
  fsconfigaux: {
    in: (c, a, i) => {
      const cmd = a.u32(i - 3);
      const aux = a.i32(i);
      if ((cmd === 3 || cmd === 4) && aux === AT_FDCWD) return 'AT_FDCWD';
      return cmd === 3 || cmd === 4 || cmd === 5 ? c.fd(aux) : String(aux);
    },
  },
  nstype: bits(NS_TYPES, 'CLONE_NEW???'),
} satisfies Record<string, KindDecoder>;
