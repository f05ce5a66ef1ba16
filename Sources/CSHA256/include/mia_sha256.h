// SHA-256's compression function (FIPS 180-4, section 6.2.2) over whole 64-byte blocks: the one
// loop that AuditCore's content keys, file digests and artifact checksums spend their time in.
// Two implementations give the same state for the same input: plain C, and the x86 SHA
// extensions (SHA-NI: Intel since Goldmont and Ice Lake, AMD since Zen), chosen at the first
// call from cpuid. Padding and the length block are the caller's (AuditCore/Storage/SHA256.swift).
#ifndef MIA_SHA256_H
#define MIA_SHA256_H
#include <stddef.h>
#include <stdint.h>

/// Compresses `blocks` 64-byte blocks at `data` into `state` (h0..h7, native integers), with the
/// implementation mia_sha256_uses_extensions() names. Any thread; `data` need not be aligned.
void mia_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

/// 1 when mia_sha256_blocks runs the SHA extensions (the CPU has SHA, SSSE3 and SSE4.1), else 0.
int mia_sha256_uses_extensions(void);

/// The plain C implementation, whatever the CPU (tests compare the two).
void mia_sha256_blocks_portable(uint32_t state[8], const uint8_t *data, size_t blocks);

/// The SHA-extension implementation. Only call it when mia_sha256_uses_extensions() is 1
/// (it returns without touching `state` when the extensions are absent or the build is not x86-64,
/// and then returns 0; 1 when it ran).
int mia_sha256_blocks_extensions(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
