// Layout checks of the contract. This file must define no symbol: it is compiled into every
// plugin that depends on PluginABI.
#include "mia/mia.h"
#include <stddef.h>

_Static_assert(sizeof(mia_tensor_t) == 4 + 4 + 8 * MIA_TENSOR_MAX_DIMS + sizeof(void *),
               "mia_tensor_t must have no padding");
_Static_assert(offsetof(mia_host_t, struct_size) == 0, "tables start with their size");
_Static_assert(offsetof(mia_dataset_vtable_t, struct_size) == 0, "tables start with their size");
_Static_assert(offsetof(mia_model_vtable_t, struct_size) == 0, "tables start with their size");
_Static_assert(offsetof(mia_attack_vtable_t, struct_size) == 0, "tables start with their size");
_Static_assert(offsetof(mia_plugin_descriptor_t, struct_size) == 0, "tables start with their size");
_Static_assert(sizeof(mia_error_t) == MIA_ERROR_MESSAGE_CAPACITY, "an error is its message");

/* ABI 1.2 fields are appended after every field of 1.1, so a 1.1 struct is a prefix of a 1.2 one. */
_Static_assert(offsetof(mia_option_t, range_flags) >= offsetof(mia_option_t, description) + sizeof(const char *),
               "1.2 option fields are appended");
_Static_assert(offsetof(mia_component_t, context) >= offsetof(mia_component_t, vtable) + sizeof(const void *),
               "1.2 component fields are appended");
_Static_assert(offsetof(mia_dataset_vtable_t, open_component) > offsetof(mia_dataset_vtable_t, close),
               "1.2 dataset fields are appended");
_Static_assert(offsetof(mia_model_vtable_t, create_component) > offsetof(mia_model_vtable_t, destroy),
               "1.2 model fields are appended");
_Static_assert(offsetof(mia_attack_vtable_t, create_component) > offsetof(mia_attack_vtable_t, destroy),
               "1.2 attack fields are appended");

/* ABI 1.3 signals fields are appended after every field of 1.2. */
_Static_assert(offsetof(mia_signals_t, augmentation_count) >= offsetof(mia_signals_t, thread_count) + sizeof(int32_t),
               "1.3 signals fields are appended");

/* ABI 1.4 train-args field is appended after every field of 1.3. */
_Static_assert(offsetof(mia_train_args_t, gradient_canaries) >= offsetof(mia_train_args_t, on_checkpoint_context) + sizeof(void *),
               "1.4 train-args fields are appended");
_Static_assert(offsetof(mia_gradient_canaries_t, struct_size) == 0, "tables start with their size");

/* ABI 1.4 signals fields are appended after every field of 1.3. */
_Static_assert(offsetof(mia_signals_t, checkpoint_count) >=
                   offsetof(mia_signals_t, augmented_population_reference_logits) + sizeof(const float *),
               "1.4 signals fields are appended");

/* ABI 1.5 train-args field is appended after every field of 1.4. */
_Static_assert(offsetof(mia_train_args_t, soft_targets) >= offsetof(mia_train_args_t, gradient_canaries) + sizeof(void *),
               "1.5 train-args fields are appended");
_Static_assert(offsetof(mia_soft_targets_t, struct_size) == 0, "tables start with their size");
