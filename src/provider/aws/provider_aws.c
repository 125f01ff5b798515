/*
 * The AWS provider: credentials (refreshed before they expire), the account
 * (STS GetCallerIdentity), the regions (configured, or every enabled one
 * from DescribeRegions), and provider_list: one job per (region, type), or
 * one per account for global types, run by a small pool of worker threads,
 * each with its own HTTP client, at most half of them on one service at a
 * time and under a shared per-service request rate, every request counted
 * per service (provider_api_stats). Each listing ends with a status, so a
 * failed one never makes its resources look gone.
 */
#include "list_int.h"

#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------- credentials */

int aws_provider_creds(struct aws_provider *p, struct aws_client *client,
		       unsigned *gen, struct elava_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&p->creds_mu);
	if (aws_creds_expiring(&p->creds, time_now_ns())) {
		struct aws_creds fresh = {0};
		if (!(rc = aws_creds_resolve(&p->cro, &fresh, err))) {
			aws_creds_clear(&p->creds);
			p->creds = fresh;
			p->creds_gen++;
			log_info("aws", "credentials refreshed (%s)",
				 fresh.source);
		}
	}
	if (!rc && *gen != p->creds_gen) {
		aws_client_set_creds(client, &p->creds);
		*gen = p->creds_gen;
	}
	pthread_mutex_unlock(&p->creds_mu);
	return rc;
}

/* ------------------------------------------------ account and regions */

static int whoami(struct aws_provider *p, struct elava_error *err)
{
	struct aws_list_ctx lc;
	struct aws_doc doc;
	int rc;

	aws_list_ctx_init(&lc, p->client, NULL, p->region);
	rc = aws_call(&lc, &aws_svc_sts, p->region, NULL, "GetCallerIdentity",
		      NULL, &doc, err);
	if (!rc) {
		if (aws_node_text(&doc.root, "GetCallerIdentityResult/Account",
				  &lc.text) &&
		    lc.text.len)
			p->account = xstrdup(lc.text.data);
		else
			rc =
			    elava_error_set(err, ELAVA_E_PARSE,
					    "sts GetCallerIdentity: no account "
					    "in the response");
	}
	aws_doc_release(&doc);
	aws_list_ctx_release(&lc);
	return rc;
}

struct names {
	char **v;
	size_t n;
};

static int add_name(const struct aws_node *n, void *ud)
{
	struct names *ns = ud;
	struct buf b = BUF_INIT;

	buf_init(&b, 256);
	if (aws_node_text(n, "", &b) && b.len) {
		ns->v = xrealloc(ns->v, st_mult(ns->n + 1, sizeof(*ns->v)));
		ns->v[ns->n++] = buf_detach(&b, NULL);
	}
	buf_release(&b);
	return 0;
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		xfree(ns->v[i]);
	xfree(ns->v);
	memset(ns, 0, sizeof(*ns));
}

/* The account's enabled regions, or all of them (opted in or not). */
static int describe_regions_in(struct aws_provider *p, const char *region,
			       bool all, struct names *out,
			       struct elava_error *err)
{
	struct aws_list_ctx lc;
	struct aws_doc doc;
	int rc;

	memset(out, 0, sizeof(*out));
	aws_list_ctx_init(&lc, p->client, p->account, region);
	rc = aws_call(&lc, &aws_svc_ec2, region, NULL, "DescribeRegions",
		      all ? "AllRegions=true" : NULL, &doc, err);
	if (!rc)
		aws_node_each(&doc.root, "regionInfo/item[]/regionName",
			      add_name, out);
	if (!rc && !out->n)
		rc = elava_error_set(err, ELAVA_E_PARSE,
				     "ec2 DescribeRegions: no regions in the "
				     "response");
	aws_doc_release(&doc);
	aws_list_ctx_release(&lc);
	return rc;
}

static int describe_regions(struct aws_provider *p, bool all, struct names *out,
			    struct elava_error *err)
{
	return describe_regions_in(p, p->region, all, out, err);
}

/* --------------------------------------------------------------- jobs */

struct job {
	const struct aws_type *t;
	const char *region; /* where requests go */
	bool taken;
};

