// The CPU's own answer to "what can you run": the cpuid and xgetbv instructions, which Swift
// cannot issue itself. Kernels decodes the registers (CPUFeatures.swift); nothing else here.
#ifndef MIA_CPUID_H
#define MIA_CPUID_H
#include <stdint.h>

/// Runs cpuid for `leaf`/`subleaf` into regs[0..3] = eax, ebx, ecx, edx. Returns 0 when the
/// leaf is beyond the CPU's highest (regs zeroed) or the machine is not x86-64. Any thread.
int mia_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

/// XCR0: the register states the operating system saves (bit 1-2 SSE/AVX, bits 5-7 AVX-512).
/// 0 when the CPU has no xgetbv (cpuid leaf 1 ecx bit 27, OSXSAVE) or is not x86-64. Any thread.
uint64_t mia_xcr0(void);

#endif
