/* mia/model.h: a model backend component. */
#ifndef MIA_MODEL_H
#define MIA_MODEL_H

#include <stdint.h>
#include "entry.h"
#include "host.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/** ABI 1.4: Dirac gradient canaries of a white-box DP audit (`audit.canaries.kind: dirac`;
 *  Steinke, Nasr and Jagielski 2023; Nasr et al. 2023). Owned by the host, valid only during
 *  `train`; the backend writes the `out_` fields.
 *
 *  Canary i is the vector with one parameter coordinate set to the clipping norm C and every
 *  other to 0, at a coordinate the backend draws from `seed` (`count` distinct coordinates of
 *  its parameters, in the order of the draw). The host decides which canaries are in: canary i
 *  is in when `included[i]` is 1. At every DP-SGD step each canary that is in joins the step
 *  with the records' sampling rate q (its own Poisson draw, seeded from `seed`), and its vector
 *  is added to the sum of clipped per-example gradients before the noise. The score of canary i
 *  is the sum over the training's steps of the privatised (noisy) gradient's coordinate i, the
 *  gradient the optimizer is given: what an observer of every released gradient sees.
 *
 *  A backend that inserted them writes `out_coordinates[i]` and `out_scores[i]` for every i and
 *  sets `out_inserted` to 1. A backend that cannot (no DP-SGD, no per-step access) leaves
 *  `out_inserted` 0 or fails `train` with MIA_ERR_INVALID_ARGUMENT; the host refuses to audit
 *  without them. */
typedef struct mia_gradient_canaries {
    uint32_t struct_size;
    /** m: canaries, >= 1. */
    int32_t count;
    /** Seeds the coordinates and the canaries' per-step sampling. */
    uint64_t seed;
    /** [count]: 1 when canary i is in the training, else 0. */
    const uint8_t *included;
    /** [count], written by the backend: the parameter coordinate of canary i (0-based, in the
     *  order the backend's saved weights list its parameters). */
    int64_t *out_coordinates;
    /** [count], written by the backend: the score of canary i. */
    double *out_scores;
    /** Set to 1 by the backend when it inserted the canaries and wrote the scores. */
    int32_t out_inserted;
} mia_gradient_canaries_t;

/** ABI 1.5: soft targets of knowledge distillation (Hinton, Vinyals and Dean 2015), for the
 *  students of the loss-trajectory attack (`audit.trajectory.source: distillation`). Owned by
 *  the host, valid only during `train`; the backend writes `out_used`.
 *
 *  `probabilities` is [n, class_count] f32: row i is the teacher's softmax at `temperature`
 *  for training record i (`mia_train_args_t.features` row i), each row non-negative and
 *  summing to 1. The backend trains on them instead of the labels, with the loss
 *  T^2 KL(p_i || softmax(z_i / T)) at T = `temperature` (> 0), whose gradient in the logits is
 *  T (softmax(z_i / T) - p_i); the labels are still given (for the history's accuracy). Every
 *  other training option (epochs, batches, optimizer, checkpoints) applies as usual.
 *
 *  A backend that trained on them sets `out_used` to 1. A backend that cannot fails `train`
 *  with MIA_ERR_INVALID_ARGUMENT or leaves `out_used` 0; the host then refuses to use the
 *  model, naming the backend. A backend of ABI 1.4 or older never sees this table. */
typedef struct mia_soft_targets {
    uint32_t struct_size;
    /** [n, class_count] f32 probabilities, one row per training record. */
    const mia_tensor_t *probabilities;
    /** T: the temperature of the teacher's softmax and of the student's loss, > 0. */
    double temperature;
    /** Set to 1 by the backend when it trained on `probabilities`. */
    int32_t out_used;
} mia_soft_targets_t;

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
    /** Called by the backend after each epoch; may be NULL. The record is the backend's, valid
     *  during the call. [training thread; inside train] */
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
     *  checkpoints ignores these fields; the host notices the missing calls and says so.
     *  [training thread; inside train, at a listed epoch's end] */
    const int32_t *checkpoint_epochs;
    int32_t checkpoint_count;
    mia_status_t (*on_checkpoint)(void *on_checkpoint_context, int32_t epoch, mia_error_t *error);
    void *on_checkpoint_context;

    /* --- ABI 1.4: read only when `struct_size` covers it --- */

    /** Dirac gradient canaries to insert into a DP-SGD training (see `mia_gradient_canaries_t`);
     *  NULL when the host asks for none. Read and written on the training thread during `train`. */
    mia_gradient_canaries_t *gradient_canaries;

    /* --- ABI 1.5: read only when `struct_size` covers it --- */

    /** Soft targets for a distillation student (see `mia_soft_targets_t`); NULL for an ordinary
     *  training on the labels. Read and written on the training thread during `train`. */
    mia_soft_targets_t *soft_targets;
} mia_train_args_t;

