/* A well-formed C plugin whose dataset and model misbehave on purpose, for dataset and model
 * isolation (`plugins.isolation: process`, Tests/EndToEndTests/ModelIsolationTests.swift):
 *  - model `crash-model`: option `fail` is one of `segfault` (a write through a null pointer),
 *    `abort`, `exit` (exit(0)), `hang` (never returns, ignores cancellation) or `none`; option
 *    `in` is `train` or `predict`, the call that misbehaves. Otherwise train does nothing,
 *    predict answers logits (feature 0, 0, ...), save writes a one-line file, load reads it;
 *  - dataset `crash-dataset`: 100 records of 2 features, 2 classes; `read` (or `open`, with
 *    option `in: open`) misbehaves as option `fail` says (`segfault` by default). */
#include "mia/mia.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum failure { FAIL_NONE, FAIL_SEGFAULT, FAIL_ABORT, FAIL_EXIT, FAIL_HANG };

typedef struct {
    enum failure fail;
    int in_predict;
    int64_t feature_size;
    int32_t class_count;
} instance_t;

static enum failure parse_failure(const char *options, enum failure fallback) {
    if (options == NULL) return fallback;
    if (strstr(options, "\"segfault\"")) return FAIL_SEGFAULT;
    if (strstr(options, "\"abort\"")) return FAIL_ABORT;
    if (strstr(options, "\"exit\"")) return FAIL_EXIT;
    if (strstr(options, "\"hang\"")) return FAIL_HANG;
    if (strstr(options, "\"none\"")) return FAIL_NONE;
    return fallback;
}

static void misbehave(enum failure fail) {
    switch (fail) {
    case FAIL_SEGFAULT: {
        volatile int *nowhere = NULL;
        *nowhere = 1;
        break;
    }
    case FAIL_ABORT: abort();
    case FAIL_EXIT: exit(0);
    case FAIL_HANG:
        for (;;) sleep(1);
    case FAIL_NONE: break;
    }
}

/* ---- model ---- */

static mia_status_t model_create(const mia_host_t *host, const char *options_json, const mia_model_spec_t *spec,
                                 void **out_instance, mia_error_t *error) {
    (void)host, (void)error;
    instance_t *m = calloc(1, sizeof(instance_t));
    if (m == NULL) return MIA_ERR_OUT_OF_MEMORY;
    m->fail = parse_failure(options_json, FAIL_NONE);
    m->in_predict = options_json != NULL && strstr(options_json, "\"predict\"") != NULL;
    m->feature_size = 1;
    for (int32_t i = 0; i < spec->feature_ndim; i++) m->feature_size *= spec->feature_shape[i];
    m->class_count = spec->class_count;
    *out_instance = m;
    return MIA_OK;
}

static mia_status_t model_train(void *instance, const mia_train_args_t *args, mia_error_t *error) {
    (void)args, (void)error;
    instance_t *m = instance;
    if (!m->in_predict) misbehave(m->fail);
    return MIA_OK;
}

static mia_status_t model_predict(void *instance, const mia_tensor_t *features, mia_tensor_t *out_logits, mia_error_t *error) {
    (void)error;
    instance_t *m = instance;
    if (m->in_predict) misbehave(m->fail);
    const float *x = features->data;
    float *y = out_logits->data;
    for (int64_t i = 0; i < features->shape[0]; i++)
        for (int32_t k = 0; k < m->class_count; k++) y[i * m->class_count + k] = k == 0 ? x[i * m->feature_size] : 0;
    return MIA_OK;
}

/* The model has no weights: its file holds one line, for the host's store. */
static mia_status_t model_save(void *instance, const char *path, mia_error_t *error) {
    (void)instance, (void)error;
    FILE *f = fopen(path, "w");
    if (f == NULL) return MIA_ERR_IO;
    int ok = fputs("crash-model\n", f) >= 0;
    return fclose(f) == 0 && ok ? MIA_OK : MIA_ERR_IO;
}

