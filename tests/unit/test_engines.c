/* test_engines.c: the in-process engines against Python's answers (tests/data). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "runtime/engines/engine.h"
#include "runtime/engines/input.h"

#define TOLERANCE 1e-5

static void data_path(char *buf, size_t size, const char *name)
{
	const char *src = getenv("MLDECK_SRC");

	snprintf(buf, size, "%s/tests/data/%s", src != NULL ? src : ".", name);
}

static char *slurp(const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	long n;
	char *buf;

	data_path(path, sizeof path, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static struct engine *load(enum model_type type, const char *file, struct error *err)
{
	char path[1024];
	struct engine_config cfg = {0};

	data_path(path, sizeof path, file);
	cfg.type = type;
	cfg.model_path = path;
	error_clear(err);
	return engine_load(&cfg, err);
}

static struct engine *load_ok(enum model_type type, const char *file)
{
	struct error err;
	struct engine *e = load(type, file, &err);

	if (e == NULL)
		fail_msg("loading %s: %d %s %s", file, err.status, err.code, err.message);
	return e;
}

static void score(struct engine *e, const char *body, size_t len, struct engine_result *out)
{
	struct engine_request req = {body, len, NULL, "test"};

	memset(out, 0, sizeof *out);
	assert_int_equal(engine_score(e, &req, out), 0);
	assert_non_null(out->body);
	assert_int_equal(strlen(out->body), out->len);
}

/* Every prediction in `got` equals `want` (numbers or arrays) within TOLERANCE. */
static int same_predictions(const cJSON *got, const cJSON *want)
{
	const cJSON *g, *w = want->child;

	if (cJSON_GetArraySize(got) != cJSON_GetArraySize(want))
		return 0;
	cJSON_ArrayForEach(g, got)
	{
		if (cJSON_IsArray(w) != cJSON_IsArray(g))
			return 0;
		if (cJSON_IsArray(w) && !same_predictions(g, w))
			return 0;
		if (cJSON_IsNumber(w) &&
		    (!cJSON_IsNumber(g) || fabs(g->valuedouble - w->valuedouble) > TOLERANCE))
			return 0;
		w = w->next;
	}
	return 1;
}

static void check_case(enum model_type type, const char *model, const char *name, int features)
{
	char file[256];
	size_t len;
	char *input, *expected;
	struct engine_result out;
	struct engine *e = load_ok(type, model);
	cJSON *got, *want;

	assert_int_equal(engine_features(e), features);
	snprintf(file, sizeof file, "%s.input.json", name);
	input = slurp(file, &len);
	snprintf(file, sizeof file, "%s.expected.json", name);
	expected = slurp(file, NULL);
	score(e, input, len, &out);
	assert_int_equal(out.status, 200);
	got = cJSON_Parse(out.body);
	want = cJSON_Parse(expected);
	assert_non_null(got);
	assert_non_null(want);
	assert_int_equal(cJSON_GetArraySize(got), 50);
	if (!same_predictions(got, want))
		fail_msg("%s: predictions differ from Python's\n got %.300s\nwant %.300s", model,
			 out.body, expected);
	cJSON_Delete(got);
	cJSON_Delete(want);
	free(out.body);
	free(input);
	free(expected);
	engine_free(e);
}

static void test_logistic(void **state)
{
	(void)state;
	check_case(MODEL_LINEAR, "logistic.json", "logistic", 30);
}

static void test_softmax(void **state)
{
	(void)state;
	check_case(MODEL_LINEAR, "softmax.json", "softmax", 10);
}

static void test_mlp_digits(void **state)
{
	(void)state;
	check_case(MODEL_MLP, "mlp_digits.json", "mlp_digits", 64);
}

static void test_xgb_binary_json(void **state)
{
	(void)state;
	check_case(MODEL_XGBOOST, "xgb_binary.json", "xgb_binary", 30);
}

static void test_xgb_binary_ubj(void **state)
{
	(void)state;
	check_case(MODEL_XGBOOST, "xgb_binary.ubj", "xgb_binary", 30);
}

static void test_xgb_regression(void **state)
{
	(void)state;
	check_case(MODEL_XGBOOST, "xgb_regression.json", "xgb_regression", 10);
}

static void test_xgb_multi(void **state)
{
	(void)state;
	check_case(MODEL_XGBOOST, "xgb_multi.json", "xgb_multi", 10);
}

