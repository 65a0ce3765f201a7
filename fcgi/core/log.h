/*
 * log: one line per event to stderr, with a UTC timestamp and the process id.
 *
 * Lines never hold secrets or message content: callers log codes, ids and
 * sizes. A line is written with one write(2), so lines from concurrent
 * threads and workers do not interleave.
 */
#ifndef CHATD_LOG_H
#define CHATD_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_msg(enum log_level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
