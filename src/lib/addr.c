/* addr.c: parsing and formatting of MAC and IPv4 addresses and numbers.
 *
 * Everything here is pure and bounds-checked; a parser either consumes the
 * whole string or fails without touching its output. */
#include "lib/addr.h"

#include <stdio.h>
#include <string.h>

#include "lib/util.h"


bool
addr_parse_mac(const char *s, uint8_t mac[6])
{
    uint8_t tmp[6];

    if (!s || strlen(s) != ADDR_MAC_STRLEN - 1) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        const char *p = s + i * 3;
        int hi = hex_digit(p[0]);
        int lo = hex_digit(p[1]);
        if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':')) {
            return false;
        }
        tmp[i] = (uint8_t) (hi << 4 | lo);
    }
    memcpy(mac, tmp, sizeof tmp);
    return true;
}

void
addr_format_mac(const uint8_t mac[6], char out[ADDR_MAC_STRLEN])
{
    snprintf(out, ADDR_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
             mac[1], mac[2], mac[3], mac[4], mac[5]);
}

bool
addr_parse_ipv4(const char *s, uint32_t *ip)
{
    uint32_t value = 0;

    if (!s) {
        return false;
    }
    for (int i = 0; i < 4; i++) {
        unsigned octet = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (digits == 3 || (digits == 1 && octet == 0)) {
                return false; /* too long, or a leading zero */
            }
            octet = octet * 10 + (unsigned) (*s - '0');
            digits++;
            s++;
        }
        if (!digits || octet > 255) {
            return false;
        }
        value = value << 8 | octet;
        if (i < 3) {
            if (*s != '.') {
                return false;
            }
            s++;
        }
    }
    if (*s != '\0') {
        return false;
    }
    *ip = value;
    return true;
}

void
addr_format_ipv4(uint32_t ip, char out[ADDR_IPV4_STRLEN])
{
    snprintf(out, ADDR_IPV4_STRLEN, "%u.%u.%u.%u", (unsigned) (ip >> 24),
             (unsigned) (ip >> 16 & 0xff), (unsigned) (ip >> 8 & 0xff),
             (unsigned) (ip & 0xff));
}

bool
addr_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t value = 0;

    if (!s || !*s) {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        uint64_t digit = (uint64_t) (*s - '0');
        if (value > (UINT64_MAX - digit) / 10) {
            return false;
        }
        value = value * 10 + digit;
    }
    if (value < min || value > max) {
        return false;
    }
    *out = value;
    return true;
}
