/*
 * awsfake — the small AWS the list and scan benchmarks talk to: an
 * HTTP/1.1 keep-alive server on loopback (one thread a connection, capped
 * request reader), the replies every AWS benchmark needs (STS
 * GetCallerIdentity, EC2 errors), an indenting XML writer and generated
 * EC2 records as DescribeInstances returns them, with opaque-looking page
 * tokens. The server runs in a process of its own (awsfake_serve never
 * returns), so the process measured stays small.
 */
#ifndef ELAVA_BENCH_AWSFAKE_H
#define ELAVA_BENCH_AWSFAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/core.h"

#define AWSFAKE_ACCOUNT "123456789012"
#define AWSFAKE_REGION	"us-east-1"
#define AWSFAKE_EC2_NS	"http://ec2.amazonaws.com/doc/2016-11-15/"

/* splitmix64's finaliser: a bijection, so ids derived from it are unique. */
uint64_t awsfake_mix64(uint64_t x);

/*
 * Point the AWS provider of this process (and its children) at
 * http://127.0.0.1:<port>, with dummy credentials, region us-east-1 and no
 * profile, instance metadata or per-service endpoint in the way.
 */
void awsfake_env(unsigned short port);

/* ------------------------------------------------------------ XML writer */

/* An indenting XML writer into b; the first failed append sticks in rc. */
struct xw {
	struct buf *b;
	int depth;
	int rc;
};

void xw_put(struct xw *w, const char *p, size_t n);
void xw_open(struct xw *w, const char *tag);
void xw_close(struct xw *w, const char *tag);
/* <tag>val</tag>, or <tag/> for an empty value. Values are not escaped:
 * the generators write none of & < > " '. */
void xw_leaf(struct xw *w, const char *tag, const char *val);
void xw_leaff(struct xw *w, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A tagSet <item> with its key and value. */
void xw_tag_item(struct xw *w, const char *key, const char *value);
/* A timestamp as EC2 writes it (milliseconds, always .000). */
void xw_time(struct xw *w, const char *tag, int64_t unix_s);

/* ----------------------------------------------------------- EC2 records */

/*
 * One <instancesSet><item> as DescribeInstances returns it in 2026 (about
 * 5.6 KB), everything derived from i. rev 0 is the instance as generated;
 * an odd rev has its state flipped (running <-> stopped), as if someone
 * stopped or started it.
 */
void awsfake_ec2_instance(struct xw *w, size_t i, unsigned rev);
/* A <reservationSet><item> holding instances i .. i + k - 1. */
void awsfake_ec2_reservation(struct xw *w, size_t i, size_t k, unsigned rev);

/*
 * One record of another type, as its Describe* call returns it, with every
 * element Elava reads and a tagSet (Name, Environment, Team...). A rev > 0
 * moves the record to another Team (a retag).
 *   volume            <volumeSet><item>
 *   snapshot          <snapshotSet><item>
 *   network_interface <networkInterfaceSet><item>
 *   security_group    <securityGroupInfo><item>
 *   subnet            <subnetSet><item>
 */
void awsfake_ec2_volume(struct xw *w, size_t i, unsigned rev);
void awsfake_ec2_snapshot(struct xw *w, size_t i, unsigned rev);
void awsfake_ec2_network_interface(struct xw *w, size_t i, unsigned rev);
void awsfake_ec2_security_group(struct xw *w, size_t i, unsigned rev);
void awsfake_ec2_subnet(struct xw *w, size_t i, unsigned rev);

/* The continuation token naming position n (>= 1): opaque-looking, about
 * the length EC2's are, only [A-Za-z0-9=]. */
#define AWSFAKE_TOKEN_PREFIX                                                   \
	"eyJ2IjoiMiIsImMiOiJCZW5jaExpc3QiLCJzIjoiMSIsImUiOiJ"
#define AWSFAKE_TOKEN_LEN (sizeof(AWSFAKE_TOKEN_PREFIX) - 1 + 8 + 32 + 24 + 2)

void awsfake_token(size_t n, char out[AWSFAKE_TOKEN_LEN + 1]);
/* The position a token names, or false for one this server never gave. */
bool awsfake_token_parse(const char *tok, size_t *n);

/* ------------------------------------------------------------ the server */

/* One request, as the handler sees it; all borrowed. */
struct awsfake_request {
	int fd;
	const char *target; /* the request line's target: "/", "/?..." */
	const char *body;
	size_t body_len;
	bool closing; /* the client sent Connection: close */
};

/* Answer one request; false closes the connection. */
typedef bool (*awsfake_handler)(const struct awsfake_request *rq, void *ud);

/* A listening socket and who answers its requests. */
struct awsfake_listener {
	int fd;
	awsfake_handler handle;
	void *ud;
};

/* A socket listening on 127.0.0.1, its port in *port; -1 on error. */
int awsfake_listen(unsigned short *port);

/*
 * Serve the listeners, a thread a connection, until the control fd is
 * readable and on_ctl (NULL: nobody) returns false; then _exit(0). Never
 * returns. on_ctl runs in the accepting thread while connections are
 * being answered.
 */
void awsfake_serve(const struct awsfake_listener *l, size_t n, int ctl,
		   bool (*on_ctl)(int ctl, void *ud), void *ud)
    __attribute__((noreturn));

/* The value of key in the form body, else in the target's query string,
 * decoded into out (reset first; out->data is a string when found). */
bool awsfake_param(const struct awsfake_request *rq, const char *key,
		   struct buf *out);

/* Send a response whose body is the iovecs, in order. */
bool awsfake_reply_iov(const struct awsfake_request *rq, int status,
		       const char *server, const struct iovec *body, int nbody);
bool awsfake_reply(const struct awsfake_request *rq, int status,
		   const char *server, const char *body, size_t len);
/* A 400 with an EC2 <Response><Errors> body. */
bool awsfake_reply_ec2_error(const struct awsfake_request *rq, const char *code,
			     const char *msg);
/* STS GetCallerIdentity for AWSFAKE_ACCOUNT. */
bool awsfake_reply_caller_identity(const struct awsfake_request *rq);
/* EC2 DescribeRegions: three regions enabled; with AllRegions=true, two
 * more that are not opted in. */
bool awsfake_reply_describe_regions(const struct awsfake_request *rq);

#endif