/** Functions of a model backend. Every pointer is non-null, except that a 1.2 plugin may leave
 *  `create` NULL when it sets `create_component` (it then cannot be created by a 1.0/1.1 host).
 *
 *  Lifecycle: (`create_component` | `create`) -> (`train` | `load`) -> `predict`* / `save`* ->
 *  `destroy`. When creation fails, the host never calls `destroy` (the plugin frees what it
 *  allocated before returning; the host ignores `*out_instance`). One instance is used by one
 *  thread at a time; distinct instances may be created, trained and used from distinct threads
 *  at once (the host trains several reference models side by side, and the query service
 *  trains shadow models on an attack's threads): a backend keeps no mutable global state.
 *  BLAS threading belongs to the host: a backend must not change it.
 *
 *  Logits are raw: the pre-softmax outputs of the model, one row of `class_count` per record,
 *  any finite values (the host applies softmax or log-softmax itself, and any output defence). */
typedef struct mia_model_vtable {
    /** Size of this struct in bytes, as the plugin was compiled. The host reads it before any
     *  field appended after 1.0. */
    uint32_t struct_size;

    /** Creates an untrained model for `spec` from `options_json` (a JSON object checked against
     *  the component's schema, defaults filled in). Both pointers are valid only for the call;
     *  `host` stays valid until `destroy`. Called only when `create_component` is absent.
     *  [any thread; first call of an instance] */
    mia_status_t (*create)(const mia_host_t *host, const char *options_json,
                           const mia_model_spec_t *spec, void **out_instance,
                           mia_error_t *error);

    /** Trains from scratch on `args`. Returns `MIA_ERR_CANCELLED` if the host asked to stop.
     *  Labels are in [0, `spec->class_count`). Called at most once per instance, and never
     *  after `load`. [any thread; after create] */
    mia_status_t (*train)(void *instance, const mia_train_args_t *args, mia_error_t *error);

    /** Raw logits for `features` ([n, feature shape...] f32) into `out_logits` ([n, classes] f32,
     *  allocated by the caller). Does not change the model; called any number of times.
     *  [any thread; after train or load, or inside on_checkpoint] */
    mia_status_t (*predict)(void *instance, const mia_tensor_t *features, mia_tensor_t *out_logits,
                            mia_error_t *error);

    /** Writes the trained model to `path` (a file the backend creates; the host renames it into
     *  place, so the backend need not write atomically). [any thread; after train or load, or
     *  inside on_checkpoint] */
    mia_status_t (*save)(void *instance, const char *path, mia_error_t *error);

    /** Replaces the model's weights with those saved at `path`. A corrupt file, a file of another
     *  format or of another architecture is an error, never a crash. [any thread; after create] */
    mia_status_t (*load)(void *instance, const char *path, mia_error_t *error);

    /** Frees the instance. Never fails. NULL is ignored. Called once per successful creation,
     *  never after a failed one. [any thread; last call of an instance] */
    void (*destroy)(void *instance);

    /* --- ABI 1.2: read only when `struct_size` covers it --- */

    /** Creates the model as `create` does, given `args` (the component descriptor with its
     *  `context`, the host, the options as JSON and typed) and `spec`. The host calls it instead
     *  of `create` when it is present (non-NULL). [any thread; first call of an instance] */
    mia_status_t (*create_component)(const mia_create_args_t *args, const mia_model_spec_t *spec,
                                     void **out_instance, mia_error_t *error);
} mia_model_vtable_t;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MIA_MODEL_H */
