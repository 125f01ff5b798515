/*
 * The AWS standard credential chain, in the SDKs' order: environment,
 * shared profile (static keys, role_arn + source_profile or
 * web_identity_token_file, credential_process), web identity from the
 * environment, the container endpoint, IMDSv2. The first source that is
 * configured decides: when it is broken (bad file syntax, a failing
 * credential_process, a denied AssumeRole) that is the answer, as in the
 * SDKs, rather than silently trying the next one.
 *
 * As botocore does, a profile named by the caller (options.profile, the
 * CLI's --profile) skips the environment keys: an explicit choice beats
 * ambient ones. $AWS_PROFILE does not skip them.
 */
#include "aws_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROLE_CHAIN 5

struct chain {
	const struct aws_creds_options *o;
	struct aws_ini *cred, *conf;
	char *cred_path, *conf_path; /* as read */
	char cred_show[256], conf_show[256];
};

/* Path from env (leading "~/" expanded) or $HOME/.aws/<name>; NULL if
 * neither can be known. show gets the name used in messages. */
static char *file_path(const char *env, const char *name, char *show,
		       size_t show_len)
{
	const char *v = getenv(env);
	const char *home = getenv("HOME");
	struct buf b;

	buf_init(&b, 8192);
	if (v && *v) {
		if (v[0] == '~' && v[1] == '/' && home)
			buf_printf(&b, "%s%s", home, v + 1);
		else
			buf_puts(&b, v);
		snprintf(show, show_len, "%s", v);
	} else {
		snprintf(show, show_len, "~/.aws/%s", name);
		if (!home || !*home)
			return NULL;
		buf_printf(&b, "%s/.aws/%s", home, name);
	}
	return buf_detach(&b, NULL);
}

static int load(const char *path, bool config, struct aws_ini **out,
		struct elava_error *err)
{
	int rc;

	if (!path)
		return 0;
	rc = aws_ini_load(path, config, out, err);
	return rc == ELAVA_E_NOTFOUND ? 0 : rc;
}

static const char *pget(const struct chain *ch, const char *profile,
			const char *key)
{
	const char *v = aws_ini_get(ch->cred, profile, key);

	if (!v)
		v = aws_ini_get(ch->conf, profile, key);
	return v && *v ? v : NULL;
}

static bool has_profile(const struct chain *ch, const char *profile)
{
	return aws_ini_has_profile(ch->cred, profile) ||
	       aws_ini_has_profile(ch->conf, profile);
}

static const char *sts_region(const struct chain *ch, const char *profile)
{
	const char *r = ch->o->region;

	if (!r || !*r)
		r = profile ? pget(ch, profile, "region") : NULL;
	if (!r || !*r)
		r = getenv("AWS_REGION");
	if (!r || !*r)
		r = getenv("AWS_DEFAULT_REGION");
	return r && *r ? r : "us-east-1";
}

static int static_keys(const struct chain *ch, const char *profile,
		       struct aws_creds *c, struct elava_error *err)
{
	const char *ak = pget(ch, profile, "aws_access_key_id");
	const char *sk = pget(ch, profile, "aws_secret_access_key");
	const char *tok = pget(ch, profile, "aws_session_token");

	if (!ak && !sk)
		return ELAVA_E_NOTFOUND;
	if (!ak || !sk)
		return elava_error_set(
		    err, ELAVA_E_INVAL, "profile '%s' sets %s but not %s",
		    profile, ak ? "aws_access_key_id" : "aws_secret_access_key",
		    ak ? "aws_secret_access_key" : "aws_access_key_id");
	c->access_key = xstrdup(ak);
	c->secret_key = xstrdup(sk);
	c->session_token = tok ? xstrdup(tok) : NULL;
	c->source = "profile";
	return 0;
}

/*
 * Credentials of one profile. ELAVA_E_NOTFOUND (nothing set in err) when
 * the profile does not exist or holds no credential settings.
 */
static int from_profile(const struct chain *ch, const char *profile, int depth,
			struct aws_creds *c, struct elava_error *err)
{
	const char *role, *src, *wif, *proc;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!has_profile(ch, profile))
		return ELAVA_E_NOTFOUND;
	role = pget(ch, profile, "role_arn");
	if (role) {
		const char *session = pget(ch, profile, "role_session_name");
		struct aws_creds base = {0};

		src = pget(ch, profile, "source_profile");
		wif = pget(ch, profile, "web_identity_token_file");
		if (wif && !src)
			return aws_sts_assume_role_web_identity(
			    wif, role, session, sts_region(ch, profile),
			    ch->o->cancel, ch->o->stats, c, err);
		if (!src) {
			if (pget(ch, profile, "credential_source"))
				return elava_error_set(
				    err, ELAVA_E_UNSUPPORTED,
				    "profile '%s': credential_source is not "
				    "supported; use source_profile",
				    profile);
			return elava_error_set(
			    err, ELAVA_E_INVAL,
			    "profile '%s' sets role_arn without "
			    "source_profile or web_identity_token_file",
			    profile);
		}
		if (depth >= MAX_ROLE_CHAIN)
			return elava_error_set(
			    err, ELAVA_E_INVAL,
			    "profile '%s': role chain longer than %d profiles "
			    "(or circular)",
			    profile, MAX_ROLE_CHAIN);
		if (!strcmp(src, profile))
			rc = static_keys(ch, profile, &base, err);
		else
			rc = from_profile(ch, src, depth + 1, &base, err);
		if (rc == ELAVA_E_NOTFOUND)
			return elava_error_set(
			    err, ELAVA_E_INVAL,
			    "source_profile '%s' of profile '%s' %s", src,
			    profile,
			    has_profile(ch, src) ? "has no credentials"
						 : "does not exist");
		if (rc)
			return rc;
		rc = aws_sts_assume_role(&base, role, session,
					 sts_region(ch, profile), ch->o->cancel,
					 ch->o->stats, c, err);
		aws_creds_clear(&base);
		return rc;
	}
	rc = static_keys(ch, profile, c, err);
	if (rc != ELAVA_E_NOTFOUND)
		return rc;
	proc = pget(ch, profile, "credential_process");
	if (proc)
		return aws_creds_from_process(proc, profile,
					      ch->o->process_timeout_ms,
					      ch->o->cancel, c, err);
	return ELAVA_E_NOTFOUND;
}

