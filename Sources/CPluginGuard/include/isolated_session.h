/* isolated_session.h: the control channel of a persistent child process that serves one dataset
 * or model instance (`plugins.isolation: process`, `mia-audit isolated-serve`). The host and the
 * child exchange fixed-size messages over a SOCK_SEQPACKET socket pair (the child's end is its
 * descriptor 3); the arrays of a call travel in a shared-memory block (isolated_call.h) whose
 * path the request names. A message is one packet: a dead peer is an end of file, never a
 * partial message or a SIGPIPE. */
#ifndef MIA_ISOLATED_SESSION_H
#define MIA_ISOLATED_SESSION_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The child's end of the socket pair, in the child. */
#define MIA_ISOLATED_CHANNEL_FD 3

/** Requests (host to child). */
enum {
    MIA_SESSION_OPEN = 1, /* create (model) or open (dataset) the instance; options in the block */
    MIA_SESSION_INFO,     /* dataset info: the reply carries it */
    MIA_SESSION_READ,     /* dataset read: values[0] start, values[1] count; arrays into the block */
    MIA_SESSION_TRAIN,    /* model train: arrays in the block, values[] their counts, the seed */
    MIA_SESSION_PREDICT,  /* model predict: values[0] rows, values[1] batch; logits into the block */
    MIA_SESSION_SAVE,     /* model save to `text` */
    MIA_SESSION_LOAD,     /* model load from `text` */
    MIA_SESSION_RESUME,   /* the host's answer to a checkpoint: `status`, `text` its message */
    MIA_SESSION_CLOSE,    /* destroy (close) the instance; the child then exits with 0 */
};

/** Replies and events (child to host). */
enum {
    MIA_SESSION_DONE = 100, /* the request finished: `status`, `text` the plugin's message */
    MIA_SESSION_EPOCH,      /* train's on_epoch: values[0] epoch, numbers[] the record */
    MIA_SESSION_CHECKPOINT, /* train's on_checkpoint: values[0] epoch; answered by RESUME */
    MIA_SESSION_PROGRESS,   /* the plugin's progress: values[0] done, values[1] total, `text` task */
};

typedef struct mia_isolated_message {
    int32_t kind;
    int32_t status;
    int32_t blas_threads; /* a request: the host's BLAS thread count now, which the child takes */
    int32_t reserved;
    int64_t values[12];
    double numbers[8];
    char block[64]; /* the path of the call's shared memory, "" for none */
    char text[1024];
} mia_isolated_message_t;

/** Starts `path` with `argv` and `envp`, its descriptor 3 being one end of a new socket pair,
 *  its standard streams the host's. Returns the child's pid and sets `*channel` to the host's end
 *  (close-on-exec), or returns -1 with errno. */
pid_t mia_isolated_spawn(const char *path, char *const argv[], char *const envp[], int *channel);

/** Sends one message; 0, or -1 when the peer is gone (no SIGPIPE). */
int mia_isolated_send(int channel, const mia_isolated_message_t *message);

/** Waits up to `timeout_ms` (negative: forever) for one message: 1 received, 0 timed out,
 *  -1 the peer is gone (or an error). */
int mia_isolated_receive(int channel, mia_isolated_message_t *message, int timeout_ms);

/** In the child, first: a write to a host that is gone is an error, not a SIGPIPE. */
void mia_isolated_child_setup(void);

#ifdef __cplusplus
}
#endif

#endif /* MIA_ISOLATED_SESSION_H */
