// The one door to OpenBLAS. Debian's libopenblas-dev (pkg-config `openblas`).
#include <cblas.h>
// Threading is the host's: it sets the count once per run (`run.threads`).
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
