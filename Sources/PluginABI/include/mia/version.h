/* mia/version.h: the ABI version of the membership-inference audit plugin contract, and the
 * macros every other header uses. */
#ifndef MIA_VERSION_H
#define MIA_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/** Major version: a plugin and a host must agree on it exactly. Bumped for any change that
 *  breaks an existing plugin (a field moved, a signature changed, a rule tightened). */
#define MIA_ABI_MAJOR 1
/** Minor version: bumped when fields are appended to a size-prefixed table or new optional
 *  extensions appear. A host accepts plugins of any minor version of its major: it reads each
 *  table's `struct_size` and touches an appended field only when that size covers it.
 *
 *  History: 1.0 the contract; 1.1 auxiliary records, checkpoints, DP epsilon, signal flags and
 *  threads; 1.2 `MIA_EXPORT`, the entry prototype, `extern "C"` guards, `create_component` /
 *  `open_component` (component descriptor and typed option values), `mia_component_t.context`,
 *  option ranges (`mia_option_t.minimum` ... `max_length`); 1.3 query augmentations in
 *  `mia_signals_t` (`augmentation_count`, `augmented_*_logits`); 1.4 Dirac gradient canaries
 *  (`mia_train_args_t.gradient_canaries`, `mia_gradient_canaries_t`) and checkpoint logits in
 *  `mia_signals_t` (`checkpoint_*`) for attacks that ask with `MIA_NEEDS_CHECKPOINTS`; 1.5 soft
 *  targets for distillation students (`mia_train_args_t.soft_targets`, `mia_soft_targets_t`). */
#define MIA_ABI_MINOR 5

/** Marks the one symbol a plugin exports (`mia_plugin_entry`, declared in entry.h) as visible
 *  from the shared library even when it is built with `-fvisibility=hidden`. */
#if defined(_WIN32)
#define MIA_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define MIA_EXPORT __attribute__((visibility("default")))
#else
#define MIA_EXPORT
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MIA_VERSION_H */
