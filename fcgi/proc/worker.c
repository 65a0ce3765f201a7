/*
 * worker: threads, accept loop, request lifecycle (see worker.h).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcgiapp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "notify.h"
#include "req.h"
#include "router.h"
#include "sql_accounts.h"
#include "worker.h"

#define ARENA_LIMIT (8u << 20)
#define ACCEPT_PAUSE_MIN_MS 10
#define ACCEPT_PAUSE_MAX_MS 1000

struct worker_thread {
	pthread_t tid;
	const struct config *cfg;
	const struct tmpl_set *tmpls;
	const struct blocklist *blocklist;
	int listen_fd;
};

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stopping;
static atomic_int active;
static atomic_int fd_short;	/* 1 while accept finds no free descriptor */
static atomic_int accept_errno;	/* the accept failure that stops this worker */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *
param(struct req *r, FCGX_Request *fr, const char *name)
{
	const char *v = FCGX_GetParam(name, fr->envp);

	/* FCGX_GetParam's memory dies at FCGX_Finish_r: copy. */
	return v != NULL ? arena_strdup(r->arena, v) : NULL;
}

static void
set_request_id(struct req *r, const char *given)
{
	unsigned char raw[16];

	if (given != NULL && hex_valid(given, 32)) {
		memcpy(r->id, given, 33);
		return;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		memset(raw, 0, sizeof(raw));
	hex_encode(raw, sizeof(raw), r->id, 0);
}

static int
read_body(struct req *r, size_t max, enum err *e)
{
	FCGX_Request *fr = r->io;
	char *b = arena_alloc(r->arena, max + 1);
	size_t n = 0;
	int k;

	if (b == NULL) {
		*e = ERR_INTERNAL;
		return -1;
	}
	while (n <= max && (k = FCGX_GetStr(b + n, (int)(max + 1 - n), fr->in)) > 0)
		n += (size_t)k;
	if (n > max) {
		*e = ERR_TOO_LARGE;
		return -1;
	}
	r->body = b;
	r->body_len = n;
	return 0;
}

/* Fills r from the FastCGI parameters nginx sends (our own CHAT_* names). */
static int
req_fill(struct req *r, FCGX_Request *fr)
{
	const char *cl;

	set_request_id(r, FCGX_GetParam("CHAT_REQUEST_ID", fr->envp));
	r->io = fr;
	r->method = param(r, fr, "CHAT_METHOD");
	r->uri = param(r, fr, "CHAT_URI");
	r->content_type = param(r, fr, "CHAT_CONTENT_TYPE");
	r->cookie = param(r, fr, "CHAT_COOKIE");
	r->origin = param(r, fr, "CHAT_ORIGIN");
	r->csrf = param(r, fr, "CHAT_CSRF_TOKEN");
	r->remote_addr = param(r, fr, "CHAT_REMOTE_ADDR");
	r->user_agent = param(r, fr, "CHAT_USER_AGENT");
	cl = FCGX_GetParam("CHAT_CONTENT_LENGTH", fr->envp);
	r->content_length = -1;
	if (cl != NULL && *cl != '\0') {
		char *end;
		long long n = strtoll(cl, &end, 10);

		if (*end != '\0' || n < 0)
			return -1;
		r->content_length = n;
	}
	if (r->content_type != NULL && r->content_type[0] == '\0')
		r->content_type = NULL;
	return r->method != NULL && r->uri != NULL ? 0 : -1;
}

static void
req_write(struct req *r, FCGX_Request *fr)
{
	int head = r->method != NULL && strcmp(r->method, "HEAD") == 0;
	int nobody = r->status == 204 || r->status == 304;

	if (buf_failed(&r->resp_body) || buf_failed(&r->resp_headers)) {
		buf_reset(&r->resp_headers);
		req_error(r, ERR_INTERNAL, NULL);
	}
	FCGX_FPrintF(fr->out, "Status: %d\r\n", r->status);
	if (!nobody) {
		FCGX_FPrintF(fr->out, "Content-Type: %s\r\n",
		    r->resp_type ? r->resp_type : "application/octet-stream");
		/* libfcgi's printf knows no %zu. */
		FCGX_FPrintF(fr->out, "Content-Length: %lu\r\n", (unsigned long)r->resp_body.len);
	}
	FCGX_FPrintF(fr->out, "Cache-Control: no-store\r\nX-Request-Id: %s\r\n", r->id);
	if (r->resp_headers.len > 0)
		FCGX_PutStr(r->resp_headers.p, (int)r->resp_headers.len, fr->out);
	FCGX_PutS("\r\n", fr->out);
	if (!head && !nobody && r->resp_body.len > 0)
		FCGX_PutStr(r->resp_body.p, (int)r->resp_body.len, fr->out);
}

static void
serve(struct req *r, FCGX_Request *fr)
{
	double t0 = now_ms();

	if (req_fill(r, fr) < 0)
		req_error(r, ERR_BAD_REQUEST, NULL);
	else
		router_dispatch(router_routes, router_nroutes, r);
	db_rollback(r->db);	/* a transaction a handler left open ends here */
	req_write(r, fr);
	/* Path only: query strings may one day carry tokens. */
	log_msg(LOG_INFO, "rid=%s %s %s %d %.1fms", r->id, r->method ? r->method : "-",
	    r->path ? r->path : "-", r->status, now_ms() - t0);
}

/*
 * Out of descriptors: the connection stays in the backlog, so wait and try
 * again, 10 ms at first, doubling up to a second. The first thread to see it
 * says so once. Returns the pause just made.
 */
static unsigned
accept_pause(unsigned pause_ms, int errnum)
{
	struct timespec ts;

	if (atomic_exchange(&fd_short, 1) == 0)
		log_msg(LOG_WARN, "worker: accept: %s; pausing, connections wait in the backlog",
		    strerror(errnum));
	pause_ms = pause_ms == 0 ? ACCEPT_PAUSE_MIN_MS : pause_ms * 2;
	if (pause_ms > ACCEPT_PAUSE_MAX_MS)
		pause_ms = ACCEPT_PAUSE_MAX_MS;
	ts.tv_sec = pause_ms / 1000;
	ts.tv_nsec = (long)(pause_ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return pause_ms;
}

/*
 * Errors Linux's accept() passes on from a connection that failed while it
 * waited (accept(2): treat them like EAGAIN); libfcgi retries only
 * ECONNABORTED and EPROTO itself.
 */
static int
accept_retry_now(int errnum)
{
	switch (errnum) {
	case EINTR:
	case EAGAIN:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return 1;
	default:
		return 0;
	}
}

/*
 * Any other accept failure (out of memory among them): wake the main thread (SIGUSR2, to the process,
 * which only its sigwait takes), which stops the worker with a non-zero
 * status after in-flight requests, so the supervisor starts a new one.
 */
static void
worker_fail(int rc)
{
	int expected = 0;

	(void)atomic_compare_exchange_strong(&accept_errno, &expected, rc < -1 ? -rc : EIO);
	if (kill(getpid(), SIGUSR2) != 0)
		_exit(1);
}

static void *
thread_main(void *arg)
{
	struct worker_thread *t = arg;
	struct arena arena = {.limit = ARENA_LIMIT};
	struct notify notify;
	struct db db;
	struct req r;
	FCGX_Request fr;
	unsigned pause_ms = 0;

	db_init(&db, t->cfg);
	if (notify_init(&notify, t->cfg) < 0)
		log_msg(LOG_ERROR, "notify: cannot make a curl handle; events are off in this thread");
	if (FCGX_InitRequest(&fr, t->listen_fd, 0) != 0) {
		log_msg(LOG_ERROR, "worker: FCGX_InitRequest failed");
		return NULL;
	}
	(void)sql_ping(&db);	/* connect early; a failure is retried per request */
	memset(&r, 0, sizeof(r));
	r.arena = &arena;
	r.cfg = t->cfg;
	r.tmpls = t->tmpls;
	r.db = &db;
	r.notify = &notify;
	r.blocklist = t->blocklist;
	if ((r.curl = curl_easy_init()) == NULL)
		log_msg(LOG_ERROR, "worker: no curl handle; breached-password checks will fail open or closed per CHATD_PWNED_REQUIRED");
	r.read_body = read_body;

	for (;;) {
		int rc;

		pthread_mutex_lock(&accept_lock);
		if (atomic_load(&stopping)) {
			pthread_mutex_unlock(&accept_lock);
			break;
		}
		rc = FCGX_Accept_r(&fr);
		if (rc >= 0)
			atomic_fetch_add(&active, 1);
		pthread_mutex_unlock(&accept_lock);
		if (rc < 0) {
			if (atomic_load(&stopping))
				break;
			if (rc == -EMFILE || rc == -ENFILE) {
				pause_ms = accept_pause(pause_ms, -rc);
				continue;
			}
			if (accept_retry_now(-rc))
				continue;
			worker_fail(rc);
			break;
		}
		if (atomic_load(&fd_short) && atomic_exchange(&fd_short, 0) == 1)
			log_msg(LOG_INFO, "worker: descriptors free again; accepting");
		pause_ms = 0;
		req_reset(&r);
		serve(&r, &fr);
		FCGX_Finish_r(&fr);
		atomic_fetch_sub(&active, 1);
	}
	req_reset(&r);
	buf_free(&r.resp_body);
	buf_free(&r.resp_headers);
	arena_free(&arena);
	if (r.curl != NULL)
		curl_easy_cleanup(r.curl);
	notify_free(&notify);
	db_close(&db);
	return NULL;
}

/* Waits until no request is in flight, or the deadline passes. */
static void
drain(int seconds)
{
	double deadline = now_ms() + seconds * 1000.0;
	int quiet = 0;

	/* Two quiet looks 20 ms apart: a thread between accept() and its
	 * counter increment is seen on the second. */
	while (now_ms() < deadline) {
		if (atomic_load(&active) == 0) {
			if (++quiet == 2)
				return;
		} else
			quiet = 0;
		usleep(20000);
	}
	log_msg(LOG_WARN, "worker: %d request(s) still running at the shutdown deadline",
	    atomic_load(&active));
}

void
worker_run(const struct config *cfg, const struct tmpl_set *tmpls, const struct blocklist *bl,
    int listen_fd, pid_t supervisor)
{
	struct worker_thread *threads;
	sigset_t set;
	int sig, started = 0;

	/* Die with the supervisor; if it is already gone, do not start. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != supervisor)
		_exit(1);
	if (FCGX_Init() != 0) {
		log_msg(LOG_ERROR, "worker: FCGX_Init failed");
		_exit(1);
	}
	threads = calloc((size_t)cfg->threads, sizeof(*threads));
	if (threads == NULL)
		_exit(1);
	for (int i = 0; i < cfg->threads; i++) {
		threads[i].cfg = cfg;
		threads[i].tmpls = tmpls;
		threads[i].blocklist = bl;
		threads[i].listen_fd = listen_fd;
		if (pthread_create(&threads[i].tid, NULL, thread_main, &threads[i]) != 0) {
			log_msg(LOG_ERROR, "worker: cannot start thread %d", i);
			break;
		}
		started++;
	}
	if (started == 0)
		_exit(1);
	log_msg(LOG_INFO, "worker: ready with %d threads", started);

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR2);
	while (sigwait(&set, &sig) != 0)
		;
	if (sig == SIGUSR2)
		log_msg(LOG_ERROR, "worker: accept: %s; stopping this worker for a fresh one",
		    strerror(atomic_load(&accept_errno)));
	atomic_store(&stopping, 1);
	FCGX_ShutdownPending();
	drain(cfg->shutdown_timeout);
	log_msg(LOG_INFO, "worker: stopped");
	/* Threads blocked in accept() hold no request: leave without joining. */
	_exit(sig == SIGUSR2 ? 1 : 0);
}
