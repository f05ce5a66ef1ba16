/* mia/mia.h: the whole plugin contract of the membership-inference audit host.
 *
 * A plugin is a shared library exporting one C function, `mia_plugin_entry` (entry.h), which
 * returns a descriptor listing its components: dataset loaders (dataset.h), model backends
 * (model.h) and attacks (attack.h). Each component carries a table of C function pointers
 * that begins with its own size, so fields can be appended without breaking old plugins.
 * Data crosses as tensor views (tensor.h); errors as a status and a message (status.h); the
 * host's services (log, progress, cancellation, queries) as a table (host.h).
 *
 * Rules that hold everywhere:
 *  - Strings are NUL-terminated UTF-8.
 *  - A pointer received as an argument is valid only during the call unless its comment says
 *    otherwise; nothing received may be freed by the receiver.
 *  - A plugin never aborts, exits or throws across the boundary: it returns a status.
 *  - Thread tags: [main thread] the host's main thread; [any thread] any one thread at a time
 *    per instance; [thread-safe] any threads at once.
 */
#ifndef MIA_MIA_H
#define MIA_MIA_H

#include "version.h"
#include "status.h"
#include "tensor.h"
#include "host.h"
#include "entry.h"
#include "dataset.h"
#include "model.h"
#include "attack.h"

#endif /* MIA_MIA_H */