/* Scores body and checks the status and that the error message contains `needle`. */
static void expect_error(struct engine *e, const char *body, int status, const char *needle)
{
	struct engine_result out;
	cJSON *root, *error, *message, *code;

	score(e, body, strlen(body), &out);
	assert_int_equal(out.status, status);
	root = cJSON_Parse(out.body);
	assert_non_null(root);
	error = cJSON_GetObjectItemCaseSensitive(root, "error");
	code = cJSON_GetObjectItemCaseSensitive(error, "code");
	message = cJSON_GetObjectItemCaseSensitive(error, "message");
	assert_true(cJSON_IsString(code));
	assert_true(cJSON_IsString(message));
	if (strstr(message->valuestring, needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", message->valuestring, needle);
	cJSON_Delete(root);
	free(out.body);
}

static void test_bad_input(void **state)
{
	struct engine *e = load_ok(MODEL_LINEAR, "softmax.json");

	(void)state;
	expect_error(e, "{\"data\": [[1,2,3,4,5,6,7,8,9]]}", 400,
		     "row 0 has 9 features, the model expects 10");
	expect_error(e, "{\"data\": [[1,2,3,4,5,6,7,8,9,10],[1,2,3,4,5,6,7,8,9,10,11]]}", 400,
		     "row 1 has 11 features, the model expects 10");
	expect_error(e, "{\"data\": [[1,2,3,4,\"x\",6,7,8,9,10]]}", 400,
		     "row 0 column 4 is not a number");
	expect_error(e, "{\"data\": [[1,2,3,4,null,6,7,8,9,10]]}", 400,
		     "row 0 column 4 is not a number");
	expect_error(e, "{\"data\": 5}", 400, "data must be an array of rows");
	expect_error(e, "{\"data\": [5]}", 400, "row 0 must be an array of numbers");
	expect_error(e, "{\"data\": []}", 400, "data has no rows");
	expect_error(e, "{\"rows\": []}", 400, "no \"data\" field");
	expect_error(e, "[1,2]", 400, "JSON object");
	expect_error(e, "{\"data\": [[1,2,3,4,5,6,7,8,9,10]]", 400, "not valid JSON");
	expect_error(e, "{\"data\": [[1,2,3,4,5,6,7,8,9,10]]} x", 400, "unexpected text");
	expect_error(e, "{\"data\": [[1,2,3,4,5,6,7,8,9,1e999]]}", 400, "not a finite number");
	expect_error(e, "{\"data\": [[01,2,3,4,5,6,7,8,9,10]]}", 400, "");
	engine_free(e);
}

static void test_other_keys_and_whitespace(void **state)
{
	static const char body[] =
	    " {\"meta\": {\"a\": [1, {\"b\": \"x\\\"]\"}], \"c\": true},\n"
	    "  \"data\" : [ [ 1 , 2.5e0 , -3 , 0.25 , 5E-1 , 6 , 7 , 8 , 9 , "
	    "10 ] ] , \"z\": null } ";
	struct engine *e = load_ok(MODEL_LINEAR, "softmax.json");
	struct engine_result out;
	cJSON *root;

	(void)state;
	score(e, body, strlen(body), &out);
	assert_int_equal(out.status, 200);
	root = cJSON_Parse(out.body);
	assert_int_equal(cJSON_GetArraySize(root), 1);
	assert_int_equal(cJSON_GetArraySize(root->child), 3);
	cJSON_Delete(root);
	free(out.body);
	engine_free(e);
}

/* Azure's MLflow input shapes read as {"data": ...} (the rows are positional). */
static void test_mlflow_input_data(void **state)
{
	static const char *const bodies[] = {
	    "{\"input_data\": [[1,2,3,4,5,6,7,8,9,10]]}",
	    "{\"input_data\": {\"columns\": [\"a\",\"b\"], \"index\": [0], "
	    "\"data\": [[1,2,3,4,5,6,7,8,9,10]]}}",
	    "{\"params\": {}, \"input_data\": {\"data\": [[1,2,3,4,5,6,7,8,9,10]], "
	    "\"columns\": []}}",
	};
	struct engine *e = load_ok(MODEL_LINEAR, "softmax.json");
	struct engine_result out;

	(void)state;
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		score(e, bodies[i], strlen(bodies[i]), &out);
		if (out.status != 200)
			fail_msg("%s: %d %s", bodies[i], out.status, out.body);
		free(out.body);
	}
	expect_error(e, "{\"input_data\": 5}", 400, "input_data must be an array of rows");
	expect_error(e, "{\"input_data\": {\"columns\": []}}", 400, "no \"data\" field");
	expect_error(e, "{\"x\": {\"input_data\": [[1]]}}", 400, "no \"data\" field");
	engine_free(e);
}

static void test_xgb_missing_values(void **state)
{
	struct engine *e = load_ok(MODEL_XGBOOST, "xgb_regression.json");
	struct engine_result out;
	static const char body[] = "{\"data\": [[null,1,2,3,4,5,6,7,8,9]]}";

	(void)state;
	score(e, body, strlen(body), &out);
	assert_int_equal(out.status, 200);
	free(out.body);
	engine_free(e);
}

static void expect_load_error(enum model_type type, const char *file, const char *needle)
{
	struct error err;
	struct engine *e = load(type, file, &err);

	assert_null(e);
	assert_int_equal(err.status, 400);
	assert_string_equal(err.code, "ModelLoadError");
	if (strstr(err.message, needle) == NULL)
		fail_msg("load error \"%s\" lacks \"%s\"", err.message, needle);
}

static void test_load_errors(void **state)
{
	(void)state;
	expect_load_error(MODEL_LINEAR, "no-such-file.json", "cannot open");
	expect_load_error(MODEL_XGBOOST, "no-such-file.json", "cannot open");
	expect_load_error(MODEL_LINEAR, "xgb_binary.ubj", "not valid JSON");
	expect_load_error(MODEL_LINEAR, "xgb_binary.json", "coefficients");
	expect_load_error(MODEL_MLP, "logistic.json", "layers");
	expect_load_error(MODEL_XGBOOST, "logistic.json", "not an XGBoost");
	expect_load_error(MODEL_XGBOOST, "make_models.py", "not an XGBoost");
}

/* A model written to a temp file, for malformed-shape cases. */
static void expect_text_load_error(enum model_type type, const char *text, const char *needle)
{
	char path[] = "/tmp/mldeck-test-model-XXXXXX";
	int fd = mkstemp(path);
	struct engine_config cfg = {0};
	struct error err;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cfg.type = type;
	cfg.model_path = path;
	error_clear(&err);
	assert_null(engine_load(&cfg, &err));
	unlink(path);
	assert_int_equal(err.status, 400);
	if (strstr(err.message, needle) == NULL)
		fail_msg("load error \"%s\" lacks \"%s\"", err.message, needle);
}

static void test_malformed_models(void **state)
{
	(void)state;
	expect_text_load_error(MODEL_LINEAR,
			       "{\"coefficients\": [[1,2],[3]], \"link\": \"softmax\"}",
			       "coefficients[1]");
	expect_text_load_error(MODEL_LINEAR, "{\"coefficients\": [1,2], \"link\": \"probit\"}",
			       "unknown link");
	expect_text_load_error(MODEL_LINEAR, "{\"coefficients\": [1,2], \"link\": \"softmax\"}",
			       "softmax");
	expect_text_load_error(MODEL_LINEAR, "{\"coefficients\": [1,2], \"intercept\": [1,2]}",
			       "intercept");
	expect_text_load_error(MODEL_MLP,
			       "{\"layers\": [{\"weights\": [[1,2]], \"biases\": [0,0], "
			       "\"activation\": \"relu\"}, {\"weights\": [[1]], \"biases\": [0], "
			       "\"activation\": \"identity\"}]}",
			       "layers[1] has 1 inputs");
	expect_text_load_error(MODEL_MLP,
			       "{\"layers\": [{\"weights\": [[1]], \"biases\": [0], "
			       "\"activation\": \"swish\"}]}",
			       "activation");
	expect_text_load_error(MODEL_MLP, "", "empty");
}

static void test_identity_linear(void **state)
{
	char path[] = "/tmp/mldeck-test-model-XXXXXX";
	static const char model[] = "{\"coefficients\": [2, -1], \"intercept\": 0.5}";
	static const char body[] = "{\"data\": [[1, 1], [0.1, 0.2], [3, 0]]}";
	int fd = mkstemp(path);
	struct engine_config cfg = {0};
	struct engine_result out;
	struct error err;
	struct engine *e;

	(void)state;
	assert_int_equal(write(fd, model, strlen(model)), (ssize_t)strlen(model));
	close(fd);
	cfg.type = MODEL_LINEAR;
	cfg.model_path = path;
	e = engine_load(&cfg, &err);
	unlink(path);
	assert_non_null(e);
	score(e, body, strlen(body), &out);
	assert_int_equal(out.status, 200);
	assert_string_equal(out.body, "[1.5,0.5,6.5]");
	free(out.body);
	assert_int_equal(engine_resize(e, 4, &err), 0);
	engine_free(e);
	engine_free(NULL);
}

static void test_numbers(void **state)
{
	static const char *const cases[] = {"0",
					    "-0.0",
					    "1.5",
					    "123456789012345678",
					    "1e22",
					    "1e23",
					    "-2.5E-3",
					    "0.30000000000000004",
					    "1e-400",
					    "4.9e-324",
					    "123.456e-5",
					    "0.1234567890123456789",
					    "9007199254740993"};
	double v;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(input_number(cases[i], strlen(cases[i]), &v), strlen(cases[i]));
		if (v != strtod(cases[i], NULL))
			fail_msg("%s read as %.17g", cases[i], v);
	}
	assert_int_equal(input_number("-", 1, &v), 0);
	assert_int_equal(input_number("1.", 2, &v), 0);
	assert_int_equal(input_number(".5", 2, &v), 0);
	assert_int_equal(input_number("1e", 2, &v), 0);
	assert_int_equal(input_number("12", 1, &v), 1);
}

