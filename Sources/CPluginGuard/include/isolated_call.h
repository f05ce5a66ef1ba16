/* isolated_call.h: the shared-memory block of one isolated plugin call
 * (`plugins.isolation: process`): the host fills the header and the signal arrays, a child
 * process (`mia-audit isolated-score`) maps the same block, calls the plugin's `score` with
 * pointers into it, and writes the scores, the evaluation mask and the outcome back into it.
 * Nothing but the block's path crosses a pipe. */
#ifndef MIA_ISOLATED_CALL_H
#define MIA_ISOLATED_CALL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MIA_ISOLATED_MAGIC 0x314c4c4143534f49ull /* "IOSCALL1" */

/** Where the worker got to: a crash or `exit` is blamed on the call of the stage it was in. */
enum {
    MIA_ISOLATED_STARTED = 1,  /* the worker mapped the block */
    MIA_ISOLATED_CREATE = 2,   /* in the plugin's entry or `create` */
    MIA_ISOLATED_SCORE = 3,    /* in `score` */
    MIA_ISOLATED_FINISHED = 4, /* `score` returned; `status` and `message` hold its outcome */
    MIA_ISOLATED_REFUSED = -1, /* the worker could not load the library or component (`message`) */
};

/** Offsets (from the block's start; 0 = absent) of the arrays, in `offsets[]`. */
enum {
    MIA_ISOLATED_LABELS, MIA_ISOLATED_TARGET_LOGITS, MIA_ISOLATED_REFERENCE_LOGITS,
    MIA_ISOLATED_REFERENCE_MEMBERSHIP, MIA_ISOLATED_POPULATION_LABELS,
    MIA_ISOLATED_POPULATION_TARGET_LOGITS, MIA_ISOLATED_POPULATION_REFERENCE_LOGITS,
    MIA_ISOLATED_TARGET_MEMBERSHIP, MIA_ISOLATED_FEATURES, MIA_ISOLATED_POPULATION_FEATURES,
    MIA_ISOLATED_SCORES, MIA_ISOLATED_MASK, MIA_ISOLATED_OPTIONS, MIA_ISOLATED_ARRAY_COUNT
};

typedef struct mia_isolated_call {
    uint64_t magic;
    uint64_t size;
    /* Written by the host. */
    int64_t record_count;
    int64_t population_count;
    int32_t class_count;
    int32_t reference_count;
    uint64_t seed;
    uint32_t flags;
    int32_t thread_count;
    int32_t feature_ndim; /* features are [N, shape...] and [P, shape...] f32 */
    int32_t failed_call; /* MIA_ISOLATED_CREATE or MIA_ISOLATED_SCORE when `status` is an error */
    int64_t feature_shape[8];
    uint64_t offsets[MIA_ISOLATED_ARRAY_COUNT];
    uint64_t options_length; /* bytes of the options JSON at offsets[MIA_ISOLATED_OPTIONS], NUL-terminated */
    /* Written by the worker. */
    volatile int32_t stage;
    int32_t status;
    char message[1024];
} mia_isolated_call_t;

/** A new anonymous shared-memory file of `size` bytes (memfd, close-on-exec), or -1 with errno. */
int mia_isolated_block(size_t size);

#ifdef __cplusplus
}
#endif

#endif /* MIA_ISOLATED_CALL_H */
