/*
 * stmt: the statement table, one `?` statement per enum db_stmt (db.h),
 * prepared once per connection by db.c, and each statement's name for logs.
 */
#ifndef CHATD_STMT_H
#define CHATD_STMT_H

#include "db.h"

/* The SQL of statement s. */
const char *db_stmt_sql(enum db_stmt s);
/* Makes the lower-case names once, before any thread starts (db_library_init). */
void db_stmt_names_init(void);

#endif