struct worker {
	struct engine *e;
	const char *body;
	size_t len;
	const char *want;
	int ok;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct engine_request req = {w->body, w->len, NULL, "t"};

	w->ok = 1;
	for (int i = 0; i < 50; i++) {
		struct engine_result out = {0};

		if (engine_score(w->e, &req, &out) != 0 || out.status != 200 ||
		    strcmp(out.body, w->want) != 0)
			w->ok = 0;
		free(out.body);
	}
	return NULL;
}

/* One booster shared by several threads gives the same answers as one thread. */
/* engine_predict on the rows of NAME.input.json gives exactly what
 * engine_score answers for them. */
static void check_batch(enum model_type type, const char *model, const char *name)
{
	char file[256];
	size_t len, k = 0;
	int outputs;
	char *input;
	struct engine *e = load_ok(type, model);
	struct engine_result res;
	struct input_matrix m;
	struct error err;
	double *pred;
	cJSON *answer, *row;

	snprintf(file, sizeof file, "%s.input.json", name);
	input = slurp(file, &len);
	input_init(&m);
	assert_int_equal(input_parse(input, len, engine_features(e), INPUT_ALLOW_NULL, &m, &err), 0);
	outputs = engine_outputs(e);
	assert_true(outputs >= 1);
	assert_int_equal(engine_takes_missing(e), type == MODEL_XGBOOST);
	pred = malloc(m.rows * (size_t)outputs * sizeof *pred);
	assert_int_equal(engine_predict(e, &m, pred, &err), 0);
	score(e, input, len, &res);
	answer = cJSON_Parse(res.body);
	cJSON_ArrayForEach(row, answer)
	{
		const cJSON *v = cJSON_IsArray(row) ? row->child : row;

		for (; v != NULL; v = cJSON_IsArray(row) ? v->next : NULL)
			assert_true(pred[k++] == v->valuedouble);
	}
	assert_int_equal(k, m.rows * (size_t)outputs);
	cJSON_Delete(answer);
	free(res.body);
	free(pred);
	input_cleanup(&m);
	free(input);
	engine_free(e);
}