static mia_status_t model_load(void *instance, const char *path, mia_error_t *error) {
    (void)instance, (void)error;
    FILE *f = fopen(path, "r");
    if (f == NULL) return MIA_ERR_IO;
    fclose(f);
    return MIA_OK;
}

static void model_destroy(void *instance) { free(instance); }

static const mia_model_vtable_t model_vtable = {
    sizeof(mia_model_vtable_t), model_create, model_train, model_predict, model_save, model_load, model_destroy, NULL,
};

/* ---- dataset ---- */

static mia_status_t dataset_open(const mia_host_t *host, const char *options_json, void **out_instance, mia_error_t *error) {
    (void)host, (void)error;
    instance_t *d = calloc(1, sizeof(instance_t));
    if (d == NULL) return MIA_ERR_OUT_OF_MEMORY;
    d->fail = parse_failure(options_json, FAIL_SEGFAULT);
    if (options_json != NULL && strstr(options_json, "\"open\"") != NULL) misbehave(d->fail);
    *out_instance = d;
    return MIA_OK;
}

static mia_status_t dataset_info(void *instance, mia_dataset_info_t *out_info, mia_error_t *error) {
    (void)instance, (void)error;
    out_info->record_count = 100;
    out_info->class_count = 2;
    out_info->feature_ndim = 1;
    out_info->feature_shape[0] = 2;
    return MIA_OK;
}

static mia_status_t dataset_read(void *instance, int64_t start, int64_t count, mia_tensor_t *out_features,
                                 mia_tensor_t *out_labels, mia_error_t *error) {
    (void)error;
    instance_t *d = instance;
    misbehave(d->fail);
    float *x = out_features->data;
    int32_t *y = out_labels->data;
    for (int64_t i = 0; i < count; i++) {
        x[2 * i] = (float)(start + i);
        x[2 * i + 1] = 1;
        y[i] = (int32_t)((start + i) % 2);
    }
    return MIA_OK;
}

static void dataset_close(void *instance) { free(instance); }

static const mia_dataset_vtable_t dataset_vtable = {
    sizeof(mia_dataset_vtable_t), dataset_open, dataset_info, dataset_read, dataset_close, NULL,
};

static const mia_option_t model_options[] = {
    {sizeof(mia_option_t), "fail", MIA_OPTION_STRING, 0, "\"none\"", NULL, "segfault, abort, exit, hang or none"},
    {sizeof(mia_option_t), "in", MIA_OPTION_STRING, 0, "\"train\"", NULL, "train or predict"},
};
static const mia_option_t dataset_options[] = {
    {sizeof(mia_option_t), "fail", MIA_OPTION_STRING, 0, "\"segfault\"", NULL, "segfault, abort, exit, hang or none"},
    {sizeof(mia_option_t), "in", MIA_OPTION_STRING, 0, "\"read\"", NULL, "read or open"},
};

static const mia_component_t components[] = {
    {sizeof(mia_component_t), MIA_COMPONENT_MODEL, "crash-model", "a model that crashes, aborts, exits or hangs as told (test fixture)",
     model_options, 2, &model_vtable},
    {sizeof(mia_component_t), MIA_COMPONENT_DATASET, "crash-dataset", "a dataset whose read crashes as told (test fixture)", dataset_options, 2,
     &dataset_vtable},
};

static const mia_plugin_descriptor_t descriptor = {
    sizeof(mia_plugin_descriptor_t),
    MIA_ABI_MAJOR,
    MIA_ABI_MINOR,
    "fixture-misbehaving-model",
    "0.0.1",
    "c",
    components,
    (int32_t)(sizeof(components) / sizeof(components[0])),
};

const mia_plugin_descriptor_t *mia_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
    (void)host_abi_minor;
    return host_abi_major == MIA_ABI_MAJOR ? &descriptor : NULL;
}
