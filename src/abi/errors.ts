// The error classes every layer throws. SysError is an expected outcome
// (the guest gets -errno); Panic and Unsupported say elfrun lacks something.
import { errnoName } from './errno.js';

/**
 * Thrown by handlers and subsystems; the dispatcher turns it into -errno for
 * the guest. It is an expected outcome, not a bug, and guests provoke it all
 * the time (a shell's wait4 ends in ECHILD after every child): no stack trace
 * is captured, which cost ~28 us per error under a guest's deep stack of
 * native frames. SysError.stacks = true (elfrun --debug) keeps them.
 */
export class SysError extends Error {
  static stacks = false;
  constructor(readonly errno: number) {
    const limit = Error.stackTraceLimit;
    if (!SysError.stacks) Error.stackTraceLimit = 0;
    super(errnoName(errno));
    Error.stackTraceLimit = limit;
  }
}

export function fail(errno: number): never {
  throw new SysError(errno);
}

/** A guest asked for something elfrun does not do: stop the run with one clear line. */
export class Panic extends Error {}

/** Something elfrun lacks within a syscall it does implement (a flag, an ioctl request). */
export class Unsupported extends Error {
  constructor(
    readonly what: string,
    /** the errno to return under --on-missing=enosys */
    readonly errno: number,
  ) {
    super(what);
  }
}