static int from_web_identity_env(const struct chain *ch, const char *profile,
				 struct aws_creds *c, struct elava_error *err)
{
	const char *file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = getenv("AWS_ROLE_ARN");

	if ((!file || !*file) && (!role || !*role))
		return ELAVA_E_NOTFOUND;
	if (!file || !*file || !role || !*role)
		return elava_error_set(
		    err, ELAVA_E_INVAL, "%s is set but %s is not",
		    file && *file ? "AWS_WEB_IDENTITY_TOKEN_FILE"
				  : "AWS_ROLE_ARN",
		    file && *file ? "AWS_ROLE_ARN"
				  : "AWS_WEB_IDENTITY_TOKEN_FILE");
	return aws_sts_assume_role_web_identity(
	    file, role, getenv("AWS_ROLE_SESSION_NAME"),
	    sts_region(ch, profile), ch->o->cancel, ch->o->stats, c, err);
}

int aws_creds_resolve(const struct aws_creds_options *o, struct aws_creds *c,
		      struct elava_error *err)
{
	static const struct aws_creds_options defaults = {0};
	struct chain ch = {0};
	struct elava_error e = {0};
	const char *profile;
	bool explicit_profile;
	char profile_note[700];
	int rc;

	memset(c, 0, sizeof(*c));
	ch.o = o ? o : &defaults;
	explicit_profile = ch.o->profile && *ch.o->profile;
	profile = explicit_profile ? ch.o->profile : getenv("AWS_PROFILE");
	if (profile && *profile)
		explicit_profile = true;
	else
		profile = "default";

	/* 1. environment */
	if (!(ch.o->profile && *ch.o->profile)) {
		rc = aws_creds_from_env(c, &e);
		if (rc != ELAVA_E_NOTFOUND)
			goto out;
	}

	/* 2. the shared files' profile */
	ch.cred_path = file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials",
				 ch.cred_show, sizeof(ch.cred_show));
	ch.conf_path = file_path("AWS_CONFIG_FILE", "config", ch.conf_show,
				 sizeof(ch.conf_show));
	rc = load(ch.cred_path, false, &ch.cred, &e);
	if (!rc)
		rc = load(ch.conf_path, true, &ch.conf, &e);
	if (rc)
		goto out;
	if (!has_profile(&ch, profile)) {
		if (explicit_profile) {
			rc = elava_error_set(
			    &e, ELAVA_E_INVAL, "no profile '%s' in %s or %s",
			    profile, ch.cred_show, ch.conf_show);
			goto out;
		}
		snprintf(profile_note, sizeof(profile_note),
			 "no profile '%s' in %s or %s", profile, ch.cred_show,
			 ch.conf_show);
	} else {
		snprintf(profile_note, sizeof(profile_note),
			 "no credentials in profile '%s'", profile);
	}
	rc = from_profile(&ch, profile, 0, c, &e);
	if (rc != ELAVA_E_NOTFOUND)
		goto out;

	/* 3. web identity */
	rc = from_web_identity_env(&ch, profile, c, &e);
	if (rc != ELAVA_E_NOTFOUND)
		goto out;

	/* 4. container endpoint */
	rc = aws_creds_from_container(ch.o->metadata_timeout_ms, ch.o->cancel,
				      c, &e);
	if (rc != ELAVA_E_NOTFOUND)
		goto out;

	/* 5. instance metadata */
	rc =
	    aws_creds_from_imds(ch.o->metadata_timeout_ms, ch.o->cancel, c, &e);
	if (rc == ELAVA_E_NOTFOUND) {
		char imds_note[sizeof(e.msg)];
		memcpy(imds_note, e.msg, sizeof(imds_note));
		rc = elava_error_set(&e, ELAVA_E_AUTH,
				     "no AWS credentials: not in the "
				     "environment, %s, no web identity token, "
				     "no container endpoint, %s",
				     profile_note, imds_note);
	}
out:
	if (rc) {
		aws_creds_clear(c);
		if (err)
			*err = e;
	}
	aws_ini_free(&ch.cred);
	aws_ini_free(&ch.conf);
	xfree(ch.cred_path);
	xfree(ch.conf_path);
	return rc;
}
