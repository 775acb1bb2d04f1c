/* test_metrics_log.c: mignetd's Prometheus exposition and the structured
 * log lines.
 *
 * Metrics are rendered from a real core after real migrations, so every
 * figure checked is one the code computed; log lines are captured from a
 * temporary stream.  Nothing here opens a socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/metrics.h"
#include "lib/log.h"
#include "lib/strbuf.h"

/* The value of the sample line starting with 'prefix' ("name{...} "). */
static double
sample(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; (p = strstr(p, prefix)); p++) {
        if (p == text || p[-1] == '\n') {
            return strtod(p + n, NULL);
        }
    }
    fail_msg("no sample '%s'", prefix);
    return -1;
}

static void
test_metrics(void **state)
{
    (void) state;
    struct core_config cfg;
    core_config_default(&cfg);
    struct core *c = core_create(&cfg, NULL, &(struct core_sink){0});
    assert_non_null(c);
    uint32_t n1, n2, vm;
    struct mn_config mc = {.mac = {2, 0, 0, 0, 0, 1}, .ip = 0xc6120101u};
    assert_int_equal(core_node_add(c, "n1", "198.18.0.1", 500, 1000, &n1),
                     CORE_E_OK);
    assert_int_equal(core_node_add(c, "n2", "198.18.0.2", 500, 1000, &n2),
                     CORE_E_OK);
    assert_int_equal(core_vm_add(c, "vm1", &mc, n1, 1000, &vm), CORE_E_OK);
    struct core_migrate_result res;
    assert_int_equal(core_migrate(c, vm, CORE_NONE, n2, 2000, &res),
                     CORE_E_OK);
    struct core_stats st;
    core_get_stats(c, &st);

    struct metrics m;
    metrics_init(&m);
    metrics_count_api(&m, 202);
    metrics_count_api(&m, 202);
    metrics_count_api(&m, 422);
    metrics_count_api(&m, 99);  /* ignored */
    metrics_count_api(&m, 600); /* ignored */
    m.instructions_sent[INSTR_RELAY] = 3;
    metrics_hist_observe(&m.commit, 0.0003);
    metrics_hist_observe(&m.commit, 0.002);
    metrics_hist_observe(&m.commit, 5.0);

    struct strbuf sb;
    strbuf_init(&sb);
    assert_int_equal(metrics_render(&m, c, &sb), 0);
    const char *t = strbuf_str(&sb);

    assert_true(sample(t, "mignet_migrations{phase=\"preparing\"} ")
                == (double) st.migrations_by_phase[MIG_PREPARING]);
    assert_true(sample(t, "mignet_migrations{phase=\"preparing\"} ") == 1);
    assert_true(sample(t, "mignet_tasks_pending ")
                == (double) core_n_tasks(c));
    assert_true(sample(t, "mignet_map_version ")
                == (double) core_map_version(c));
    assert_true(sample(t, "mignet_api_requests_total{code=\"202\"} ") == 2);
    assert_true(sample(t, "mignet_api_requests_total{code=\"422\"} ") == 1);
    assert_null(strstr(t, "code=\"99\""));
    assert_null(strstr(t, "code=\"200\""));
    assert_true(sample(t, "mignet_instructions_sent_total{kind=\"relay\"} ")
                == 3);
    /* Buckets are cumulative; +Inf holds everything. */
    assert_true(sample(t, "mignet_store_commit_seconds_bucket{le=\"0.0001\"} ")
                == 0);
    assert_true(sample(t, "mignet_store_commit_seconds_bucket{le=\"0.0005\"} ")
                == 1);
    assert_true(sample(t, "mignet_store_commit_seconds_bucket{le=\"0.0025\"} ")
                == 2);
    assert_true(sample(t, "mignet_store_commit_seconds_bucket{le=\"1\"} ")
                == 2);
    assert_true(sample(t, "mignet_store_commit_seconds_bucket{le=\"+Inf\"} ")
                == 3);
    assert_true(sample(t, "mignet_store_commit_seconds_count ") == 3);
    double sum = sample(t, "mignet_store_commit_seconds_sum ");
    assert_true(sum > 5.0022 && sum < 5.0024);
    /* Every metric has its HELP and TYPE. */
    assert_non_null(strstr(t, "# TYPE mignet_deletion_delay_seconds "
                              "histogram\n"));
    assert_non_null(strstr(t, "# TYPE mignet_tasks_pending gauge\n"));
    strbuf_destroy(&sb);
    core_destroy(c);
}

static void
test_log(void **state)
{
    (void) state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    log_set_stream(f);
    log_set_level(LOG_LEVEL_WARN);
    assert_false(log_enabled(LOG_LEVEL_INFO));
    assert_true(log_enabled(LOG_LEVEL_ERROR));
    log_write(LOG_LEVEL_INFO, "rest", "event=dropped");
    log_write(LOG_LEVEL_WARN, "agent", "event=kept node=%s epoch=%d", "n1",
              7);
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_write(LOG_LEVEL_ERROR, "store", "msg=%s", big);
    fflush(f);
    assert_null(strstr(buf, "dropped"));
    const char *l1 = strstr(buf, "level=warn comp=agent event=kept node=n1 "
                                 "epoch=7\n");
    assert_non_null(l1);
    assert_true(l1 > buf && !strncmp(buf, "ts=", 3));
    /* A long line is cut but stays one line. */
    const char *l2 = strstr(buf, "level=error comp=store msg=xxx");
    assert_non_null(l2);
    const char *nl = strchr(l2, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0');
    assert_true(nl - buf < 1100 + (l1 - buf) + 100);

    enum log_level lv;
    assert_true(log_level_parse("debug", &lv));
    assert_int_equal(lv, LOG_LEVEL_DEBUG);
    assert_true(log_level_parse("warning", &lv));
    assert_int_equal(lv, LOG_LEVEL_WARN);
    assert_false(log_level_parse("loud", &lv));
    assert_false(log_level_parse(NULL, &lv));
    assert_string_equal(log_level_name(LOG_LEVEL_ERROR), "error");

    log_set_stream(NULL);
    log_set_level(LOG_LEVEL_INFO);
    fclose(f);
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
