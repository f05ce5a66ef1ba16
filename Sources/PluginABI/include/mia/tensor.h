/* mia/tensor.h: how arrays cross the boundary. */
#ifndef MIA_TENSOR_H
#define MIA_TENSOR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Element type of a tensor. */
typedef int32_t mia_dtype_t;
#define MIA_DTYPE_F32 1
#define MIA_DTYPE_F64 2
#define MIA_DTYPE_I32 3
#define MIA_DTYPE_I64 4
#define MIA_DTYPE_U8 5

/** Most dimensions a tensor may have. */
#define MIA_TENSOR_MAX_DIMS 8

/** A view of a dense, row-major (C order), contiguous array owned by someone else.
 *
 *  A view never owns `data`. Who owns it, and for how long the pointer stays valid, is stated
 *  by each function that passes or receives a view; unless it says otherwise, a view received
 *  as an argument is valid only until the call returns and must not be retained. A view passed
 *  as an output has its `dtype`, `ndim`, `shape` and `data` set by the caller: the callee fills
 *  the elements and changes nothing else. Dimensions past `ndim` are ignored. */
typedef struct mia_tensor {
    mia_dtype_t dtype;
    int32_t ndim;
    int64_t shape[MIA_TENSOR_MAX_DIMS];
    void *data;
} mia_tensor_t;

/** Number of elements of a view (the product of its first `ndim` dimensions). */
static inline int64_t mia_tensor_count(const mia_tensor_t *t) {
    int64_t n = 1;
    for (int32_t i = 0; i < t->ndim; ++i) n *= t->shape[i];
    return n;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MIA_TENSOR_H */
