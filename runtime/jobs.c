/* jobs.c: the queue and the runners of batch jobs (see jobs.h). */
#include "runtime/jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/core.h"
#include "state/batch.h"

/* A job queued or running. */
struct runner {
	struct jobs *owner;
	char name[RESOURCE_ASSET_NAME_MAX + 1];
	int running;
	struct jobrun_ctl ctl;
	struct runner *next;
};

struct jobs {
	struct runtime *rt;
	int max_running;
	pthread_mutex_t lock;
	pthread_cond_t idle; /* a runner ended */
	struct runner *list; /* queued and running, in arrival order */
	int nrunning;
	int max_queued;
	int waiting; /* queued in the list, plus places reserved */
	int stopping;
};

struct jobs *jobs_new(struct runtime *rt, int max_running, int max_queued)
{
	struct jobs *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	j->rt = rt;
	j->max_running = max_running > 0 ? max_running : 1;
	j->max_queued = max_queued > 0 ? max_queued : 1;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->idle, NULL);
	return j;
}

static struct runner *find(struct jobs *j, const char *name)
{
	for (struct runner *r = j->list; r != NULL; r = r->next)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

static void unlink_runner(struct jobs *j, struct runner *r)
{
	struct runner **p = &j->list;

	while (*p != NULL && *p != r)
		p = &(*p)->next;
	if (*p == r)
		*p = r->next;
}

static void runner_free(struct runner *r)
{
	pthread_mutex_destroy(&r->ctl.lock);
	free(r);
}

static void start_queued(struct jobs *j);

static void *runner_main(void *arg)
{
	struct runner *r = arg;
	struct jobs *j = r->owner;

	jobrun_run(j->rt, r->name, &r->ctl);
	pthread_mutex_lock(&j->lock);
	unlink_runner(j, r);
	j->nrunning--;
	start_queued(j);
	pthread_cond_broadcast(&j->idle);
	pthread_mutex_unlock(&j->lock);
	runner_free(r);
	return NULL;
}

/* Starts queued jobs while there is room. Call with the lock. */
static void start_queued(struct jobs *j)
{
	for (struct runner *r = j->list; r != NULL && !j->stopping; r = r->next) {
		pthread_attr_t attr;
		pthread_t t;

		if (j->nrunning >= j->max_running)
			return;
		if (r->running)
			continue;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, runner_main, r) == 0) {
			r->running = 1;
			j->nrunning++;
			j->waiting--;
		}
		pthread_attr_destroy(&attr);
	}
}

int jobs_reserve(struct jobs *j)
{
	int rc = -1;

	pthread_mutex_lock(&j->lock);
	if (j->waiting < j->max_queued) {
		j->waiting++;
		rc = 0;
	}
	pthread_mutex_unlock(&j->lock);
	return rc;
}

void jobs_unreserve(struct jobs *j)
{
	pthread_mutex_lock(&j->lock);
	j->waiting--;
	pthread_mutex_unlock(&j->lock);
}

int jobs_submit(struct jobs *j, const char *name, int reserved)
{
	struct runner *r = calloc(1, sizeof *r), **p;

	if (r == NULL) {
		if (reserved)
			jobs_unreserve(j);
		return -1;
	}
	r->owner = j;
	snprintf(r->name, sizeof r->name, "%s", name);
	pthread_mutex_init(&r->ctl.lock, NULL);
	pthread_mutex_lock(&j->lock);
	if (j->stopping || find(j, name) != NULL) {
		j->waiting -= reserved;
		pthread_mutex_unlock(&j->lock);
		runner_free(r);
		return -1;
	}
	j->waiting += !reserved;
	for (p = &j->list; *p != NULL; p = &(*p)->next)
		;
	*p = r;
	start_queued(j);
	pthread_mutex_unlock(&j->lock);
	return 0;
}

void jobs_cancel(struct jobs *j, const char *name)
{
	struct runner *r;

	pthread_mutex_lock(&j->lock);
	r = find(j, name);
	if (r != NULL && !r->running) {
		unlink_runner(j, r);
		runner_free(r);
		j->waiting--;
	} else if (r != NULL) {
		atomic_store(&r->ctl.cancel, 1);
		atomic_store(&r->ctl.halt, 1);
	}
	pthread_mutex_unlock(&j->lock);
}

int jobs_live(struct jobs *j, const char *name, struct jobrun_figures *out)
{
	struct runner *r;
	int rc = -1;

	pthread_mutex_lock(&j->lock);
	r = find(j, name);
	if (r != NULL && r->running) {
		pthread_mutex_lock(&r->ctl.lock);
		*out = r->ctl.fig;
		pthread_mutex_unlock(&r->ctl.lock);
		rc = 0;
	}
	pthread_mutex_unlock(&j->lock);
	return rc;
}

/* ---- resuming ----------------------------------------------------------- */

struct resume_arg {
	char **names; /* the jobs to queue, oldest first */
	size_t n;
};

static int resume_apply(struct runtime *rt, struct workspace *ws, void *arg, struct error *err)
{
	struct resume_arg *a = arg;
	const struct job **js;
	size_t n = batch_job_list(ws, &js);

	(void)rt;
	a->names = calloc(n + 1, sizeof *a->names);
	for (size_t i = n; a->names != NULL && i-- > 0;) { /* the list is newest first */
		struct job j;
		int rc;

		if (js[i]->kind != JOB_KIND_BATCH || !job_status_active(js[i]->status) ||
		    job_copy(&j, js[i]) < 0)
			continue; /* monitor runs resume in runtime/monitor/monitors.c */
		j.status = j.status == JOB_CANCEL_REQUESTED ? JOB_CANCELED : JOB_QUEUED;
		if (j.status == JOB_CANCELED)
			j.ended = (int64_t)time(NULL);
		rc = j.status == js[i]->status ? 0 : batch_job_put(ws, &j, err);
		if (rc == 0 && j.status == JOB_QUEUED)
			a->names[a->n++] = strdup(j.name);
		job_cleanup(&j);
		if (rc < 0) {
			free(js);
			return -1;
		}
	}
	free(js);
	return 0;
}

void jobs_resume(struct jobs *j)
{
	struct resume_arg a = {NULL, 0};
	struct error err = {0};

	if (control_change(j->rt, resume_apply, NULL, &a, &err) < 0)
		runtime_log(j->rt, "jobs: cannot resume the jobs that were running: %s",
			    err.message);
	for (size_t i = 0; i < a.n; i++) {
		if (a.names[i] != NULL && jobs_submit(j, a.names[i], 0) == 0)
			runtime_log(j->rt, "job %s: resumed", a.names[i]);
		free(a.names[i]);
	}
	free(a.names);
}

void jobs_free(struct jobs *j)
{
	if (j == NULL)
		return;
	pthread_mutex_lock(&j->lock);
	j->stopping = 1;
	for (struct runner *r = j->list, *next; r != NULL; r = next) {
		next = r->next;
		if (r->running) {
			atomic_store(&r->ctl.stop, 1);
			atomic_store(&r->ctl.halt, 1);
		} else {
			unlink_runner(j, r);
			runner_free(r);
		}
	}
	while (j->nrunning > 0)
		pthread_cond_wait(&j->idle, &j->lock);
	pthread_mutex_unlock(&j->lock);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->idle);
	free(j);
}
