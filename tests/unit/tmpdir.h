/* tmpdir.h - a scratch directory per unit test, for cmocka fixtures.
 *
 * TW_TEST_TMPDIR(prefix) defines `tmpdir` (the directory of the test that
 * runs now) and the setup/teardown pair that creates it under /tmp and
 * removes it with everything in it. */
#ifndef TW_TESTS_UNIT_TMPDIR_H
#define TW_TESTS_UNIT_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TW_TEST_TMPDIR(prefix)                                    \
    static char tmpdir[64];                                       \
    static int setup(void **state)                                \
    {                                                             \
        (void)state;                                              \
        snprintf(tmpdir, sizeof tmpdir, "/tmp/" prefix "XXXXXX"); \
        return mkdtemp(tmpdir) ? 0 : -1;                          \
    }                                                             \
    static int teardown(void **state)                             \
    {                                                             \
        (void)state;                                              \
        char cmd[128];                                            \
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);         \
        return system(cmd);                                       \
    }

#endif
