/* A well-formed C plugin whose components fail on purpose, for the host's error paths:
 *  - attack `failing-attack`: `create` succeeds; `score` returns MIA_ERR_INVALID_ARGUMENT with
 *    the message "failing-attack: this fixture always fails";
 *  - dataset `failing-dataset`: `open` returns MIA_ERR_IO. */
#include "mia/mia.h"

#include <stddef.h>
#include <string.h>

static void set_message(mia_error_t *error, const char *message) {
    if (error == NULL) return;
    strncpy(error->message, message, MIA_ERROR_MESSAGE_CAPACITY - 1);
    error->message[MIA_ERROR_MESSAGE_CAPACITY - 1] = '\0';
}

/* ---- failing-attack ---- */

static int attack_instance_tag;

static mia_status_t attack_create(const mia_host_t *host, const char *options_json, void **out_instance,
                                  mia_error_t *error) {
    (void)host;
    (void)options_json;
    (void)error;
    *out_instance = &attack_instance_tag;
    return MIA_OK;
}

static mia_needs_t attack_requirements(void *instance) {
    (void)instance;
    return 0;
}

static mia_status_t attack_score(void *instance, const mia_signals_t *signals, double *out_scores,
                                 uint8_t *out_eval_mask, mia_error_t *error) {
    (void)instance;
    (void)signals;
    (void)out_scores;
    (void)out_eval_mask;
    set_message(error, "failing-attack: this fixture always fails");
    return MIA_ERR_INVALID_ARGUMENT;
}

static void attack_destroy(void *instance) { (void)instance; }

static const mia_attack_vtable_t attack_vtable = {
    sizeof(mia_attack_vtable_t), attack_create, attack_requirements, attack_score, attack_destroy,
};

/* ---- failing-dataset ---- */

static mia_status_t dataset_open(const mia_host_t *host, const char *options_json, void **out_instance,
                                 mia_error_t *error) {
    (void)host;
    (void)options_json;
    *out_instance = NULL;
    set_message(error, "failing-dataset: this fixture cannot open anything");
    return MIA_ERR_IO;
}

static mia_status_t dataset_info(void *instance, mia_dataset_info_t *out_info, mia_error_t *error) {
    (void)instance;
    (void)out_info;
    set_message(error, "failing-dataset: never opened");
    return MIA_ERR_INTERNAL;
}

static mia_status_t dataset_read(void *instance, int64_t start, int64_t count, mia_tensor_t *out_features,
                                 mia_tensor_t *out_labels, mia_error_t *error) {
    (void)instance;
    (void)start;
    (void)count;
    (void)out_features;
    (void)out_labels;
    set_message(error, "failing-dataset: never opened");
    return MIA_ERR_INTERNAL;
}

static void dataset_close(void *instance) { (void)instance; }

static const mia_dataset_vtable_t dataset_vtable = {
    sizeof(mia_dataset_vtable_t), dataset_open, dataset_info, dataset_read, dataset_close,
};

/* ---- descriptor ---- */

static const mia_component_t components[] = {
    {sizeof(mia_component_t), MIA_COMPONENT_ATTACK, "failing-attack",
     "an attack whose score always fails (test fixture)", NULL, 0, &attack_vtable},
    {sizeof(mia_component_t), MIA_COMPONENT_DATASET, "failing-dataset",
     "a dataset whose open always fails (test fixture)", NULL, 0, &dataset_vtable},
};

static const mia_plugin_descriptor_t descriptor = {
    sizeof(mia_plugin_descriptor_t),
    MIA_ABI_MAJOR,
    MIA_ABI_MINOR,
    "fixture-failing",
    "0.0.1",
    "c",
    components,
    (int32_t)(sizeof(components) / sizeof(components[0])),
};

const mia_plugin_descriptor_t *mia_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
    (void)host_abi_minor;
    return host_abi_major == MIA_ABI_MAJOR ? &descriptor : NULL;
}
