/* A plugin of ABI 1.1, compiled only against the 1.1 headers beside it (include/mia). */
#include "mia/mia.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MIA_ABI_MINOR != 1
#error "this fixture must be built against the frozen 1.1 headers"
#endif

/* Calls of the attack's destroy, read by the test through dlsym. */
int frozen_destroy_count = 0;

static void fail(mia_error_t *error, const char *message) {
    if (error != NULL) snprintf(error->message, MIA_ERROR_MESSAGE_CAPACITY, "%s", message);
}

/* ---- dataset: 8 records [i, 10 i], label i % 2 ---- */

static mia_status_t ds_open(const mia_host_t *host, const char *options_json, void **out, mia_error_t *error) {
    (void)host;
    if (options_json == NULL || out == NULL) {
        fail(error, "frozen-dataset: null argument");
        return MIA_ERR_INVALID_ARGUMENT;
    }
    *out = malloc(1);
    return *out == NULL ? MIA_ERR_OUT_OF_MEMORY : MIA_OK;
}

static mia_status_t ds_info(void *instance, mia_dataset_info_t *info, mia_error_t *error) {
    (void)instance;
    (void)error;
    info->record_count = 8;
    info->class_count = 2;
    info->feature_ndim = 1;
    info->feature_shape[0] = 2;
    return MIA_OK;
}

static mia_status_t ds_read(void *instance, int64_t start, int64_t count, mia_tensor_t *features,
                            mia_tensor_t *labels, mia_error_t *error) {
    float *f = (float *)features->data;
    int32_t *l = (int32_t *)labels->data;
    int64_t i;
    (void)instance;
    if (start < 0 || count < 0 || start + count > 8) {
        fail(error, "frozen-dataset: records out of range");
        return MIA_ERR_INVALID_ARGUMENT;
    }
    for (i = 0; i < count; ++i) {
        f[2 * i] = (float)(start + i);
        f[2 * i + 1] = (float)(10 * (start + i));
        l[i] = (int32_t)((start + i) % 2);
    }
    return MIA_OK;
}

static void ds_close(void *instance) { free(instance); }

/* ---- attack: score = scale * target logit of the true label ---- */

typedef struct frozen_attack {
    double scale;
} frozen_attack_t;

static mia_status_t at_create(const mia_host_t *host, const char *options_json, void **out, mia_error_t *error) {
    frozen_attack_t *a;
    const char *p;
    (void)host;
    if (options_json == NULL || out == NULL) {
        fail(error, "frozen-attack: null argument");
        return MIA_ERR_INVALID_ARGUMENT;
    }
    if (strstr(options_json, "\"fail_create\":true") != NULL) {
        fail(error, "frozen-attack: asked to fail in create");
        return MIA_ERR_INVALID_ARGUMENT;
    }
    a = (frozen_attack_t *)malloc(sizeof *a);
    if (a == NULL) return MIA_ERR_OUT_OF_MEMORY;
    a->scale = 1.0;
    p = strstr(options_json, "\"scale\":");
    if (p != NULL) a->scale = strtod(p + strlen("\"scale\":"), NULL);
    *out = a;
    return MIA_OK;
}

static mia_needs_t at_requirements(void *instance) {
    (void)instance;
    return 0;
}

static mia_status_t at_score(void *instance, const mia_signals_t *s, double *scores, uint8_t *mask,
                             mia_error_t *error) {
    const frozen_attack_t *a = (const frozen_attack_t *)instance;
    int64_t i;
    (void)mask;
    if (a == NULL || s == NULL || s->labels == NULL || s->target_logits == NULL) {
        fail(error, "frozen-attack: missing signals");
        return MIA_ERR_INVALID_ARGUMENT;
    }
    for (i = 0; i < s->record_count; ++i) {
        scores[i] = a->scale * (double)s->target_logits[i * s->class_count + s->labels[i]];
    }
    return MIA_OK;
}

static void at_destroy(void *instance) {
    ++frozen_destroy_count;
    free(instance);
}

/* ---- descriptor, with the 1.1 struct sizes ---- */

static const mia_dataset_vtable_t ds_vtable = {sizeof(mia_dataset_vtable_t), ds_open, ds_info, ds_read, ds_close};
static const mia_attack_vtable_t at_vtable = {sizeof(mia_attack_vtable_t), at_create, at_requirements, at_score,
                                              at_destroy};

static const mia_option_t at_options[] = {
    {sizeof(mia_option_t), "scale", MIA_OPTION_FLOAT, 0, "1.0", NULL, "factor applied to every score"},
    {sizeof(mia_option_t), "fail_create", MIA_OPTION_BOOL, 0, "false", NULL, "make create fail"},
};

static const mia_component_t components[] = {
    {sizeof(mia_component_t), MIA_COMPONENT_ATTACK, "frozen-attack", "an ABI 1.1 attack", at_options, 2, &at_vtable},
    {sizeof(mia_component_t), MIA_COMPONENT_DATASET, "frozen-dataset", "an ABI 1.1 dataset", NULL, 0, &ds_vtable},
};

static const mia_plugin_descriptor_t descriptor = {
    sizeof(mia_plugin_descriptor_t), MIA_ABI_MAJOR, MIA_ABI_MINOR, "fixture-frozen-1.1", "1.1.0", "c",
    components, 2,
};

const mia_plugin_descriptor_t *mia_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
    (void)host_abi_minor;
    return host_abi_major == MIA_ABI_MAJOR ? &descriptor : NULL;
}
