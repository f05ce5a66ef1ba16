// A plugin in C++17 written from the header alone: no `extern "C"` of its own (the header's guards
// give `mia_plugin_entry` C linkage), `MIA_EXPORT` on the entry (the library is built with
// -fvisibility=hidden), and ABI 1.2's `create_component`: one C++ function serves both attacks,
// told apart by their descriptor's `context`, with the options typed (no JSON parser).
//
// Attacks: `cxx-scaled-logit` (score = scale * target logit of the true label) and
// `cxx-negated-logit` (the same, negated). Option `scale` (float, default 1).
// Built and loaded by Tests/AuditCoreTests/FrozenABITests.swift.
#include "mia/mia.h"

#include <cstdio>
#include <new>

namespace {

struct Kind {
    double sign;
};

struct Attack {
    double factor;
};

const Kind scaled{1.0};
const Kind negated{-1.0};

mia_status_t create(const mia_create_args_t *args, void **out, mia_error_t *error) {
    const Kind *kind = static_cast<const Kind *>(args->component->context);
    double scale = 1.0;
    if (const mia_option_value_t *v = mia_option_find(args->options, args->option_count, "scale")) {
        if (v->type != MIA_OPTION_FLOAT) {
            std::snprintf(error->message, MIA_ERROR_MESSAGE_CAPACITY, "%s: `scale` is not a float", args->component->name);
            return MIA_ERR_INVALID_ARGUMENT;
        }
        scale = v->float_value;
    }
    Attack *a = new (std::nothrow) Attack{kind->sign * scale};
    if (a == nullptr) return MIA_ERR_OUT_OF_MEMORY;
    *out = a;
    return MIA_OK;
}

mia_status_t legacy_create(const mia_host_t *, const char *, void **, mia_error_t *error) {
    std::snprintf(error->message, MIA_ERROR_MESSAGE_CAPACITY, "needs a host of ABI 1.2");
    return MIA_ERR_UNSUPPORTED;
}

mia_needs_t requirements(void *) { return 0; }

mia_status_t score(void *instance, const mia_signals_t *s, double *scores, uint8_t *, mia_error_t *) {
    const Attack *a = static_cast<const Attack *>(instance);
    for (int64_t i = 0; i < s->record_count; ++i) {
        scores[i] = a->factor * static_cast<double>(s->target_logits[i * s->class_count + s->labels[i]]);
    }
    return MIA_OK;
}

void destroy(void *instance) { delete static_cast<Attack *>(instance); }

mia_attack_vtable_t make_vtable() {
    mia_attack_vtable_t t{};
    t.struct_size = sizeof(mia_attack_vtable_t);
    t.create = legacy_create;
    t.requirements = requirements;
    t.score = score;
    t.destroy = destroy;
    t.create_component = create;
    return t;
}

const mia_attack_vtable_t vtable = make_vtable();

mia_option_t scale_option() {
    mia_option_t o{};
    o.struct_size = sizeof(mia_option_t);
    o.name = "scale";
    o.type = MIA_OPTION_FLOAT;
    o.default_json = "1.0";
    o.description = "factor applied to every score";
    o.range_flags = MIA_RANGE_HAS_MINIMUM | MIA_RANGE_MINIMUM_EXCLUSIVE;
    o.minimum = 0.0;
    return o;
}

const mia_option_t options[] = {scale_option()};

mia_component_t component(const char *name, const Kind *kind) {
    mia_component_t c{};
    c.struct_size = sizeof(mia_component_t);
    c.kind = MIA_COMPONENT_ATTACK;
    c.name = name;
    c.description = "a C++ attack built from the header alone";
    c.options = options;
    c.option_count = 1;
    c.vtable = &vtable;
    c.context = const_cast<Kind *>(kind);
    return c;
}

const mia_component_t components[] = {component("cxx-scaled-logit", &scaled), component("cxx-negated-logit", &negated)};

const mia_plugin_descriptor_t descriptor = {
    sizeof(mia_plugin_descriptor_t), MIA_ABI_MAJOR, MIA_ABI_MINOR, "fixture-cxx", "1.0.0", "c", components, 2,
};

}  // namespace

MIA_EXPORT const mia_plugin_descriptor_t *mia_plugin_entry(uint32_t host_abi_major, uint32_t) {
    return host_abi_major == MIA_ABI_MAJOR ? &descriptor : nullptr;
}
