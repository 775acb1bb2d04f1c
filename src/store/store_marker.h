/* store_marker.h: the generation marker beside the SQLite store.
 *
 * The file PATH.gen holds the number of the store's last commit this
 * process saw durable, with a checksum.  It is written after each commit
 * (never before), so it is never ahead of the database; a database behind
 * its marker has lost committed transactions (store_sqlite.c). */
#ifndef MIGNET_STORE_MARKER_H
#define MIGNET_STORE_MARKER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FNV-1a (64 bits) of 'n' bytes, continuing from 'h' (start with
 * STORE_FNV_INIT).  Any change of one byte changes the result. */
#define STORE_FNV_INIT 0xcbf29ce484222325ull
uint64_t store_fnv1a(uint64_t h, const void *p, size_t n);

enum store_marker_state {
    STORE_MARKER_ABSENT,
    STORE_MARKER_OK,
    STORE_MARKER_DAMAGED,
};

/* Writes the marker's file name for store 'db_path' into 'out'; false if
 * it does not fit. */
bool store_marker_path(const char *db_path, char *out, size_t n);
/* Reads the marker at 'path': '*gen' when STORE_MARKER_OK; 'why' says
 * what is wrong when STORE_MARKER_DAMAGED (or unreadable). */
enum store_marker_state store_marker_read(const char *path, uint64_t *gen,
                                          char *why, size_t n);
/* Replaces the marker at 'path' with 'gen' atomically and durably (a
 * temporary file, fsync, rename, fsync of the directory); returns an open
 * descriptor for store_marker_update(), or -errno. */
int store_marker_create(const char *path, uint64_t gen);
/* Overwrites the marker in place (one small pwrite, not fsynced: it
 * survives a crash of the process; after a crash of the system it may
 * lag behind the database, never run ahead).  0 or errno. */
int store_marker_update(int fd, uint64_t gen);

#endif /* MIGNET_STORE_MARKER_H */
