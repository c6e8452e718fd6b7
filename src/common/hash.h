/* hash.h - fast non-cryptographic hashing for hash tables (group keys, MV
 * rows). Stable within a process run only; never persisted. */
#ifndef TW_COMMON_HASH_H
#define TW_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t tw_hash_mix(uint64_t x)
{
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    return x;
}

static inline uint64_t tw_hash_u64(uint64_t x, uint64_t seed)
{
    return tw_hash_mix(x ^ (seed * UINT64_C(0x9e3779b97f4a7c15)) ^ UINT64_C(0x5851f42d4c957f2d));
}

static inline uint64_t tw_hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ (len * UINT64_C(0x9e3779b97f4a7c15));
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = tw_hash_mix(h ^ w) + UINT64_C(0x2545f4914f6cdd1d);
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    return tw_hash_mix(h ^ tail ^ ((uint64_t)len << 56));
}

#endif
