/* bytes.h: big-endian loads and stores for wire formats.
 *
 * Callers check lengths first; these helpers only move bytes and never
 * read or write more than the 2 or 4 bytes their name says. */
#ifndef MIGNET_BYTES_H
#define MIGNET_BYTES_H 1

#include <stdint.h>

static inline uint16_t
bytes_get16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static inline uint32_t
bytes_get32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}

static inline void
bytes_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static inline void
bytes_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

#endif /* MIGNET_BYTES_H */
