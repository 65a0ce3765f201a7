/* A fresh arena as the cmocka state of each test, freed after it. */
#ifndef ARENA_FIXTURE_H
#define ARENA_FIXTURE_H

#include <stdlib.h>

#include "arena.h"

static int
setup(void **state)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -1;
	*state = a;
	return 0;
}

static int
teardown(void **state)
{
	arena_free(*state);
	free(*state);
	return 0;
}

#endif
