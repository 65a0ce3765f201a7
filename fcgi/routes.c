/*
 * routes: the application's route table, one row per resource and method.
 * dispatch() in router.c applies every generic check before a handler runs.
 */
#include "handlers.h"
#include "router.h"

const struct route router_routes[] = {
	/* method  pattern            query body              max   media types */
	{"GET", "/", NULL, NULL, 0, NULL, pages_home},
	{"GET", "/api/health", NULL, NULL, 0, NULL, health_get},
	{"POST", "/api/csp-report", NULL, cspreport_fields, 8192, cspreport_media_types,
	    cspreport_post},
};

const size_t router_nroutes = sizeof(router_routes) / sizeof(router_routes[0]);
