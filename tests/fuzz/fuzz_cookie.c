/*
 * fuzz_cookie: cookie_get() on arbitrary Cookie headers. The input is
 * "name\nheader"; fixed names are looked up too. A found value is a copy of
 * part of the header, so it is never longer than it and holds no ';'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
lookup(struct arena *a, const char *hdr, const char *name)
{
	const char *v = cookie_get(a, hdr, name);

	if (v != NULL && (strlen(v) > strlen(hdr) || strchr(v, ';') != NULL))
		abort();
	if (name[0] == '\0' && v != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = {.limit = 1 << 20};
	char *buf, *nl, *name, *hdr;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	nl = strchr(buf, '\n');
	if (nl != NULL) {
		*nl = '\0';
		name = buf;
		hdr = nl + 1;
	} else {
		name = "sid";
		hdr = buf;
	}
	lookup(&a, hdr, name);
	lookup(&a, hdr, "sid");
	lookup(&a, hdr, "__Host-sid");
	lookup(&a, hdr, "");
	(void)cookie_get(&a, NULL, name);

	free(buf);
	arena_free(&a);
	return 0;
}
