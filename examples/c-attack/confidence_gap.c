/* confidence-gap: a membership-inference attack plugin in plain C99, against mia/mia.h only.
 *
 * Score of a record with label y and target logits z (C classes), at temperature T > 0:
 *
 *     p = softmax(z / T),   score = p_y - max_{j != y} p_j,   in [-1, 1]
 *
 * Higher means "member": a model is more confident on the records it was trained on (the
 * intuition behind Yeom et al. 2018 and the confidence attacks of Salem et al. 2019). The
 * softmax subtracts the largest logit before exponentiating, so no exp() overflows; with a
 * single class the score is 1.
 *
 * Options: "temperature" (float > 0, default 1), read from the typed values the host hands to
 * `create_component` (ABI 1.2), so the plugin needs no JSON parser.
 * Build: see the Makefile next to this file. Only `mia_plugin_entry` is exported. */
#include "mia/mia.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct confidence_gap {
    double temperature;
} confidence_gap_t;

/* Writes a printf-style message into the host's error buffer (truncated to fit). */
static void set_error(mia_error_t *error, const char *format, ...) {
    va_list arguments;
    if (error == NULL) return;
    va_start(arguments, format);
    vsnprintf(error->message, MIA_ERROR_MESSAGE_CAPACITY, format, arguments);
    va_end(arguments);
}

/* [any thread] Reads the options from their typed values (ABI 1.2: no JSON parsing); the
 * instance is freed by `destroy`, which the host never calls when this fails. */
static mia_status_t gap_create(const mia_create_args_t *args, void **out_instance, mia_error_t *error) {
    double temperature = 1.0;
    const mia_option_value_t *option;
    confidence_gap_t *gap;
    if (args == NULL || out_instance == NULL) {
        set_error(error, "confidence-gap: null arguments or output");
        return MIA_ERR_INVALID_ARGUMENT;
    }
    option = mia_option_find(args->options, args->option_count, "temperature");
    if (option != NULL) {
        if (option->type != MIA_OPTION_FLOAT) {
            set_error(error, "confidence-gap: option `temperature` must be a number");
            return MIA_ERR_INVALID_ARGUMENT;
        }
        temperature = option->float_value;
    }
    /* The host already refuses a value outside the declared range (> 0) and non-finite numbers;
     * the plugin checks again, since any program may call it. */
    if (!(temperature > 0.0) || !isfinite(temperature)) {
        set_error(error, "confidence-gap: option `temperature` must be positive and finite, got %g",
                  temperature);
        return MIA_ERR_INVALID_ARGUMENT;
    }
    gap = (confidence_gap_t *)malloc(sizeof *gap);
    if (gap == NULL) {
        set_error(error, "confidence-gap: out of memory");
        return MIA_ERR_OUT_OF_MEMORY;
    }
    gap->temperature = temperature;
    *out_instance = gap;
    return MIA_OK;
}

/* Needs only the target's logits and the labels, which every run provides. */
static mia_needs_t gap_requirements(void *instance) {
    (void)instance;
    return 0;
}

/* Scores every audit record; see the formula at the top of this file. */
static mia_status_t gap_score(void *instance, const mia_signals_t *signals, double *out_scores,
                              uint8_t *out_eval_mask, mia_error_t *error) {
    const confidence_gap_t *gap = (const confidence_gap_t *)instance;
    int64_t n, i;
    int32_t c, j;
    (void)out_eval_mask;
    if (gap == NULL || signals == NULL || out_scores == NULL || signals->labels == NULL ||
        signals->target_logits == NULL || signals->class_count < 1) {
        set_error(error, "confidence-gap: the signals lack labels or target logits");
        return MIA_ERR_INVALID_ARGUMENT;
    }
    n = signals->record_count;
    c = signals->class_count;
    for (i = 0; i < n; ++i) {
        const float *z = signals->target_logits + i * c;
        int32_t y = signals->labels[i];
        double largest, sum = 0.0, true_p = 0.0, other_p = 0.0;
        if (y < 0 || y >= c) {
            set_error(error, "confidence-gap: record %lld has label %ld, outside [0, %ld)", (long long)i,
                      (long)y, (long)c);
            return MIA_ERR_INVALID_ARGUMENT;
        }
        largest = z[0];
        for (j = 1; j < c; ++j) if (z[j] > largest) largest = z[j];
        for (j = 0; j < c; ++j) sum += exp(((double)z[j] - largest) / gap->temperature);
        for (j = 0; j < c; ++j) {
            double p = exp(((double)z[j] - largest) / gap->temperature) / sum;
            if (j == y) true_p = p;
            else if (p > other_p) other_p = p;
        }
        out_scores[i] = true_p - other_p;
        if (!isfinite(out_scores[i])) {
            set_error(error, "confidence-gap: record %lld has non-finite logits (score %g)", (long long)i,
                      out_scores[i]);
            return MIA_ERR_INVALID_ARGUMENT;
        }
    }
    return MIA_OK;
}

static void gap_destroy(void *instance) { free(instance); }

/* `create` (ABI 1.0) is NULL: this plugin is created through `create_component` (ABI 1.2), so a
 * host older than 1.2 reports it as unusable instead of calling it. */
static const mia_attack_vtable_t gap_vtable = {
    sizeof(mia_attack_vtable_t), NULL, gap_requirements, gap_score, gap_destroy, gap_create,
};

static const mia_option_t gap_options[] = {
    {sizeof(mia_option_t), "temperature", MIA_OPTION_FLOAT, 0, "1.0", NULL,
     "softmax temperature applied to the logits before taking the gap",
     /* range (ABI 1.2): > 0, checked by the host before any work */
     MIA_RANGE_HAS_MINIMUM | MIA_RANGE_MINIMUM_EXCLUSIVE, 0.0, 0.0, 0, 0},
};

static const mia_component_t gap_components[] = {
    {sizeof(mia_component_t), MIA_COMPONENT_ATTACK, "confidence-gap",
     "softmax confidence of the true label minus the largest other one (higher means member)", gap_options,
     (int32_t)(sizeof(gap_options) / sizeof(gap_options[0])), &gap_vtable, NULL},
};

static const mia_plugin_descriptor_t gap_descriptor = {
    sizeof(mia_plugin_descriptor_t),
    MIA_ABI_MAJOR,
    MIA_ABI_MINOR,
    "example-c-attack",
    "1.0.0",
    "c",
    gap_components,
    (int32_t)(sizeof(gap_components) / sizeof(gap_components[0])),
};

/* The one exported symbol (its prototype is in mia/entry.h): the descriptor, or NULL for a host of
 * another ABI major. */
MIA_EXPORT const mia_plugin_descriptor_t *mia_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
    (void)host_abi_minor;
    return host_abi_major == MIA_ABI_MAJOR ? &gap_descriptor : NULL;
}