struct run {
	struct aws_provider *p;
	const struct provider_callbacks *cb;
	const char *const *scan_regions;
	size_t nscan_regions;
	struct job *jobs;
	size_t njobs;
	pthread_mutex_t mu; /* jobs, active, stop, and every callback */
	pthread_cond_t cv;
	const struct aws_service *active[64]; /* service of each busy worker */
	int per_service;
	int stop;
};

static int busy_on(const struct run *run, const struct aws_service *svc)
{
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(run->active); i++)
		n += run->active[i] == svc;
	return n;
}

/* The next job whose service has room, waiting while every remaining job
 * is for a busy service; NULL when there is nothing left to do. */
static struct job *take_job(struct run *run, size_t worker)
{
	struct job *j = NULL;

	pthread_mutex_lock(&run->mu);
	run->active[worker] = NULL;
	pthread_cond_broadcast(&run->cv);
	for (;;) {
		bool left = false;
		if (run->stop || atomic_load(run->p->cancel_flag))
			break;
		for (size_t i = 0; i < run->njobs && !j; i++) {
			if (run->jobs[i].taken)
				continue;
			left = true;
			if (busy_on(run, run->jobs[i].t->svc) <
			    run->per_service)
				j = &run->jobs[i];
		}
		if (j || !left)
			break;
		pthread_cond_wait(&run->cv, &run->mu);
	}
	if (j) {
		j->taken = true;
		run->active[worker] = j->t->svc;
	}
	pthread_mutex_unlock(&run->mu);
	return j;
}

static void count_region(struct aws_list_ctx *lc, const char *region)
{
	for (size_t i = 0; i < lc->ncounts; i++)
		if (!strcmp(lc->counts[i].region, region)) {
			lc->counts[i].n++;
			return;
		}
	lc->counts =
	    xrealloc(lc->counts, st_mult(lc->ncounts + 1, sizeof(*lc->counts)));
	snprintf(lc->counts[lc->ncounts].region,
		 sizeof(lc->counts[lc->ncounts].region), "%s", region);
	lc->counts[lc->ncounts++].n = 1;
}

static int emit(struct aws_list_ctx *lc, const struct resource *r)
{
	struct run *run = lc->emit_ud;
	int rc = 0;

	if (lc->t->flags & AWS_PLACED)
		count_region(lc, r->region);
	pthread_mutex_lock(&run->mu);
	if (run->stop)
		rc = run->stop;
	else if (run->cb && run->cb->resource &&
		 (rc = run->cb->resource(r, run->cb->ud)))
		run->stop = rc;
	pthread_mutex_unlock(&run->mu);
	return rc;
}

static void report(struct run *run, struct aws_list_ctx *lc, const char *region,
		   size_t resources, int rc, const struct elava_error *lerr)
{
	struct provider_listing done = {0};
	struct buf scope = BUF_INIT;

	if (!run->cb || !run->cb->listing_done)
		return;
	buf_init(&scope, 0);
	buf_printf(&scope, "aws:%s:%s:%s", lc->account, region, lc->type);
	done.scope = scope.data;
	done.account = lc->account;
	done.region = region;
	done.type = lc->type;
	done.status = rc < 0 ? rc : 0;
	done.err = rc < 0 ? lerr : NULL;
	done.resources = resources;
	done.pages = lc->pages;
	run->cb->listing_done(&done, run->cb->ud);
	buf_release(&scope);
}

static bool has_region(char *const *v, size_t n, const char *region)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], region))
			return true;
	return false;
}

/* A type listed once whose records carry their own region: a status for
 * every region a record could be in, so one gone from any is seen gone. */
static void report_placed(struct run *run, struct aws_list_ctx *lc, int rc,
			  const struct elava_error *lerr)
{
	struct aws_provider *p = run->p;

	for (size_t i = 0; i < lc->ncounts; i++)
		if (!has_region(p->all_regions, p->nall_regions,
				lc->counts[i].region))
			report(run, lc, lc->counts[i].region, lc->counts[i].n,
			       rc, lerr);
	for (size_t i = 0; i < p->nall_regions; i++) {
		size_t n = 0;
		for (size_t k = 0; k < lc->ncounts; k++)
			if (!strcmp(lc->counts[k].region, p->all_regions[i]))
				n = lc->counts[k].n;
		report(run, lc, p->all_regions[i], n, rc, lerr);
	}
}

