/* json.h: the one set of jansson helpers every JSON writer uses (REST
 * answers, the fabric's views, the simulators' reports).
 *
 * One rule for unsigned 64-bit values everywhere: a JSON integer when it
 * fits jansson's signed 64 bits, else its exact decimal string -- never a
 * wrapped or saturated number.  Constructors that can fail return NULL;
 * js_set()/js_append() report it instead of crashing, so a caller builds a
 * whole object and checks once (js_finish). */
#ifndef MIGNET_JSON_H
#define MIGNET_JSON_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* 'v' as an integer, or its decimal string above INT64_MAX. */
json_t *js_u64(uint64_t v);
/* A time in ms, or null when it has not happened (0). */
json_t *js_time(uint64_t ms);
/* Milliseconds rounded to the microsecond; null when not finite. */
json_t *js_ms(double ms);
/* "0x" and 16 hex digits (datapath ids). */
json_t *js_hex64(uint64_t v);
/* Sets 'key' of 'obj' to 'v', taking 'v'.  Returns false (and frees
 * nothing more) when 'v' is NULL or jansson failed. */
bool js_set(json_t *obj, const char *key, json_t *v);
/* Appends 'v' to 'arr', taking it; false as js_set(). */
bool js_append(json_t *arr, json_t *v);
/* 'obj', or NULL (and 'obj' freed) when '!ok'. */
json_t *js_finish(json_t *obj, bool ok);

/* Writers for answers too big to build as a tree (the gateway map): the
 * same text jansson writes with JSON_COMPACT, appended to 'sb'.  Return 0
 * or ENOMEM (then 'sb' may hold part of the value). */
struct strbuf;
/* 's' as a JSON string: quoted, with '"', '\\' and control characters
 * escaped (bytes 0x80 and above are copied: the caller's text is UTF-8). */
int js_put_string(struct strbuf *sb, const char *s);
/* 'v' by the js_u64() rule: an integer, or its decimal string above
 * INT64_MAX. */
int js_put_u64(struct strbuf *sb, uint64_t v);

/* Readers of answers too big to parse in one go (the gateway map, which
 * the agent reads a slice per turn of its loop): the length of the JSON
 * value that starts at p[0] -- a string; an object or array, its
 * brackets counted and its strings skipped; or a scalar, up to the next
 * ',', ':', '}', ']' or white space -- without checking it (jansson then
 * parses exactly those bytes).  0 when the text ends first or p[0] cannot
 * start a value; '*depth' (if not NULL) is how deep its arrays and
 * objects nest (0 for a string or a scalar).  js_ws_len(): the white
 * space at p[0]. */
size_t js_value_len(const char *p, size_t len, size_t *depth);
size_t js_ws_len(const char *p, size_t len);

#endif /* MIGNET_JSON_H */
