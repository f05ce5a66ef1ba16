// The one door to libffi (Debian's libffi-dev, pkg-config `libffi`): the host builds a call to
// a C function whose signature it learns only from the config (`audit.attacks[].c_function`).
#include <ffi.h>

// The type descriptors are global variables: these give their addresses to Swift.
static inline ffi_type *mia_ffi_type_pointer(void) { return &ffi_type_pointer; }
static inline ffi_type *mia_ffi_type_sint32(void) { return &ffi_type_sint32; }
static inline ffi_type *mia_ffi_type_sint64(void) { return &ffi_type_sint64; }
static inline ffi_type *mia_ffi_type_float(void) { return &ffi_type_float; }
static inline ffi_type *mia_ffi_type_double(void) { return &ffi_type_double; }
static inline ffi_abi mia_ffi_default_abi(void) { return FFI_DEFAULT_ABI; }
