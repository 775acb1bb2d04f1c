/* credentials.c: the agent's node token file and client TLS context
 * (credentials.h).  The token file should be readable by the agent
 * alone: a file others may read is used, with a warning. */
#include "agent/credentials.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/tls.h"

int
agent_token_read(const char *path, char out[CHAN_TOKEN_MAX + 1], char *err,
                 size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
        return e;
    }
    struct stat st;
    if (!fstat(fileno(f), &st) && (st.st_mode & 077)) {
        log_write(LOG_WARN, "agent", "event=token_file_readable file=%s "
                  "mode=%03o", path, (unsigned) (st.st_mode & 0777));
    }
    char line[CHAN_TOKEN_MAX + 3] = "";
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    size_t len = got ? strlen(line) : 0;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'
                   || line[len - 1] == ' ' || line[len - 1] == '\t')) {
        line[--len] = '\0';
    }
    size_t start = strspn(line, " \t");
    len -= start;
    if (!len || len > CHAN_TOKEN_MAX) {
        snprintf(err, errlen, "%s: %s", path,
                 len ? "the token is longer than 127 bytes"
                     : "no token in the file");
        return EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) line[start + i];
        if (c <= 0x20 || c >= 0x7f) {
            snprintf(err, errlen, "%s: the token has a space or a control "
                     "character", path);
            return EINVAL;
        }
    }
    memcpy(out, line + start, len);
    out[len] = '\0';
    return 0;
}

struct ssl_ctx_st *
agent_tls_client_ctx(const char *ca, const char *cert, const char *key,
                     char *err, size_t errlen)
{
    if (!cert != !key) {
        snprintf(err, errlen, "--tls-cert and --tls-key go together");
        return NULL;
    }
    return tls_client_ctx_cert(ca, cert, key, err, errlen);
}
