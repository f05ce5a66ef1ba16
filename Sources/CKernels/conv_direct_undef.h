// Ends one variant of conv_direct_body.h in conv_direct.c: undefines what the variant defined
// (its suffix, attribute, vector operations and tile sizes), so the next can define its own.
#undef SUFFIX
#undef ATTR
#undef VEC
#undef VL
#undef V_ZERO
#undef V_LOAD
#undef V_LOAD_N
#undef V_BCAST
#undef V_FMA
#undef V_STORE_N
#undef V_FMA_N
#undef V_SUM16
#undef FWDOC_OV
#undef DWOC_OV
#undef DWOC_TB
#undef FWDOC_P
#undef FWD_OB
#undef FWD_RB
#undef DX_CB
#undef DX_RB
#undef DXOC_CB
#undef DXOC_RB
#undef DW_OB
#undef DW_KB
