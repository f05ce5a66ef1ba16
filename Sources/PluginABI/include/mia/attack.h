/* mia/attack.h: an attack strategy component. */
#ifndef MIA_ATTACK_H
#define MIA_ATTACK_H

#include <stdint.h>
#include "entry.h"
#include "host.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What an attack needs, as bit flags (see `requirements`). The host checks them before any
 *  training and refuses a config that cannot provide them, naming what is missing. */
typedef uint32_t mia_needs_t;
/** Logits of reference models on the audit records (with their membership masks). */
#define MIA_NEEDS_REFERENCE_MODELS (1u << 0)
/** Reference models trained WITH each audit record (online attacks): some reference models
 *  must have each record IN. Implies MIA_NEEDS_REFERENCE_MODELS. */
#define MIA_NEEDS_REFERENCE_IN (1u << 1)
/** A population set: non-member records with target (and reference) logits. */
#define MIA_NEEDS_POPULATION (1u << 2)
/** The target's membership of audit records, as attacker knowledge for training an attack
 *  model (the attack must mark the records it trained on in `out_eval_mask`). */
#define MIA_NEEDS_KNOWN_MEMBERSHIP (1u << 3)
/** The query service `MIA_HOST_QUERY_V1` (own queries to the target, shadow training). */
#define MIA_NEEDS_QUERY_ACCESS (1u << 4)
/** The features of audit and population records. */
#define MIA_NEEDS_FEATURES (1u << 5)
/** ABI 1.4: the logits of the target and of every reference model at the checkpoint epochs of
 *  their training (the config's `audit.checkpoints`), all epochs in one call
 *  (`mia_signals_t.checkpoint_*`). A 1.3 host does not know this bit and never sets the fields:
 *  the attack then sees `checkpoint_count` 0 (or a `struct_size` that ends before it). */
#define MIA_NEEDS_CHECKPOINTS (1u << 6)

/** The membership signals of one audit, computed once by the host and shared by every attack.
 *
 *  Owned by the host; every pointer is valid only during the `score` call. Arrays are dense
 *  row-major. Optional arrays are NULL when the attack did not ask for them or the run has none. */
typedef struct mia_signals {
    uint32_t struct_size;
    /** Audit records N, classes C, reference models R (0 when none), population records P. */
    int64_t record_count;
    int32_t class_count;
    int32_t reference_count;
    int64_t population_count;

    /** [N] i32: true labels of the audit records. */
    const int32_t *labels;
    /** [N, C] f32: target model's logits on the audit records. */
    const float *target_logits;
    /** [R, N, C] f32 and [R, N] u8 (1 = member): reference models on the audit records. */
    const float *reference_logits;
    const uint8_t *reference_membership;
    /** [P] i32, [P, C] f32 and [R, P, C] f32: the population set (all non-members of the target). */
    const int32_t *population_labels;
    const float *population_target_logits;
    const float *population_reference_logits;
    /** [N] u8: the target's membership (only with MIA_NEEDS_KNOWN_MEMBERSHIP). */
    const uint8_t *target_membership;
    /** [N, feature shape...] and [P, feature shape...] f32 (only with MIA_NEEDS_FEATURES). */
    const mia_tensor_t *features;
    const mia_tensor_t *population_features;
    /** Seed for every random choice of the attack. */
    uint64_t seed;
    /** ABI 1.1: `MIA_SIGNALS_*` bits saying how the arrays are held. Read it only when
     *  `struct_size` covers it (a 1.0 host's struct ends before it); absent means 0. */
    uint32_t flags;
    /** ABI 1.1: threads the attack may use (the run's `threads`); 0 or absent means 1. The
     *  attack may run that many threads of its own inside `score`; any of them may read the
     *  arrays until `score` returns. */
    int32_t thread_count;

    /* --- ABI 1.3: read only when `struct_size` covers it --- */

    /** ABI 1.3: query augmentations A (the config's `audit.augmentations`): every model was also
     *  asked about transformed copies of each record (horizontal flip, pixel shifts). 0, 1 or
     *  absent means none: the arrays below are then NULL and an attack reads the fields above
     *  only. Augmentation 0 is always the record itself, so the arrays above equal slice 0 of
     *  the arrays below, bit for bit: a plugin that ignores augmentations sees A = 1. */
    int32_t augmentation_count;
    /** ABI 1.3, with A > 1: augmentation-major logits, each augmentation's slice in the layout
     *  of the field of the same name above: [A, N, C] and [A, R, N, C] on the audit records,
     *  [A, P, C] and [A, R, P, C] on the population set (NULL when that field is NULL). The
     *  reference arrays are file mappings under `MIA_SIGNALS_REFERENCE_MAPPED` like the others. */
    const float *augmented_target_logits;
    const float *augmented_reference_logits;
    const float *augmented_population_target_logits;
    const float *augmented_population_reference_logits;

    /* --- ABI 1.4: read only when `struct_size` covers it --- */

    /** ABI 1.4, only for an attack that asked for `MIA_NEEDS_CHECKPOINTS`: E checkpoint epochs
     *  that every model of the audit reached, and their logits; 0 or absent means none (the
     *  arrays below are then NULL). The arrays above hold the final models, which are not among
     *  the E unless the last checkpoint is the last epoch. */
    int32_t checkpoint_count;
    /** [E] i32, ascending, each >= 1: the epochs. */
    const int32_t *checkpoint_epochs;
    /** [E, N, C] f32: the target's logits on the audit records at the end of each epoch. */
    const float *checkpoint_target_logits;
    /** [E, R, N, C] f32: every reference model's logits on the audit records at the end of each
     *  epoch (NULL without reference models); the memberships are `reference_membership`'s. In
     *  memory, never a mapping: `MIA_SIGNALS_REFERENCE_MAPPED` does not cover it. */
    const float *checkpoint_reference_logits;
} mia_signals_t;

