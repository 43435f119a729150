/*
 * elfrun's front: the process the shell starts and waits for.
 *
 *   elfrun-front LAUNCHER [ARGS...]
 *
 * forks the emulation, `node --v8-pool-size=1 LAUNCHER ARGS...` (the
 * worker), and stands for the guest's first process towards the shell: it
 * ends as that process ends (its exit status, or death by its signal) even
 * while other guest processes it left behind (daemons) run on in the worker,
 * which is then no longer the shell's child. A Node process cannot hand
 * itself off to another parent later, so the split is there from the start.
 *
 * The worker is in a process group of its own, so that a signal sent to the
 * front's group (kill %1, ^C while the front's group has the terminal)
 * reaches the guest once, through the front, which forwards every catchable
 * signal it gets. While the front's group is the terminal's foreground
 * group, the front hands the terminal's foreground to the worker's group:
 * ^C, ^Z and ^\ then reach the worker directly and the worker may read the
 * terminal; a worker stopped by the terminal (SIGTTIN, SIGTTOU) or by the
 * guest's stop (^Z: the worker stops itself) stops the front with the same
 * signal, so the shell sees a stopped job, and SIGCONT (fg, bg) continues it.
 *
 * The worker tells the front over a socket (fd and ids in ELFRUN_FRONT):
 *   "x N\n"  the first guest process exited with status N: exit N
 *   "s N\n"  it was killed by signal N: die by signal N
 *   "t N\n"  the guest stops by signal N (the worker stops next)
 * Without such a message the front ends as the worker ends. The worker has
 * PR_SET_PDEATHSIG(SIGKILL): a front killed by SIGKILL leaves no worker
 * behind (a worker that has taken over the guest's daemons clears it).
 *
 * Built and installed by scripts/install-native.sh (dist/native/); without
 * it bin/elfrun runs Node directly, and the guest's daemons die with its
 * first process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static pid_t worker = -1;
static int tty = -1;
static pid_t group; /* the front's process group (the shell's job) */
static sigset_t forwarded;

/** The terminal's foreground goes back to the front's group if the worker's has it. */
static void take_terminal_back(void) {
  if (tty >= 0 && tcgetpgrp(tty) == worker) tcsetpgrp(tty, group); /* SIGTTOU is blocked: allowed */
}

/** The worker's group gets the terminal while the front's group has it (the shell made it the foreground job). */
static void give_terminal(void) {
  if (tty >= 0 && tcgetpgrp(tty) == group) tcsetpgrp(tty, worker);
}

static void finish_exit(int code) {
  take_terminal_back();
  _exit(code);
}

/** Die by sig, as the guest did; no core file of the front. */
static void finish_signal(int sig) {
  take_terminal_back();
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  raise(sig);
  sigprocmask(SIG_UNBLOCK, &one, NULL);
  _exit(128 + sig); /* a signal whose default is not to end a process */
}

/** Stop by sig (its default action), as the shell's job; returns once continued. */
static void stop_self(int sig) {
  if (sig == SIGSTOP) {
    raise(SIGSTOP);
    return;
  }
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  signal(sig, SIG_DFL);
  raise(sig);
  sigprocmask(SIG_UNBLOCK, &one, NULL); /* delivered: stops, unless the group is orphaned */
  sigprocmask(SIG_BLOCK, &one, NULL);
  /* a stop that happened was ended by a SIGCONT, pending now (blocked, for
   * the signalfd); without one, Linux discarded the signal (an orphaned
   * group), and the worker, stopped, must still stop the front */
  sigset_t pending;
  sigpending(&pending);
  if (!sigismember(&pending, SIGCONT)) raise(SIGSTOP);
}

/** Read the worker's messages; on end of file stop reading. */
static int on_message(int fd, int *stopsig) {
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n < 0 && errno == EINTR) return fd;
  if (n <= 0) {
    close(fd);
    return -1;
  }
  buf[n] = 0;
  for (char *line = buf; *line;) {
    char *end = strchr(line, '\n');
    if (end == NULL) break;
    *end = 0;
    int v = atoi(line + 2);
    if (line[0] == 'x') finish_exit(v & 0xff);
    if (line[0] == 's') finish_signal(v);
    if (line[0] == 't') *stopsig = v;
    line = end + 1;
  }
  return fd;
}

