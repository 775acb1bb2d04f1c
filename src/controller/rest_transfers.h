/* rest_transfers.h: the REST side of transfer learning (transfers.h):
 * POST /v1/transfers and the JSON of a transfer and of a pair, which the
 * lists (rest_lists.c) render. */
#ifndef MIGNET_CONTROLLER_REST_TRANSFERS_H
#define MIGNET_CONTROLLER_REST_TRANSFERS_H 1

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct ctl;
struct rest_error;
struct transfer_entry;
struct transfer_pair;

/* POST /v1/transfers: validates 'body' (transfer_parse_post), checks that
 * both nodes are known (404 unknown_node), learns from it and answers
 * (201) with the transfer, the estimates before and after and the pair.
 * On false 'e' says why and nothing changed. */
bool rest_transfers_post(struct ctl *, const char *body, size_t len,
                         json_t **out, struct rest_error *e);

/* One transfer and one pair (new references). */
json_t *rest_transfer_json(const struct transfer_entry *);
json_t *rest_transfer_pair_json(struct ctl *, const struct transfer_pair *);

#endif /* controller/rest_transfers.h */
