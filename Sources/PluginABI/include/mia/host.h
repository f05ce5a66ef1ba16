/* mia/host.h: services the host gives to plugins. */
#ifndef MIA_HOST_H
#define MIA_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Severity of a log line. */
typedef int32_t mia_log_level_t;
#define MIA_LOG_DEBUG 0
#define MIA_LOG_INFO 1
#define MIA_LOG_WARNING 2
#define MIA_LOG_ERROR 3

/** The host's services, handed to every `create`/`open` call.
 *
 *  Owned by the host; the pointer stays valid until the instance it was given to is destroyed.
 *  Every function pointer is non-null. Fields are appended at the end only; read a field only
 *  if `struct_size` covers it. Every function may be called from any thread. [thread-safe] */
typedef struct mia_host {
    /** Size of this struct in bytes, as the host was compiled. */
    uint32_t struct_size;
    /** The host's ABI version, for information (plugins already agreed on the major). */
    uint32_t abi_major;
    uint32_t abi_minor;
    /** Opaque host state: pass it back as the first argument of every function below. */
    void *context;

    /** Writes one line to the host's log. `message` is NUL-terminated UTF-8, copied before the
     *  call returns. [thread-safe] */
    void (*log)(void *context, mia_log_level_t level, const char *message);

    /** Reports progress of a long step: `done` of `total` units of `task` (a short phrase such
     *  as "epoch 3/20"). `total` may be 0 when unknown. `task` is copied. [thread-safe] */
    void (*progress)(void *context, const char *task, int64_t done, int64_t total);

    /** True once the user asked the run to stop. Long loops should check it (each batch, say)
     *  and return `MIA_ERR_CANCELLED`. [thread-safe] */
    bool (*is_cancelled)(void *context);

    /** Looks up an optional host service by its versioned string ID (`"mia.host.query/1"`).
     *  Returns a pointer to the service's table, owned by the host and valid as long as this
     *  `mia_host_t`, or NULL when the host does not offer it. [thread-safe] */
    const void *(*get_extension)(void *context, const char *extension_id);
} mia_host_t;

/** ID of the query service (`mia_host_query_v1_t`): an attack asks the target for outputs
 *  on records of its choosing, and trains shadow models of the target's architecture. */
#define MIA_HOST_QUERY_V1 "mia.host.query/1"

/** A shadow model trained by the host for an attack. Opaque; owned by the host. */
typedef struct mia_shadow_model mia_shadow_model_t;

/** The query service, found with `get_extension(context, MIA_HOST_QUERY_V1)`.
 *
 *  Offered only during `mia_attack_vtable_t.score`, and only to attacks whose requirements
 *  include `MIA_NEEDS_QUERY_ACCESS`. Every call counts as queries in the run's report. */
typedef struct mia_host_query_v1 {
    uint32_t struct_size;
    void *context;
    /** Width of the logits every call returns, and floats per record of `features`. */
    int32_t class_count;
    int64_t feature_size;

    /** Target model's logits for `features` ([n, ...] f32, the dataset's record shape) into
     *  `out_logits` ([n, classes] f32, allocated by the caller). [thread-safe] */
    mia_status_t (*predict_target)(void *context, const mia_tensor_t *features,
                                   mia_tensor_t *out_logits, mia_error_t *error);

    /** Trains a new model with the target's backend, architecture and training options on
     *  `features` ([n, ...] f32) and `labels` ([n] i32), seeded with `seed`. On success
     *  `*out_model` is a handle the attack must give back to `release_shadow`. [thread-safe] */
    mia_status_t (*train_shadow)(void *context, const mia_tensor_t *features,
                                 const mia_tensor_t *labels, uint64_t seed,
                                 mia_shadow_model_t **out_model, mia_error_t *error);

    /** Logits of a shadow model, as `predict_target`. [thread-safe; one call per model at a time] */
    mia_status_t (*predict_shadow)(void *context, mia_shadow_model_t *model,
                                   const mia_tensor_t *features, mia_tensor_t *out_logits,
                                   mia_error_t *error);

    /** Frees a shadow model. NULL is ignored. [thread-safe] */
    void (*release_shadow)(void *context, mia_shadow_model_t *model);
} mia_host_query_v1_t;

/** ID of the results service (`mia_host_results_v1_t`): an attack reports a number it chose
 *  while scoring (a hyper-parameter it tuned, say), which the host records beside the attack's
 *  results (`metrics.json` `reported_values`, the report). */
#define MIA_HOST_RESULTS_V1 "mia.host.results/1"

/** The results service, found with `get_extension(context, MIA_HOST_RESULTS_V1)`.
 *
 *  Offered to every attack during `mia_attack_vtable_t.score`; may be absent (older hosts, or
 *  an attack run in a child process), so a plugin treats it as optional. */
typedef struct mia_host_results_v1 {
    uint32_t struct_size;
    void *context;
    /** Records `value` under `name` (NUL-terminated snake_case UTF-8, copied before the call
     *  returns); a later call with the same name replaces the value. [thread-safe] */
    void (*record)(void *context, const char *name, double value);
} mia_host_results_v1_t;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MIA_HOST_H */
