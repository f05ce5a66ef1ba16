/* A well-formed C plugin whose attacks misbehave on purpose inside `score`, for the host's
 * plugin guard and isolation (Tests/EndToEndTests/PluginSafetyTests.swift):
 *  - `segfault-attack`: writes through a null pointer (SIGSEGV);
 *  - `abort-attack`: calls abort() (SIGABRT);
 *  - `exit-attack`: calls exit(0);
 *  - `hang-attack`: never returns, and ignores the host's cancellation;
 *  - `label-attack`: behaves: score = the record's label (a known answer for isolation). */
#include "mia/mia.h"

#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

static int instance_tag;

static mia_status_t create(const mia_host_t *host, const char *options_json, void **out_instance, mia_error_t *error) {
    (void)host;
    (void)options_json;
    (void)error;
    *out_instance = &instance_tag;
    return MIA_OK;
}

static mia_needs_t requirements(void *instance) {
    (void)instance;
    return 0;
}

static void destroy(void *instance) { (void)instance; }

static mia_status_t score_segfault(void *instance, const mia_signals_t *signals, double *out_scores,
                                   uint8_t *out_eval_mask, mia_error_t *error) {
    (void)instance, (void)signals, (void)out_scores, (void)out_eval_mask, (void)error;
    volatile int *nowhere = NULL;
    *nowhere = 1;
    return MIA_OK;
}

static mia_status_t score_abort(void *instance, const mia_signals_t *signals, double *out_scores,
                                uint8_t *out_eval_mask, mia_error_t *error) {
    (void)instance, (void)signals, (void)out_scores, (void)out_eval_mask, (void)error;
    abort();
}

static mia_status_t score_exit(void *instance, const mia_signals_t *signals, double *out_scores,
                               uint8_t *out_eval_mask, mia_error_t *error) {
    (void)instance, (void)signals, (void)out_scores, (void)out_eval_mask, (void)error;
    exit(0);
}

static mia_status_t score_hang(void *instance, const mia_signals_t *signals, double *out_scores,
                               uint8_t *out_eval_mask, mia_error_t *error) {
    (void)instance, (void)signals, (void)out_scores, (void)out_eval_mask, (void)error;
    for (;;) sleep(1);
}

static mia_status_t score_label(void *instance, const mia_signals_t *signals, double *out_scores,
                                uint8_t *out_eval_mask, mia_error_t *error) {
    (void)instance, (void)out_eval_mask, (void)error;
    for (int64_t i = 0; i < signals->record_count; i++) out_scores[i] = (double)signals->labels[i];
    return MIA_OK;
}

#define VTABLE(name, score) \
    static const mia_attack_vtable_t name = {sizeof(mia_attack_vtable_t), create, requirements, score, destroy};
VTABLE(segfault_vtable, score_segfault)
VTABLE(abort_vtable, score_abort)
VTABLE(exit_vtable, score_exit)
VTABLE(hang_vtable, score_hang)
VTABLE(label_vtable, score_label)

#define ATTACK(name, summary, vtable) \
    {sizeof(mia_component_t), MIA_COMPONENT_ATTACK, name, summary " (test fixture)", NULL, 0, &vtable}
static const mia_component_t components[] = {
    ATTACK("segfault-attack", "an attack whose score writes through a null pointer", segfault_vtable),
    ATTACK("abort-attack", "an attack whose score calls abort()", abort_vtable),
    ATTACK("exit-attack", "an attack whose score calls exit(0)", exit_vtable),
    ATTACK("hang-attack", "an attack whose score never returns", hang_vtable),
    ATTACK("label-attack", "an attack whose score is the record's label", label_vtable),
};

static const mia_plugin_descriptor_t descriptor = {
    sizeof(mia_plugin_descriptor_t),
    MIA_ABI_MAJOR,
    MIA_ABI_MINOR,
    "fixture-misbehaving",
    "0.0.1",
    "c",
    components,
    (int32_t)(sizeof(components) / sizeof(components[0])),
};

const mia_plugin_descriptor_t *mia_plugin_entry(uint32_t host_abi_major, uint32_t host_abi_minor) {
    (void)host_abi_minor;
    return host_abi_major == MIA_ABI_MAJOR ? &descriptor : NULL;
}
