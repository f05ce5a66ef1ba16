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