static void run_job(struct run *run, struct aws_client *client, struct job *j)
{
	struct aws_provider *p = run->p;
	struct aws_list_ctx lc;
	struct elava_error lerr = {0};
	bool once = j->t->flags & (AWS_GLOBAL | AWS_PLACED);
	int rc;

	aws_list_ctx_init(&lc, client, p->account,
			  (j->t->flags & AWS_GLOBAL) ? "global" : j->region);
	lc.t = j->t;
	lc.type = j->t->type;
	lc.emit = emit;
	lc.emit_ud = run;
	rc = aws_list_type(&lc, &lerr);
	if (rc < 0)
		log_warn("aws", "listing %s in %s failed: %s", lc.type,
			 once ? "the account" : lc.region, lerr.msg);
	pthread_mutex_lock(&run->mu);
	if (!(rc > 0 || (run->stop && rc >= 0))) {
		if (j->t->flags & AWS_PLACED)
			report_placed(run, &lc, rc, &lerr);
		else
			report(run, &lc, lc.region, lc.resources, rc, &lerr);
	}
	pthread_mutex_unlock(&run->mu);
	aws_list_ctx_release(&lc);
}

struct worker {
	struct run *run;
	size_t index;
	pthread_t tid;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	struct aws_provider *p = run->p;
	struct aws_client *client = NULL;
	unsigned gen = 0;
	struct job *j;

	pthread_mutex_lock(&p->creds_mu);
	if (aws_client_new(&p->co, &p->creds, &client, NULL))
		client = NULL;
	gen = p->creds_gen;
	pthread_mutex_unlock(&p->creds_mu);
	while (client && (j = take_job(run, w->index))) {
		struct elava_error cerr = {0};
		if (aws_provider_creds(p, client, &gen, &cerr)) {
			struct aws_list_ctx lc;
			aws_list_ctx_init(&lc, client, p->account, j->region);
			lc.t = j->t;
			lc.type = j->t->type;
			pthread_mutex_lock(&run->mu);
			report(run, &lc, j->region, 0, cerr.code, &cerr);
			pthread_mutex_unlock(&run->mu);
			aws_list_ctx_release(&lc);
			continue;
		}
		run_job(run, client, j);
	}
	take_job(run, w->index); /* marks this worker idle */
	aws_client_free(&client);
	return NULL;
}

/* ---------------------------------------------------------------- list */

static bool in_list(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static int check_types(const char *const *v, size_t n, struct elava_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!aws_type_find(v[i]))
			return elava_error_set(err, ELAVA_E_INVAL,
					       "unknown resource type '%s' "
					       "(see 'elava debug types')",
					       v[i]);
	return 0;
}

/*
 * Every region there is (opted in or not), asked once per provider: where
 * S3 buckets may be, and what a configured region is checked against. A
 * failure is logged and leaves the list empty (nothing is then checked).
 */
static void load_all_regions(struct aws_provider *p)
{
	struct names all = {0};
	struct elava_error rerr = {0};

	if (p->all_regions)
		return;
	/*
	 * The home region may itself be the mistake (the first --region):
	 * ask the one region every commercial account has before giving up.
	 */
	if (describe_regions(p, true, &all, &rerr) &&
	    (!strcmp(p->region, "us-east-1") ||
	     describe_regions_in(p, "us-east-1", true, &all, &rerr))) {
		log_warn("aws", "%s", rerr.msg);
		return;
	}
	p->all_regions = all.v;
	p->nall_regions = all.n;
}

/* A configured region AWS does not have fails the whole listing. */
static int check_regions(struct aws_provider *p, const char *const *v, size_t n,
			 struct elava_error *err)
{
	load_all_regions(p);
	for (size_t i = 0; i < n && p->nall_regions; i++) {
		if (has_region(p->all_regions, p->nall_regions, v[i]))
			continue;
		struct buf known;
		buf_init(&known, 0);
		for (size_t k = 0; k < p->nall_regions; k++) {
			if (known.len > 360) { /* the message has a cap */
				buf_puts(&known, ", ...");
				break;
			}
			buf_printf(&known, "%s%s", k ? ", " : "",
				   p->all_regions[k]);
		}
		elava_error_set(err, ELAVA_E_INVAL,
				"unknown region '%s' (AWS has: %s)", v[i],
				known.data ? known.data : "");
		buf_release(&known);
		return ELAVA_E_INVAL;
	}
	return 0;
}

