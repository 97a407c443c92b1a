/*
 * check_run.h: the main() of every Check test here: run the suite, report
 * as Check does, and exit 0 only if nothing failed.
 */
#ifndef MOJIM_CHECK_RUN_H
#define MOJIM_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