/** The worker changed state: end as it ended, stop as it stopped. */
static void on_child(int *stopsig) {
  int st;
  pid_t r;
  while ((r = waitpid(worker, &st, WNOHANG | WUNTRACED)) > 0) {
    if (WIFEXITED(st)) finish_exit(WEXITSTATUS(st));
    if (WIFSIGNALED(st)) finish_signal(WTERMSIG(st));
    if (WIFSTOPPED(st)) {
      /* the worker stops itself with SIGSTOP for the guest's stop signal */
      int sig = WSTOPSIG(st) == SIGSTOP && *stopsig > 0 ? *stopsig : WSTOPSIG(st);
      *stopsig = 0;
      stop_self(sig);
      /* continued: SIGCONT is read next and forwarded */
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: elfrun-front LAUNCHER [ARGS...]\n");
    return 124;
  }
  pid_t self = getpid();
  pid_t parent = getppid();
  group = getpgrp();

  /* every catchable signal is read from a signalfd; those the shell left
   * ignored are ignored again in the worker, whose program may catch them
   * later (nginx started by nohup catches SIGHUP) */
  sigset_t old;
  sigfillset(&forwarded);
  sigprocmask(SIG_BLOCK, &forwarded, &old);
  unsigned char ignored[NSIG] = {0};
  for (int s = 1; s < NSIG; s++) {
    struct sigaction sa;
    if (s == SIGKILL || s == SIGSTOP || sigaction(s, NULL, &sa) != 0) continue;
    if (sa.sa_handler == SIG_IGN) {
      ignored[s] = 1;
      signal(s, SIG_DFL);
    }
  }
  int sfd = signalfd(-1, &forwarded, SFD_CLOEXEC);
  int sv[2];
  if (sfd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    perror("elfrun");
    return 124;
  }
  tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

  worker = fork();
  if (worker < 0) {
    perror("elfrun: fork");
    return 124;
  }
  if (worker == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != self) _exit(124);
    /* the front has handed over the terminal when it writes */
    char go;
    while (read(sv[1], &go, 1) < 0 && errno == EINTR) {
    }
    for (int s = 1; s < NSIG; s++)
      if (ignored[s]) signal(s, SIG_IGN);
    sigprocmask(SIG_SETMASK, &old, NULL);
    int fd = fcntl(sv[1], F_DUPFD, 3); /* without FD_CLOEXEC: the worker's own */
    char env[80];
    snprintf(env, sizeof env, "%d:%d:%d:%d", fd, (int)self, (int)parent, (int)group);
    setenv("ELFRUN_FRONT", env, 1);
    char **args = calloc((size_t)argc + 2, sizeof *args);
    args[0] = "node";
    args[1] = "--v8-pool-size=1";
    for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
    execvp("node", args);
    fprintf(stderr, "elfrun: node: %s\n", strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  setpgid(worker, worker);
  give_terminal();
  close(sv[1]);
  while (write(sv[0], "g", 1) < 0 && errno == EINTR) {
  }

  int msg = sv[0];
  int stopsig = 0;
  for (;;) {
    struct pollfd p[2] = {{sfd, POLLIN, 0}, {msg, POLLIN, 0}};
    if (poll(p, msg >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      perror("elfrun: poll");
      kill(worker, SIGKILL);
      finish_exit(124);
    }
    if (msg >= 0 && p[1].revents) msg = on_message(msg, &stopsig);
    if (!(p[0].revents & POLLIN)) continue;
    struct signalfd_siginfo si;
    if (read(sfd, &si, sizeof si) != sizeof si) continue;
    int sig = (int)si.ssi_signo;
    if (sig == SIGCHLD) {
      on_child(&stopsig);
      continue;
    }
    /* fg: the job is the terminal's foreground again, and the worker's group gets it */
    if (sig == SIGCONT) give_terminal();
    kill(worker, sig);
  }
}
