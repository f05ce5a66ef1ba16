/* mia/entry.h: the one symbol a plugin exports, and the descriptor it returns. */
#ifndef MIA_ENTRY_H
#define MIA_ENTRY_H

#include <stdint.h>
#include "host.h"
#include "status.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Kind of a component. */
typedef int32_t mia_component_kind_t;
#define MIA_COMPONENT_DATASET 1
#define MIA_COMPONENT_MODEL 2
#define MIA_COMPONENT_ATTACK 3

/** Type of an option value in a component's schema (and in the JSON the host passes). */
typedef int32_t mia_option_type_t;
#define MIA_OPTION_BOOL 1    /* JSON true/false */
#define MIA_OPTION_INT 2     /* JSON integer */
#define MIA_OPTION_FLOAT 3   /* JSON number */
#define MIA_OPTION_STRING 4  /* JSON string */
#define MIA_OPTION_PATH 5    /* JSON string: a path the host checks exists, made absolute */
#define MIA_OPTION_INT_LIST 6   /* JSON array of integers */
#define MIA_OPTION_FLOAT_LIST 7 /* JSON array of numbers */
#define MIA_OPTION_STRING_LIST 8 /* JSON array of strings */

/** One option a component takes. All strings are static: valid for the life of the process.
 *
 *  The host walks a component's `options` array by each element's `struct_size` (not by its own
 *  `sizeof`), so a plugin built against an older minor version lists shorter elements. */
typedef struct mia_option {
    uint32_t struct_size;
    /** Key in the config, snake_case with units in the name (`timeout_seconds`). */
    const char *name;
    mia_option_type_t type;
    /** Non-zero: the config must give it. */
    int32_t required;
    /** Default as JSON text (`"0.5"`, `"\"sgd\""`, `"[64, 32]"`), or NULL when there is none. */
    const char *default_json;
    /** For STRING options: the allowed values separated by '|' (`"sgd|adam"`), or NULL for any. */
    const char *choices;
    /** One sentence for `mia-audit plugins describe`. */
    const char *description;

    /* --- ABI 1.2: read only when `struct_size` covers them --- */

    /** `MIA_RANGE_*` bits saying which bounds below hold; 0 (or a 1.1 plugin): no range. */
    uint32_t range_flags;
    /** Bounds of an INT or FLOAT option, or of every element of an INT_LIST or FLOAT_LIST:
     *  `minimum <= value <= maximum`, or strictly (`<`) when the EXCLUSIVE bit is set. */
    double minimum;
    double maximum;
    /** Bounds of the length of a list option (any list type), inclusive. */
    int64_t min_length;
    int64_t max_length;
} mia_option_t;

/** `mia_option_t.range_flags` */
#define MIA_RANGE_HAS_MINIMUM (1u << 0)
#define MIA_RANGE_HAS_MAXIMUM (1u << 1)
#define MIA_RANGE_MINIMUM_EXCLUSIVE (1u << 2)
#define MIA_RANGE_MAXIMUM_EXCLUSIVE (1u << 3)
#define MIA_RANGE_HAS_MIN_LENGTH (1u << 4)
#define MIA_RANGE_HAS_MAX_LENGTH (1u << 5)

/** One option value as the host hands it to `create_component` / `open_component` (ABI 1.2): the
 *  same options as `options_json`, checked against the schema, defaults filled in, typed, so
 *  that a C plugin needs no JSON parser. Owned by the host; valid only during the call.
 *
 *  Read the field of `type`: BOOL `bool_value` (0 or 1); INT `int_value`; FLOAT `float_value`
 *  (always finite: the host refuses NaN and infinities); STRING and PATH `string_value` (a path
 *  is absolute); INT_LIST `int_list`, FLOAT_LIST `float_list`, STRING_LIST `string_list`, each
 *  with `list_length` elements. An option with no value and no default is absent from the
 *  array. */
typedef struct mia_option_value {
    uint32_t struct_size;
    const char *name;
    mia_option_type_t type;
    int32_t bool_value;
    int64_t int_value;
    double float_value;
    const char *string_value;
    const int64_t *int_list;
    const double *float_list;
    const char *const *string_list;
    int64_t list_length;
} mia_option_value_t;

/** The option named `name` in `values` (`count` of them, each `struct_size` bytes long as the
 *  host gave them), or NULL when absent. */
static inline const mia_option_value_t *mia_option_find(const mia_option_value_t *values,
                                                        int32_t count, const char *name) {
    const char *p = (const char *)values;
    int32_t i;
    for (i = 0; i < count && p != NULL; ++i) {
        const mia_option_value_t *v = (const mia_option_value_t *)(const void *)p;
        const char *a = v->name, *b = name;
        while (a != NULL && *a != '\0' && *a == *b) { ++a; ++b; }
        if (a != NULL && *a == *b) return v;
        p += v->struct_size;
    }
    return NULL;
}

