// mount(2)'s and umount2(2)'s flags: linux/mount.h.
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_UNBINDABLE = 1 << 17;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
/** the old magic number in the top 16 bits (MS_MGC_MSK), ignored */
export const MS_MGC_MSK = 0xffff0000;
export const MS_MGC_VAL = 0xc0ed0000;
export const MNT_FORCE = 1;
export const MNT_DETACH = 2;
export const MNT_EXPIRE = 4;
export const UMOUNT_NOFOLLOW = 8;
/** the new mount API's flags and commands (linux/mount.h) */
export const FSOPEN_CLOEXEC = 1;
export const FSPICK_CLOEXEC = 1;
export const FSPICK_SYMLINK_NOFOLLOW = 2;
export const FSPICK_NO_AUTOMOUNT = 4;
export const FSPICK_EMPTY_PATH = 8;
export const FSCONFIG_SET_FLAG = 0;
export const FSCONFIG_SET_STRING = 1;
export const FSCONFIG_SET_BINARY = 2;
export const FSCONFIG_SET_PATH = 3;
export const FSCONFIG_SET_PATH_EMPTY = 4;
export const FSCONFIG_SET_FD = 5;
export const FSCONFIG_CMD_CREATE = 6;
export const FSCONFIG_CMD_RECONFIGURE = 7;
export const FSCONFIG_CMD_CREATE_EXCL = 8;
export const FSMOUNT_CLOEXEC = 1;
export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;
export const MOUNT_ATTR__ATIME = 0x70;
export const MOUNT_ATTR_RELATIME = 0;
export const MOUNT_ATTR_NOATIME = 0x10;
export const MOUNT_ATTR_STRICTATIME = 0x20;
export const MOUNT_ATTR_NODIRATIME = 0x80;
export const MOUNT_ATTR_IDMAP = 0x100000;
export const MOUNT_ATTR_NOSYMFOLLOW = 0x200000;
/** struct mount_attr's first size (attr_set, attr_clr, propagation, userns_fd) */
export const MOUNT_ATTR_SIZE_VER0 = 32;
export const MOVE_MOUNT_F_SYMLINKS = 0x1;
export const MOVE_MOUNT_F_AUTOMOUNTS = 0x2;
export const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
export const MOVE_MOUNT_T_SYMLINKS = 0x10;
export const MOVE_MOUNT_T_AUTOMOUNTS = 0x20;
export const MOVE_MOUNT_T_EMPTY_PATH = 0x40;
export const MOVE_MOUNT_SET_GROUP = 0x100;
export const MOVE_MOUNT_BENEATH = 0x200;
export const OPEN_TREE_CLONE = 1;
/** OPEN_TREE_CLOEXEC is O_CLOEXEC */
export const OPEN_TREE_CLOEXEC = 0o2000000;
/** statfs's f_flags for the per-mount flags past ST_NOEXEC (linux/statfs.h; abi/stat.ts has the first ones) */
export const ST_NOATIME = 0x400;
export const ST_NODIRATIME = 0x800;
export const ST_RELATIME = 0x1000;
export const ST_NOSYMFOLLOW = 0x2000;
