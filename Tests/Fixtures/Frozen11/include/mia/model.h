/* mia/model.h: a model backend component. */
#ifndef MIA_MODEL_H
#define MIA_MODEL_H

#include <stdint.h>
#include "host.h"
#include "status.h"
#include "tensor.h"

/** What the model is for, from the dataset: given to `create`. */
typedef struct mia_model_spec {
    uint32_t struct_size;
    /** Shape of one record's features (for an image: channels, height, width). */
    int32_t feature_ndim;
    int64_t feature_shape[MIA_TENSOR_MAX_DIMS];
    /** Number of classes: the width of the logits. */
    int32_t class_count;
} mia_model_spec_t;

/** One epoch of training history, reported through `mia_train_args_t.on_epoch`.
 *  Held-out figures are NaN when no held-out set was given. */
typedef struct mia_epoch_record {
    uint32_t struct_size;
    int32_t epoch; /* 1-based */
    double train_loss;
    double train_accuracy;
    double heldout_loss;
    double heldout_accuracy;
    double seconds;
    /* --- ABI 1.1 --- */
    /** The privacy loss epsilon spent so far (at the run's delta) by a differentially private
     *  training, as its accountant states it; NaN for a training that is not DP. */
    double dp_epsilon;
} mia_epoch_record_t;

/** Everything one training needs. Owned by the caller, valid only during `train`. */
typedef struct mia_train_args {
    uint32_t struct_size;
    /** Training records: [n, feature shape...] f32 and [n] i32. */
    const mia_tensor_t *features;
    const mia_tensor_t *labels;
    /** Optional held-out records for the history (NULL when none). */
    const mia_tensor_t *heldout_features;
    const mia_tensor_t *heldout_labels;
    /** Seed of every random choice of this training (initialisation, shuffling, dropout). The
     *  same seed, options and data must give bit-identical weights on the same machine. */
    uint64_t seed;
    /** Called after each epoch, on the training thread; may be NULL. */
    void (*on_epoch)(void *on_epoch_context, const mia_epoch_record_t *record);
    void *on_epoch_context;

    /* --- ABI 1.1: read only when `struct_size` covers them --- */

    /** Optional public records the defender holds besides the private training set: [m, feature
     *  shape...] f32 and [m] i32, disjoint from the training set and from every audit and
     *  population record (NULL when the config gives none). What a defence needs beyond the
     *  private data: distillation's transfer set, adversarial regularization's reference set.
     *  A backend must not train on them as if they were members unless its options say so. */
    const mia_tensor_t *auxiliary_features;
    const mia_tensor_t *auxiliary_labels;

    /** Epochs (1-based, ascending) at whose end the host wants a checkpoint; `checkpoint_count`
     *  may be 0. At the end of each listed epoch that training reaches, the backend calls
     *  `on_checkpoint` on the training thread while the model holds that epoch's weights (the
     *  weights it would save if training stopped there). Inside the call the host may use
     *  `predict` and `save` on the instance; the backend resumes training when it returns. A
     *  status other than MIA_OK stops training with that status. A backend that cannot offer
     *  checkpoints ignores these fields; the host notices the missing calls and says so. */
    const int32_t *checkpoint_epochs;
    int32_t checkpoint_count;
    mia_status_t (*on_checkpoint)(void *on_checkpoint_context, int32_t epoch, mia_error_t *error);
    void *on_checkpoint_context;
} mia_train_args_t;

/** Functions of a model backend. Every pointer is non-null.
 *
 *  Lifecycle: `create` -> (`train` | `load`) -> `predict`* / `save`* -> `destroy`.
 *  One instance is used by one thread at a time; distinct instances may be trained and used
 *  from distinct threads at once (the host trains several reference models side by side).
 *  BLAS threading belongs to the host: a backend must not change it. */
typedef struct mia_model_vtable {
    uint32_t struct_size;

    /** Creates an untrained model for `spec` from `options_json` (a JSON object checked against
     *  the component's schema, defaults filled in). Both pointers are valid only for the call;
     *  `host` stays valid until `destroy`. [any thread] */
    mia_status_t (*create)(const mia_host_t *host, const char *options_json,
                           const mia_model_spec_t *spec, void **out_instance,
                           mia_error_t *error);

    /** Trains from scratch on `args`. Returns `MIA_ERR_CANCELLED` if the host asked to stop. */
    mia_status_t (*train)(void *instance, const mia_train_args_t *args, mia_error_t *error);

    /** Logits for `features` ([n, feature shape...] f32) into `out_logits` ([n, classes] f32,
     *  allocated by the caller). Does not change the model. */
    mia_status_t (*predict)(void *instance, const mia_tensor_t *features, mia_tensor_t *out_logits,
                            mia_error_t *error);

    /** Writes the trained model to `path` (a file the backend creates; the host renames it into
     *  place, so the backend need not write atomically). */
    mia_status_t (*save)(void *instance, const char *path, mia_error_t *error);

    /** Replaces the model's weights with those saved at `path`. A corrupt file, a file of another
     *  format or of another architecture is an error, never a crash. */
    mia_status_t (*load)(void *instance, const char *path, mia_error_t *error);

    /** Frees the instance. Never fails. NULL is ignored. */
    void (*destroy)(void *instance);
} mia_model_vtable_t;

#endif /* MIA_MODEL_H */