static void test_batch_api(void **state)
{
	(void)state;
	check_batch(MODEL_LINEAR, "logistic.json", "logistic");
	check_batch(MODEL_LINEAR, "softmax.json", "softmax");
	check_batch(MODEL_MLP, "mlp_digits.json", "mlp_digits");
	check_batch(MODEL_XGBOOST, "xgb_binary.json", "xgb_binary");
	check_batch(MODEL_XGBOOST, "xgb_multi.json", "xgb_multi");
}

static void test_xgb_concurrent(void **state)
{
	struct engine *e = load_ok(MODEL_XGBOOST, "xgb_multi.json");
	struct worker w[4];
	pthread_t t[4];
	struct engine_result ref;
	size_t len;
	char *input = slurp("xgb_multi.input.json", &len);

	(void)state;
	score(e, input, len, &ref);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){e, input, len, ref.body, 0};
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_true(w[i].ok);
	}
	free(ref.body);
	free(input);
	engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_logistic),
	    cmocka_unit_test(test_softmax),
	    cmocka_unit_test(test_mlp_digits),
	    cmocka_unit_test(test_xgb_binary_json),
	    cmocka_unit_test(test_xgb_binary_ubj),
	    cmocka_unit_test(test_xgb_regression),
	    cmocka_unit_test(test_xgb_multi),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_other_keys_and_whitespace),
	    cmocka_unit_test(test_mlflow_input_data),
	    cmocka_unit_test(test_xgb_missing_values),
	    cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_malformed_models),
	    cmocka_unit_test(test_identity_linear),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_xgb_concurrent),
	    cmocka_unit_test(test_batch_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
