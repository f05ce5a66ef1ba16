/* A plugin built against an ABI major the host does not have (999): the host must refuse it,
 * naming the path and both versions, before touching its components. */
#include "mia/mia.h"

#include <stddef.h>

static const mia_plugin_descriptor_t descriptor = {
    sizeof(mia_plugin_descriptor_t),
    999, /* abi_major */
    0,   /* abi_minor */
    "fixture-wrong-abi",
    "0.0.1",
    "c",
    NULL,
    0,
};

/* Returns its descriptor whatever the host's version, so the host sees the mismatch itself. */
const mia_plugin_descriptor_t *mia_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
    (void)host_abi_major;
    (void)host_abi_minor;
    return &descriptor;
}
