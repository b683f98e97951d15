/*
 * fuzz_batchcodec: what a client sends the batch side (state/batchcodec.c,
 * state/job.c, state/cron.c, state/schedule.c): the first byte picks an
 * invocation body, a batch deployment, a schedule (whose trigger, when valid,
 * is asked when it fires next), a job input URI or a cron expression. Every
 * refusal is a 400 with a message; nothing crashes or leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/batchcodec.h"
#include "state/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, const struct error *err)
{
	if (rc < 0 && (err->status != 400 || err->message[0] == '\0'))
		abort();
}

static void schedule(const cJSON *j)
{
	struct schedule s;
	struct error err = {0};
	struct tz *z = tz_utc();
	int64_t next;
	int rc;

	memset(&s, 0, sizeof s);
	rc = batchcodec_schedule_from_json(j, &s, &err);
	check(rc, &err);
	if (rc == 0 && trigger_check(&s.trigger, &err) == 0 && z != NULL)
		trigger_next(&s.trigger, z, 1700000000, 1700000000, &next);
	schedule_cleanup(&s);
	tz_free(z);
}

static void json_kind(int kind, const char *text, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	struct job_invocation inv;
	struct batch_deployment d;
	struct error err = {0};

	if (j == NULL)
		return;
	if (kind == 0) {
		memset(&inv, 0, sizeof inv);
		check(batchcodec_invocation_from_json(j, &inv, &err), &err);
		batchcodec_invocation_cleanup(&inv);
	} else if (kind == 1) {
		memset(&d, 0, sizeof d);
		batch_settings_default(&d.settings);
		check(batchcodec_deployment_from_json(j, &d, &err), &err);
		batch_deployment_cleanup(&d);
	} else {
		schedule(j);
	}
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	struct error err = {0};
	struct job_uri *u;
	struct cron c;
	int kind;

	if (size < 1 || size > 65536)
		return 0;
	kind = data[0] % 5;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (kind < 3) {
		json_kind(kind, text, size - 1);
	} else if (kind == 3 && (u = malloc(sizeof *u)) != NULL) {
		check(job_uri_parse(text, u, &err), &err);
		free(u);
	} else if (kind == 4) {
		int64_t next;

		if (cron_parse(text, &c, &err) == 0)
			cron_next(&c, 1700000000, &next);
		else
			check(-1, &err);
	}
	free(text);
	return 0;
}
