/*
 * web_static.c - the peer for bench/web_bench.sh: libmicrohttpd serving
 * one static file, set up exactly as candord --web sets it up (epoll
 * driven from our own loop, one thread, the same limits), so the ratio
 * measures what candor adds per request: routing, the token, SQLite.
 *
 * Usage: web_static PORT FILE   (serves FILE at every path; SIGTERM stops)
 */
#include "config.h"

#include <microhttpd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/util.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static struct MHD_Response *file;

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	static int pending;

	if (!*con_cls) {
		*con_cls = &pending;
		return MHD_YES;
	}
	*upload_size = 0;
	return MHD_queue_response(c, 200, file);
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	struct pollfd pfd;
	char *body;
	size_t len;

	if (argc != 3 || cd_util_read_file(argv[2], 1 << 20, &body, &len, NULL) < 0) {
		fprintf(stderr, "usage: web_static PORT FILE\n");
		return 64;
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGPIPE, SIG_IGN);
	file = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(file, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(file, "Cache-Control", "no-store");
	d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_TURBO, (uint16_t)atoi(argv[1]), NULL, NULL,
			     handle, NULL,
			     MHD_OPTION_CONNECTION_LIMIT, 1024u,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, 1024u,
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
			     MHD_OPTION_END);
	if (!d || !(info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD))) {
		fprintf(stderr, "web_static: cannot listen on port %s\n", argv[1]);
		return 1;
	}
	pfd.fd = info->epoll_fd;
	pfd.events = POLLIN;
	while (!stop) {
		poll(&pfd, 1, 1000);
		MHD_run(d);
	}
	MHD_stop_daemon(d);
	MHD_destroy_response(file);
	return 0;
}
