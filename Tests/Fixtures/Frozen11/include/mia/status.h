/* mia/status.h: status codes and error messages that cross the boundary. */
#ifndef MIA_STATUS_H
#define MIA_STATUS_H

#include <stddef.h>
#include <stdint.h>

/** Result of every fallible call. Zero is success; anything else is an error, and the callee
 *  has written a message for a person into the `mia_error_t` it was given. */
typedef int32_t mia_status_t;

#define MIA_OK 0
/** An option, a tensor shape or another input is wrong. The message says which and why. */
#define MIA_ERR_INVALID_ARGUMENT 1
/** A file could not be read or written, or its contents are not what was expected. */
#define MIA_ERR_IO 2
/** The component cannot do what was asked (an unknown architecture, a missing capability). */
#define MIA_ERR_UNSUPPORTED 3
/** The host asked to stop (see `mia_host_t.is_cancelled`); partial work was discarded. */
#define MIA_ERR_CANCELLED 4
/** Memory could not be allocated. */
#define MIA_ERR_OUT_OF_MEMORY 5
/** Anything else: a bug, an inconsistent state. The message should say what happened. */
#define MIA_ERR_INTERNAL 6

/** Capacity of an error message, including the terminating NUL. */
#define MIA_ERROR_MESSAGE_CAPACITY 1024

/** An error message buffer owned by the caller.
 *
 *  The caller allocates it (on its stack, usually) and passes a pointer; the callee writes a
 *  NUL-terminated UTF-8 sentence into `message` when it returns a non-zero status, truncating
 *  to fit. On success the callee leaves it alone. The pointer is valid only for the call. */
typedef struct mia_error {
    char message[MIA_ERROR_MESSAGE_CAPACITY];
} mia_error_t;

#endif /* MIA_STATUS_H */