static int aws_check(struct provider *base, const struct provider_scope *scope,
		     struct elava_error *err)
{
	static const struct provider_scope none = {0};
	struct aws_provider *p = (struct aws_provider *)base;
	const struct provider_scope *s = scope ? scope : &none;
	const char *const one[] = {p->region};
	int rc;

	if ((rc = check_types(s->types, s->ntypes, err)) ||
	    (rc = check_types(s->exclude_types, s->nexclude, err)))
		return rc;
	if (s->all_regions)
		return 0; /* whatever DescribeRegions says is enabled */
	return s->nregions ? check_regions(p, s->regions, s->nregions, err)
			   : check_regions(p, one, 1, err);
}

static int aws_list(struct provider *base, const struct provider_scope *scope,
		    const struct provider_callbacks *cb,
		    struct elava_error *err)
{
	static const struct provider_scope none = {0};
	struct aws_provider *p = (struct aws_provider *)base;
	const struct provider_scope *s = scope ? scope : &none;
	const char *const one[] = {p->region};
	struct names enabled = {0};
	struct run run = {0};
	struct worker *workers;
	size_t nworkers, nregions, ntypes = aws_type_count();
	const char *const *regions;
	int rc;

	atomic_store(p->cancel_flag, false);
	if ((rc = aws_provider_creds(p, p->client, &p->client_gen, err)) ||
	    (rc = check_types(s->types, s->ntypes, err)) ||
	    (rc = check_types(s->exclude_types, s->nexclude, err)))
		return rc;
	if (s->all_regions) {
		if ((rc = describe_regions(p, false, &enabled, err)))
			return elava_error_prefix(err, "finding the regions");
		regions = (const char *const *)enabled.v;
		nregions = enabled.n;
	} else {
		regions = s->nregions ? s->regions : one;
		nregions = s->nregions ? s->nregions : 1;
		if ((rc = check_regions(p, regions, nregions, err)))
			return rc;
	}
	run.p = p;
	run.cb = cb;
	run.jobs = xcalloc(st_mult(ntypes, nregions), sizeof(*run.jobs));
	for (size_t i = 0; i < ntypes; i++) {
		const struct aws_type *t = aws_type_at(i);
		bool once = t->flags & (AWS_GLOBAL | AWS_PLACED);
		if ((s->ntypes && !in_list(s->types, s->ntypes, t->type)) ||
		    in_list(s->exclude_types, s->nexclude, t->type))
			continue;
		/* Where S3 buckets may be: every region there is. */
		if (t->flags & AWS_PLACED)
			load_all_regions(p);
		for (size_t g = 0; g < (once ? 1 : nregions); g++) {
			run.jobs[run.njobs].t = t;
			run.jobs[run.njobs++].region =
			    once ? p->region : regions[g];
		}
	}
	nworkers = (size_t)p->concurrency;
	if (nworkers > run.njobs)
		nworkers = run.njobs;
	if (nworkers > ARRAY_SIZE(run.active))
		nworkers = ARRAY_SIZE(run.active);
	run.per_service = p->concurrency > 1 ? (p->concurrency + 1) / 2 : 1;
	pthread_mutex_init(&run.mu, NULL);
	pthread_cond_init(&run.cv, NULL);
	workers = xcalloc(nworkers ? nworkers : 1, sizeof(*workers));
	for (size_t i = 0; i < nworkers; i++) {
		workers[i].run = &run;
		workers[i].index = i;
		if (pthread_create(&workers[i].tid, NULL, work, &workers[i])) {
			nworkers = i;
			break;
		}
	}
	for (size_t i = 0; i < nworkers; i++)
		pthread_join(workers[i].tid, NULL);
	rc = 0;
	if (run.stop)
		rc = run.stop;
	else if (atomic_load(p->cancel_flag))
		rc = elava_error_set(err, ELAVA_E_CANCELLED,
				     "listing cancelled");
	else if (run.njobs && !nworkers)
		rc = elava_error_set(err, ELAVA_E_IO,
				     "cannot start listing threads");
	else
		for (size_t i = 0; i < run.njobs && !rc; i++)
			if (!run.jobs[i].taken)
				rc = elava_error_set(
				    err, ELAVA_E_IO,
				    "cannot create an HTTP client for listing");
	pthread_cond_destroy(&run.cv);
	pthread_mutex_destroy(&run.mu);
	xfree(workers);
	xfree(run.jobs);
	names_free(&enabled);
	return rc;
}

