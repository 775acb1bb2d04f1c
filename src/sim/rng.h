/* rng.h: the simulator's deterministic random numbers (splitmix64).
 *
 * Every random choice of a simulation comes from here, seeded from the
 * run's --seed, so the same arguments always give the same numbers.  Never
 * seed from the clock or any other outside source. */
#ifndef MIGNET_SIM_RNG_H
#define MIGNET_SIM_RNG_H 1

#include <stdint.h>

/* A strong 64-bit mixing function (splitmix64's finaliser). */
static inline uint64_t
sim_mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* A hash of (seed, a, b): independent streams for numbered things. */
static inline uint64_t
sim_hash3(uint64_t seed, uint64_t a, uint64_t b)
{
    return sim_mix64(seed ^ sim_mix64(a ^ sim_mix64(b + 0x51ed2701)));
}

struct sim_rng {
    uint64_t s;
};

static inline void
sim_rng_init(struct sim_rng *r, uint64_t seed)
{
    r->s = sim_mix64(seed);
}

static inline uint64_t
sim_rng_next(struct sim_rng *r)
{
    r->s += UINT64_C(0x9e3779b97f4a7c15);
    uint64_t z = r->s;
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0.  The modulo bias (< n / 2^64) is irrelevant
 * for simulation sizes. */
static inline uint64_t
sim_rng_below(struct sim_rng *r, uint64_t n)
{
    return sim_rng_next(r) % n;
}

/* Uniform in [0, 1). */
static inline double
sim_rng_unit(struct sim_rng *r)
{
    return (double)(sim_rng_next(r) >> 11) * 0x1p-53;
}

#endif /* MIGNET_SIM_RNG_H */