/** `mia_signals_t.flags`: `reference_logits` and `population_reference_logits` are read-only
 *  file mappings (the host wrote them to the run folder, or maps the user's files). An attack
 *  may release the pages of a range it has finished reading, with
 *  `madvise(start, length, MADV_DONTNEED)` on pages that hold part of the array (the host maps
 *  whole pages around each array, in a mapping of its own), to bound its resident memory: a
 *  later read of those pages fetches them again from the file, with the same values. Without
 *  this flag the arrays are ordinary memory and must not be released. */
#define MIA_SIGNALS_REFERENCE_MAPPED (1u << 0)

/** `mia_signals_t.flags`: every logits array holds what an output defence released (top-k,
 *  rounding, temperature, label only), as log-probabilities `log max(p', 1e-12)` that need not
 *  sum to one: `exp` gives the released values themselves. An attack that wants the outputs as
 *  the target released them takes `exp`; a softmax would renormalise them (top-1's
 *  [p, 0, ...] would become [1, 0, ...] and lose p). Shadow models of the query service answer
 *  through the same defence. */
#define MIA_SIGNALS_RELEASED_PROBABILITIES (1u << 1)

/** Functions of an attack strategy. Every pointer is non-null, except that a 1.2 plugin may
 *  leave `create` NULL when it sets `create_component` (it then cannot be created by a 1.0/1.1
 *  host).
 *
 *  Lifecycle: (`create_component` | `create`) -> `requirements`* -> `score`* -> `destroy`, one
 *  thread at a time per instance. When creation fails, the host never calls `destroy` (the
 *  plugin frees what it allocated before returning; the host ignores `*out_instance`). The host
 *  may call `score` several times on one instance (with the same or other signals, e.g. once
 *  per output defence or checkpoint); each call depends only on its arguments and the options,
 *  never on an earlier call.
 *
 *  Scores are cached by the host: with the same plugin library (name, version and the SHA-256
 *  of the library file's bytes), component name, options after defaults, signals (the keys of
 *  the models behind them and the output defence) and seed (derived from the run seed and the
 *  attack's name, never its place in the list), the host reuses the scores of an earlier run
 *  instead of calling `create` and `score`. Any rebuild that changes the library's bytes
 *  recomputes them; `mia-audit run --fresh` recomputes everything. */
typedef struct mia_attack_vtable {
    /** Size of this struct in bytes, as the plugin was compiled. The host reads it before any
     *  field appended after 1.0. */
    uint32_t struct_size;

    /** Creates the attack from `options_json` (a JSON object checked against the schema,
     *  defaults filled in; valid only for the call). `host` stays valid until `destroy`.
     *  Called only when `create_component` is absent. [any thread; first call of an instance] */
    mia_status_t (*create)(const mia_host_t *host, const char *options_json, void **out_instance,
                           mia_error_t *error);

    /** What this attack, with its options, needs from the host (a `mia_needs_t`). The same
     *  value every call. [any thread; after create] */
    mia_needs_t (*requirements)(void *instance);

    /** Writes one score per audit record into `out_scores` ([N] f64, caller-owned): higher means
     *  "member". Non-finite scores are an error. `out_eval_mask` ([N] u8, caller-owned, preset to
     *  1) lets an attack that trained on part of the known membership set 0 for those records,
     *  which the host then leaves out of the evaluation. Labels are in [0, C) (the host checks
     *  every dataset's labels). The logits are raw logits, unless `signals->flags` holds
     *  `MIA_SIGNALS_RELEASED_PROBABILITIES` (then log-probabilities as released by an output
     *  defence). [any thread; after create, any number of times] */
    mia_status_t (*score)(void *instance, const mia_signals_t *signals, double *out_scores,
                          uint8_t *out_eval_mask, mia_error_t *error);

    /** Frees the instance. Never fails. NULL is ignored. Called once per successful creation,
     *  never after a failed one. [any thread; last call of an instance] */
    void (*destroy)(void *instance);

    /* --- ABI 1.2: read only when `struct_size` covers it --- */

    /** Creates the attack as `create` does, given `args` (the component descriptor with its
     *  `context`, the host, the options as JSON and typed). The host calls it instead of `create`
     *  when it is present (non-NULL). [any thread; first call of an instance] */
    mia_status_t (*create_component)(const mia_create_args_t *args, void **out_instance,
                                     mia_error_t *error);
} mia_attack_vtable_t;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MIA_ATTACK_H */
