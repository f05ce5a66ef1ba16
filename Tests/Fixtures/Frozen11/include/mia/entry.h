/* mia/entry.h: the one symbol a plugin exports, and the descriptor it returns. */
#ifndef MIA_ENTRY_H
#define MIA_ENTRY_H

#include <stdint.h>
#include "version.h"

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

/** One option a component takes. All strings are static: valid for the life of the process. */
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
} mia_option_t;

/** One component of a plugin. All pointers are static: valid for the life of the process. */
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
} mia_component_t;

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
 *  never unloads a plugin. [main thread] */
typedef const mia_plugin_descriptor_t *(*mia_plugin_entry_fn)(uint32_t host_abi_major,
                                                              uint32_t host_abi_minor);

#endif /* MIA_ENTRY_H */
