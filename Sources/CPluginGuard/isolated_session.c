/* isolated_session.c: see include/isolated_session.h. */
#define _GNU_SOURCE
#include "isolated_session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

pid_t mia_isolated_spawn(const char *path, char *const argv[], char *const envp[], int *channel) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return -1;
    /* The child's end above 3, so that dup2 onto 3 always makes a new (inherited) descriptor. */
    int child_end = fcntl(pair[1], F_DUPFD_CLOEXEC, 10);
    close(pair[1]);
    if (child_end < 0) {
        close(pair[0]);
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, child_end, MIA_ISOLATED_CHANNEL_FD);
    pid_t pid = -1;
    int failed = posix_spawn(&pid, path, &actions, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    close(child_end);
    if (failed != 0) {
        close(pair[0]);
        errno = failed;
        return -1;
    }
    *channel = pair[0];
    return pid;
}

int mia_isolated_send(int channel, const mia_isolated_message_t *message) {
    for (;;) {
        ssize_t n = send(channel, message, sizeof(*message), MSG_NOSIGNAL);
        if (n == (ssize_t)sizeof(*message)) return 0;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}

int mia_isolated_receive(int channel, mia_isolated_message_t *message, int timeout_ms) {
    struct pollfd p = {channel, POLLIN, 0};
    int ready;
    do ready = poll(&p, 1, timeout_ms);
    while (ready < 0 && errno == EINTR);
    if (ready < 0) return -1;
    if (ready == 0) return 0;
    ssize_t n;
    do n = recv(channel, message, sizeof(*message), 0);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(*message) ? 1 : -1;
}

/* Not PR_SET_PDEATHSIG: it fires when the host's spawning thread ends, not the host. A child
 * whose host is gone sees the socket's end of file at its next message and exits. */
void mia_isolated_child_setup(void) { signal(SIGPIPE, SIG_IGN); }
