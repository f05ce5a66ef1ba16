/* A model backend that declares plugin ABI 1.4 (or, built with -DFIXTURE_DECLARES_1_5, 1.5),
 * for Tests/AuditCoreTests/SoftTargetABITests.swift: it loads and trains as ever, and never
 * reads the 1.5 soft targets. Compiled by the test, not by the package.
 *
 * Model `model-14`: train remembers the mean of feature 0 over the training records and calls
 * on_epoch once; predict answers logits (feature 0 - mean, 0, ...); save writes the mean to a
 * one-line file, load reads it. */
#include "mia/mia.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef FIXTURE_DECLARES_1_5
#define FIXTURE_MINOR 5
#else
#define FIXTURE_MINOR 4
#endif

typedef struct {
    int64_t feature_size;
    int32_t class_count;
    float mean;
} instance_t;

static mia_status_t model_create(const mia_host_t *host, const char *options_json, const mia_model_spec_t *spec,
                                 void **out_instance, mia_error_t *error) {
    (void)host, (void)options_json, (void)error;
    instance_t *m = calloc(1, sizeof(instance_t));
    if (m == NULL) return MIA_ERR_OUT_OF_MEMORY;
    m->feature_size = 1;
    for (int32_t i = 0; i < spec->feature_ndim; i++) m->feature_size *= spec->feature_shape[i];
    m->class_count = spec->class_count;
    *out_instance = m;
    return MIA_OK;
}

static mia_status_t model_train(void *instance, const mia_train_args_t *args, mia_error_t *error) {
    (void)error;
    instance_t *m = instance;
    const float *x = args->features->data;
    int64_t n = args->features->shape[0];
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += x[i * m->feature_size];
    m->mean = n > 0 ? (float)(sum / (double)n) : 0;
    if (args->on_epoch != NULL) {
        mia_epoch_record_t r = {sizeof(mia_epoch_record_t), 1, 0, 1, 0, 0, 0, 0};
        args->on_epoch(args->on_epoch_context, &r);
    }
    return MIA_OK;
}

static mia_status_t model_predict(void *instance, const mia_tensor_t *features, mia_tensor_t *out_logits,
                                  mia_error_t *error) {
    (void)error;
    instance_t *m = instance;
    const float *x = features->data;
    float *y = out_logits->data;
    for (int64_t i = 0; i < features->shape[0]; i++)
        for (int32_t k = 0; k < m->class_count; k++)
            y[i * m->class_count + k] = k == 0 ? x[i * m->feature_size] - m->mean : 0;
    return MIA_OK;
}

static mia_status_t model_save(void *instance, const char *path, mia_error_t *error) {
    (void)error;
    instance_t *m = instance;
    FILE *f = fopen(path, "w");
    if (f == NULL) return MIA_ERR_IO;
    int ok = fprintf(f, "%.9g\n", (double)m->mean) > 0;
    return fclose(f) == 0 && ok ? MIA_OK : MIA_ERR_IO;
}

static mia_status_t model_load(void *instance, const char *path, mia_error_t *error) {
    (void)error;
    instance_t *m = instance;
    FILE *f = fopen(path, "r");
    if (f == NULL) return MIA_ERR_IO;
    int ok = fscanf(f, "%f", &m->mean) == 1;
    fclose(f);
    return ok ? MIA_OK : MIA_ERR_INVALID_ARGUMENT;
}

static void model_destroy(void *instance) { free(instance); }

static const mia_model_vtable_t model_vtable = {
    sizeof(mia_model_vtable_t), model_create, model_train, model_predict, model_save, model_load, model_destroy, NULL,
};

static const mia_option_t model_options[] = {
    {sizeof(mia_option_t), "epochs", MIA_OPTION_INT, 0, "1", NULL, "ignored", 0, 0, 0, 0, 0},
};

static const mia_component_t components[] = {
    {sizeof(mia_component_t), MIA_COMPONENT_MODEL, "model-14", "a model of plugin ABI 1.4", model_options, 1,
     &model_vtable, NULL},
};

static const mia_plugin_descriptor_t descriptor = {
    sizeof(mia_plugin_descriptor_t), MIA_ABI_MAJOR, FIXTURE_MINOR, "fixture-model-14", "1.4.0", "c", components, 1,
};

MIA_EXPORT const mia_plugin_descriptor_t *mia_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
    (void)host_abi_minor;
    return host_abi_major == MIA_ABI_MAJOR ? &descriptor : NULL;
}
