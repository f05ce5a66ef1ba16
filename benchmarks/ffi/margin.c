/* The same margin score twice: as a plain C function (called through libffi by a `c_function`
 * attack) and as a C attack plugin (one `score` call over every record). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "mia/mia.h"

static double margin_of(const float *logits, int32_t classes, int32_t label) {
    float best = -INFINITY;
    for (int32_t k = 0; k < classes; ++k)
        if (k != label && logits[k] > best) best = logits[k];
    return (double)logits[label] - (double)best;
}

double margin_score(const float *logits, int32_t classes, int32_t label) { return margin_of(logits, classes, label); }

static int tag;
static mia_status_t create(const mia_host_t *h, const char *o, void **out, mia_error_t *e) {
    (void)h; (void)o; (void)e;
    *out = &tag;
    return MIA_OK;
}
static mia_needs_t requirements(void *i) { (void)i; return 0; }
static mia_status_t score(void *i, const mia_signals_t *s, double *out, uint8_t *mask, mia_error_t *e) {
    (void)i; (void)mask; (void)e;
    for (int64_t r = 0; r < s->record_count; ++r)
        out[r] = margin_of(s->target_logits + r * s->class_count, s->class_count, s->labels[r]);
    return MIA_OK;
}
static void destroy(void *i) { (void)i; }
static const mia_attack_vtable_t table = {sizeof(mia_attack_vtable_t), create, requirements, score, destroy};
static const mia_component_t components[] = {
    {sizeof(mia_component_t), MIA_COMPONENT_ATTACK, "bench-margin", "margin score (benchmark)", NULL, 0, &table}};
static const mia_plugin_descriptor_t descriptor = {
    sizeof(mia_plugin_descriptor_t), MIA_ABI_MAJOR, MIA_ABI_MINOR, "bench-margin", "0.0.1", "c", components, 1};
const mia_plugin_descriptor_t *mia_plugin_entry(uint32_t major, uint32_t minor) {
    (void)minor;
    return major == MIA_ABI_MAJOR ? &descriptor : NULL;
}