/** One component of a plugin. All pointers are static: valid for the life of the process.
 *
 *  The host walks the descriptor's `components` array by each element's `struct_size`. */
typedef struct mia_component {
    uint32_t struct_size;
    mia_component_kind_t kind;
    /** Unique name within a run (`loss-threshold`); lowercase, digits and '-'. */
    const char *name;
    /** One line for `mia-audit plugins`. */
    const char *description;
    /** The options it takes, `option_count` of them. */
    const mia_option_t *options;
    int32_t option_count;
    /** A `mia_dataset_vtable_t`, `mia_model_vtable_t` or `mia_attack_vtable_t` per `kind`. */
    const void *vtable;

    /* --- ABI 1.2: read only when `struct_size` covers it --- */

    /** The plugin's own data for this component, never read by the host: it comes back to the
     *  plugin through `create_component` / `open_component` (as `args->component->context`), so
     *  one C function can serve many components. */
    void *context;
} mia_component_t;

/** What `create_component` (model, attack) and `open_component` (dataset) receive (ABI 1.2).
 *  Owned by the host; every pointer is valid only for the call, except `host` and `component`,
 *  which stay valid until the instance is destroyed (the component: for the life of the
 *  process). Read a field only when `struct_size` covers it. */
typedef struct mia_create_args {
    uint32_t struct_size;
    /** The component being created: the plugin's own descriptor entry (name, `context`). */
    const mia_component_t *component;
    /** The host's services for this instance. */
    const mia_host_t *host;
    /** The options as a JSON object, checked against the schema, defaults filled in. */
    const char *options_json;
    /** The same options, typed: `option_count` values, each `struct_size` bytes long (find one
     *  with `mia_option_find`). */
    const mia_option_value_t *options;
    int32_t option_count;
} mia_create_args_t;

/** What a plugin library is. Static: valid for the life of the process. */
typedef struct mia_plugin_descriptor {
    uint32_t struct_size;
    /** The ABI the plugin was built against: MIA_ABI_MAJOR and MIA_ABI_MINOR of its header. */
    uint32_t abi_major;
    uint32_t abi_minor;
    /** Plugin name and version (`mia-attacks-reference`, `1.2.0`). */
    const char *name;
    const char *version;
    /** The toolchain whose runtime the plugin needs: `"swift-6.3.1"` for a Swift plugin, which
     *  the host refuses unless it is its own; NULL or `"c"` for one that needs no runtime. */
    const char *toolchain;
    const mia_component_t *components;
    int32_t component_count;
} mia_plugin_descriptor_t;

/** Name of the entry symbol every plugin exports. */
#define MIA_PLUGIN_ENTRY_SYMBOL "mia_plugin_entry"

/** The entry function's type.
 *
 *  The host calls it once, right after `dlopen`, with its own ABI version. The plugin returns its
 *  descriptor, or NULL to decline (for instance when `host_abi_major` is not its own). The
 *  descriptor and everything it points to must stay valid for the life of the process: the host
 *  never unloads a plugin. [main thread; first call, before any other] */
typedef const mia_plugin_descriptor_t *(*mia_plugin_entry_fn)(uint32_t host_abi_major,
                                                              uint32_t host_abi_minor);

/** The entry function every plugin defines, exactly once, with this prototype (C or C++:
 *  the `extern "C"` around this header gives it C linkage, so a C++ author need not write it).
 *
 *  ```c
 *  MIA_EXPORT const mia_plugin_descriptor_t *mia_plugin_entry(uint32_t major, uint32_t minor) {
 *      return major == MIA_ABI_MAJOR ? &my_descriptor : NULL;
 *  }
 *  ```
 *
 *  A Swift plugin defines the same symbol with `@c(mia_plugin_entry)` (see PluginKit).
 *
 *  Which files a plugin-folder scan loads: in a folder named by the config (`plugins.paths`) or
 *  by `MIA_PLUGIN_PATH`, every file whose name ends in `.so` or `.dylib` or contains `.so.`, in
 *  name order; each that fails to load is reported with its path and reason. In the host's own
 *  folder only `libMIA*` libraries are loaded. A library is loaded once (by real path) and
 *  never unloaded; a component whose kind and name an earlier library already defined is
 *  ignored and reported. [main thread] */
MIA_EXPORT const mia_plugin_descriptor_t *mia_plugin_entry(uint32_t host_abi_major,
                                                          uint32_t host_abi_minor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MIA_ENTRY_H */