static const char *type_names[256];
static pthread_once_t type_names_once = PTHREAD_ONCE_INIT;

static void fill_type_names(void)
{
	for (size_t i = 0;
	     i < aws_type_count() && i + 1 < ARRAY_SIZE(type_names); i++)
		type_names[i] = aws_type_at(i)->type;
}

const char *const *provider_aws_type_names(void)
{
	pthread_once(&type_names_once, fill_type_names);
	return type_names;
}

static const char *const *aws_types_list(const struct provider *base)
{
	(void)base;
	return provider_aws_type_names();
}

static void aws_cancel(struct provider *base)
{
	atomic_store(((struct aws_provider *)base)->cancel_flag, true);
}

static size_t aws_api_stats(struct provider *base,
			    struct provider_api_stats *out, size_t cap)
{
	return aws_stats_read(((struct aws_provider *)base)->stats, out, cap);
}

static void aws_destroy(struct provider *base)
{
	struct aws_provider *p = (struct aws_provider *)base;

	aws_client_free(&p->client);
	aws_ratelimit_free(&p->limit);
	aws_stats_free(&p->stats);
	aws_creds_clear(&p->creds);
	pthread_mutex_destroy(&p->creds_mu);
	for (size_t i = 0; i < p->nall_regions; i++)
		xfree(p->all_regions[i]);
	xfree(p->all_regions);
	xfree(p->account);
	xfree(p->region);
	xfree(p->profile);
	xfree(p);
}

static const struct provider_ops aws_ops = {
    .list = aws_list,
    .check = aws_check,
    .types = aws_types_list,
    .create = aws_write_create,
    .update = aws_write_update,
    .remove = aws_write_remove,
    .cancel = aws_cancel,
    .destroy = aws_destroy,
    .api_stats = aws_api_stats,
};

int provider_aws_new(const struct provider_aws_options *o,
		     struct provider **out, struct elava_error *err)
{
	static const struct provider_aws_options defaults = {0};
	struct aws_provider *p;
	const char *region;
	int rc;

	*out = NULL;
	aws_xml_global_init(); /* before any listing thread parses */
	if (!o)
		o = &defaults;
	region = o->region;
	if (!region || !*region)
		region = getenv("AWS_REGION");
	if (!region || !*region)
		region = getenv("AWS_DEFAULT_REGION");
	if (!region || !*region)
		region = "us-east-1";
	p = xcalloc(1, sizeof(*p));
	p->base.ops = &aws_ops;
	p->region = xstrdup(region);
	p->profile = o->profile ? xstrdup(o->profile) : NULL;
	pthread_mutex_init(&p->creds_mu, NULL);
	atomic_init(&p->cancel, false);
	p->cancel_flag = o->cancel ? o->cancel : &p->cancel;
	p->concurrency = o->concurrency > 0 ? o->concurrency : 8;
	p->limit = aws_ratelimit_new(
	    o->requests_per_second == 0 ? 20 : o->requests_per_second);
	p->stats = aws_stats_new();
	/* The standard chain: environment, profile, web identity, container,
	 * instance metadata. */
	p->cro.profile = p->profile;
	p->cro.region = p->region;
	p->cro.cancel = p->cancel_flag;
	p->cro.stats = p->stats;
	p->co.request_timeout_ms = o->request_timeout_ms;
	p->co.max_attempts = o->max_attempts;
	p->co.cancel = p->cancel_flag;
	p->co.limit = p->limit;
	p->co.stats = p->stats;
	rc = aws_creds_resolve(&p->cro, &p->creds, err);
	if (!rc)
		rc = aws_client_new(&p->co, &p->creds, &p->client, err);
	if (!rc)
		rc = whoami(p, err);
	if (rc) {
		aws_destroy(&p->base);
		return rc;
	}
	*out = &p->base;
	return 0;
}
