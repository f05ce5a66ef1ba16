/* mia/dataset.h: a dataset loader component. */
#ifndef MIA_DATASET_H
#define MIA_DATASET_H

#include <stdint.h>
#include "host.h"
#include "status.h"
#include "tensor.h"

/** What a dataset holds, filled by `info`. */
typedef struct mia_dataset_info {
    uint32_t struct_size;
    /** Number of records. */
    int64_t record_count;
    /** Number of classes; labels are in [0, class_count). */
    int32_t class_count;
    /** Shape of one record's features (for an image: channels, height, width). */
    int32_t feature_ndim;
    int64_t feature_shape[MIA_TENSOR_MAX_DIMS];
} mia_dataset_info_t;

/** Functions of a dataset loader. Every pointer is non-null.
 *
 *  Lifecycle: `open` -> `info` -> `read`* -> `close`. One instance is used by one thread at a
 *  time; distinct instances may be used from distinct threads at once. */
typedef struct mia_dataset_vtable {
    /** Size of this struct in bytes, as the plugin was compiled. */
    uint32_t struct_size;

    /** Opens the dataset described by `options_json` (a JSON object, already checked by the host
     *  against the component's schema, defaults filled in; valid only for the call). `host` stays
     *  valid until `close`. On success `*out_instance` is the plugin's state. [main thread] */
    mia_status_t (*open)(const mia_host_t *host, const char *options_json, void **out_instance,
                         mia_error_t *error);

    /** Describes the dataset into `out_info` (owned by the caller; `struct_size` set by it). */
    mia_status_t (*info)(void *instance, mia_dataset_info_t *out_info, mia_error_t *error);

    /** Copies records [start, start + count) into caller-owned buffers: `out_features`
     *  [count, feature shape...] f32 and `out_labels` [count] i32. */
    mia_status_t (*read)(void *instance, int64_t start, int64_t count, mia_tensor_t *out_features,
                         mia_tensor_t *out_labels, mia_error_t *error);

    /** Frees the instance. Never fails. NULL is ignored. */
    void (*close)(void *instance);
} mia_dataset_vtable_t;

#endif /* MIA_DATASET_H */
