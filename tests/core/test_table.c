/* tests/core/test_table.c: placeholder, being written. */
#include "suites.h"
Suite *table_suite(void) { return suite_create("table"); }
