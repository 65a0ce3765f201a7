/*
 * cspreport: POST /api/csp-report takes the browser's Content-Security-Policy
 * violation reports (the `report-uri` format) and logs one line each, so a
 * blocked script or style in the field is seen. Only the directive and the
 * origin of the blocked resource are logged, never full URLs, which could
 * carry tokens. Answers 204.
 */
#include <string.h>

#include "handlers.h"
#include "log.h"

static const struct field report_fields[] = {
	{"document-uri", FIELD_STRING, 0, 0, 2048, NULL, NULL},
	{"referrer", FIELD_STRING, 0, 0, 2048, NULL, NULL},
	{"violated-directive", FIELD_STRING, 0, 0, 256, NULL, NULL},
	{"effective-directive", FIELD_STRING, 0, 0, 256, NULL, NULL},
	{"original-policy", FIELD_STRING, 0, 0, 2048, NULL, NULL},
	{"disposition", FIELD_STRING, 0, 0, 32, NULL, NULL},
	{"blocked-uri", FIELD_STRING, 0, 0, 2048, NULL, NULL},
	{"status-code", FIELD_INT, 0, 0, 999, NULL, NULL},
	{"line-number", FIELD_INT, 0, 0, 1 << 30, NULL, NULL},
	{"column-number", FIELD_INT, 0, 0, 1 << 30, NULL, NULL},
	{"source-file", FIELD_STRING, 0, 0, 2048, NULL, NULL},
	{"script-sample", FIELD_STRING, 0, 0, 256, NULL, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

const struct field cspreport_fields[] = {
	/* Browsers add members over time: check those we know, ignore others. */
	{"csp-report", FIELD_OBJECT, FIELD_REQUIRED | FIELD_OPEN, 0, 0, report_fields, NULL},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

const char *const cspreport_media_types[] = {
	"application/csp-report", "application/json", NULL,
};

/* Copies the scheme://host[:port] part of uri (or a keyword like "inline") into out. */
static void
origin_of(const char *uri, char *out, size_t outlen)
{
	const char *p = strstr(uri, "://");
	size_t n;

	if (p == NULL) {
		n = strcspn(uri, "/?#");
	} else {
		p += 3;
		n = (size_t)(p - uri) + strcspn(p, "/?#");
	}
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, uri, n);
	out[n] = '\0';
}

enum err
cspreport_post(struct req *r)
{
	json_t *rep = json_object_get(r->in, "csp-report");
	const char *dir = fields_str(rep, "effective-directive");
	const char *blocked = fields_str(rep, "blocked-uri");
	char origin[128];

	if (dir == NULL)
		dir = fields_str(rep, "violated-directive");
	origin_of(blocked ? blocked : "", origin, sizeof(origin));
	log_msg(LOG_WARN, "rid=%s csp violation directive=%.64s blocked=%s", r->id,
	    dir ? dir : "-", origin);
	r->status = 204;
	return ERR_OK;
}
