/* addr.h: strict text forms of the identifiers mignet puts on the wire:
 * MAC addresses, IPv4 addresses and numbers (node and VM ids are the
 * model's: mignet/model.h).
 *
 * Parsers accept exactly one canonical-ish form and never read past the
 * NUL; they never accept leading/trailing junk, so a value that parses is
 * safe to echo into logs, URLs and JSON. */
#ifndef MIGNET_ADDR_H
#define MIGNET_ADDR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "02:00:00:00:00:01": six two-digit hex groups separated by ':' (either
 * case).  Formatting writes lower case. */
#define ADDR_MAC_STRLEN 18 /* including the NUL */
bool addr_parse_mac(const char *, uint8_t mac[6]);
void addr_format_mac(const uint8_t mac[6], char out[ADDR_MAC_STRLEN]);

/* "198.18.1.1": four decimal octets 0-255, no leading zeros, no spaces.
 * 'ip' in host byte order. */
#define ADDR_IPV4_STRLEN 16 /* including the NUL */
bool addr_parse_ipv4(const char *, uint32_t *ip);
void addr_format_ipv4(uint32_t ip, char out[ADDR_IPV4_STRLEN]);

/* Parses a whole decimal string into [min, max] (no sign, no spaces, no
 * trailing junk). */
bool addr_parse_u64(const char *, uint64_t min, uint64_t max, uint64_t *);

#endif /* MIGNET_ADDR_H */
