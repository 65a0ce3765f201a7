/*
 * handlers: every route handler, declared once for the route table.
 * Each returns ERR_OK after building its response, or an error that
 * dispatch() answers as JSON.
 */
#ifndef CHATD_HANDLERS_H
#define CHATD_HANDLERS_H

#include "err.h"
#include "fields.h"
#include "req.h"

enum err health_get(struct req *);		/* health.c */
enum err pages_home(struct req *);		/* pages.c */
enum err cspreport_post(struct req *);		/* cspreport.c */
extern const struct field cspreport_fields[];
extern const char *const cspreport_media_types[];

#endif
