# mldeck: one binary, three faces. `make`, `make test`, `make sanitize`.

CC      ?= cc
PKGS    := ncursesw libcurl libcjson inih libmicrohttpd xgboost libcrypto sqlite3 yaml-0.1
# ncursesw's pkg-config asks for _XOPEN_SOURCE=600; we need 700 (STYLE.md).
PKG_CFLAGS := $(filter-out -D_XOPEN_SOURCE=%,$(shell pkg-config --cflags $(PKGS)))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread -lm

WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wwrite-strings
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE $(WARN) -MMD -MP -I. $(PKG_CFLAGS)
ifeq ($(WERROR),1)
override CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

BUILD   ?= build
LIB_SRC := $(wildcard state/*.c api/*.c runtime/*.c runtime/engines/*.c runtime/monitor/*.c \
                      ui/cli/*.c ui/console/*.c ui/console/screens/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/ui/main.o
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Small programs the end-to-end tests drive (e.g. the statistics against SciPy).
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)

all: mldeck

# By rename, so a running ./mldeck (a console, a server) never blocks the update.
mldeck: $(BUILD)/mldeck
	cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/mldeck: $(MAIN_OBJ) $(BUILD)/libmldeck.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/libmldeck.a: $(LIB_OBJ)
	@rm -f $@
	@echo "AR $@"; ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# python.c embeds the worker script with .incbin: rebuild it when the script changes.
$(BUILD)/runtime/engines/python.o: runtime/worker/mldeck_worker.py
$(BUILD)/runtime/engines/mlflow.o: runtime/worker/mlflow_score.py

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmldeck.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmldeck.a $(PKG_LIBS) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libmldeck.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmldeck.a $(PKG_LIBS)

# Models trained here that the native XGBoost evaluator must match bit for bit
# (tests/unit/test_xgb_native.c); shared by the plain and the sanitizer builds.
XGB_MODELS := $(CURDIR)/build/xgb-exact
$(XGB_MODELS)/.stamp: tests/data/make_exact_models.py
	@rm -rf $(XGB_MODELS) && mkdir -p $(XGB_MODELS)
	@echo "TRAIN $(XGB_MODELS)"; /usr/bin/python3 $< $(XGB_MODELS) >$(XGB_MODELS)/train.log 2>&1 \
	  || { cat $(XGB_MODELS)/train.log; exit 1; }
	@touch $@

# The evaluator micro-benchmark (bench/xgbbench.c; bench/README.md).
$(BUILD)/bench/xgbbench: bench/xgbbench.c bench/benchlib.c $(BUILD)/libmldeck.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/bench/numbench: bench/numbench.c bench/benchlib.c $(BUILD)/libmldeck.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Live drift's cost through its API, for bench/monitor.py.
$(BUILD)/bench/driftbench: bench/driftbench.c bench/benchlib.c $(BUILD)/libmldeck.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The HTTP floor under the runtime's scoring, for bench/scoring.py --floor.
$(BUILD)/bench/httpfloor: bench/httpfloor.c $(BUILD)/libmldeck.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench-xgb: $(BUILD)/bench/xgbbench
bench-num: $(BUILD)/bench/numbench
bench-drift: $(BUILD)/bench/driftbench
bench-floor: $(BUILD)/bench/httpfloor

unit: $(TEST_BIN) $(XGB_MODELS)/.stamp
	@python3=/usr/bin/python3; fail=0; for t in $(TEST_BIN); do \
	  echo "== $$t"; MLDECK_SRC=$(CURDIR) MLDECK_XGB_MODELS=$(XGB_MODELS) $$t || fail=1; \
	done; exit $$fail

e2e: mldeck $(TOOL_BIN)
	MLDECK_BIN=$(CURDIR)/mldeck MLDECK_TOOLS=$(CURDIR)/$(BUILD)/tools \
	  /usr/bin/python3 -m pytest -q tests/e2e

test: unit e2e

# The whole suite again under ASan + UBSan, in its own build tree.
sanitize:
	$(MAKE) BUILD=build-san SANITIZE=1 CFLAGS="-O1 -g" unit
	$(MAKE) BUILD=build-san SANITIZE=1 CFLAGS="-O1 -g" build-san/mldeck \
	  $(TOOL_SRC:tests/tools/%.c=build-san/tools/%)
	MLDECK_BIN=$(CURDIR)/build-san/mldeck MLDECK_TOOLS=$(CURDIR)/build-san/tools \
	  ASAN_OPTIONS=detect_leaks=1 \
	  /usr/bin/python3 -m pytest -q tests/e2e

clean:
	rm -rf build build-san build-fuzz mldeck

.PHONY: all mldeck unit e2e test sanitize clean bench-xgb bench-num bench-drift bench-floor
-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)

# Coverage-guided fuzzing (clang + libFuzzer, with ASan + UBSan) of every parser
# that faces the network or a file. A target is one file, tests/fuzz/fuzz_NAME.c,
# linked against the whole library built for fuzzing; its seed corpus is
# tests/fuzz/corpus/NAME/ (kept in the repository). Each runs FUZZ_SECONDS.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS := -g -O1 -MMD -MP -fsanitize=address,undefined -fno-sanitize-recover=undefined \
              -std=c11 -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE -I. $(PKG_CFLAGS)
FUZZ_OBJ := $(LIB_SRC:%.c=build-fuzz/%.o)

build-fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build-fuzz/runtime/engines/python.o: runtime/worker/mldeck_worker.py

build-fuzz/libmldeck.a: $(FUZZ_OBJ)
	@rm -f $@
	@echo "AR $@"; ar rcs $@ $^

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libmldeck.a
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< build-fuzz/libmldeck.a $(PKG_LIBS)

fuzz: $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)
	@for f in $(FUZZ_TARGETS); do \
	  rm -rf build-fuzz/corpus-$$f && mkdir -p build-fuzz/corpus-$$f && \
	  { [ ! -d tests/fuzz/corpus/$$f ] || cp -r tests/fuzz/corpus/$$f/. build-fuzz/corpus-$$f/; } && \
	  echo "== fuzz_$$f for $(FUZZ_SECONDS)s" && \
	  build-fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	    -print_final_stats=1 build-fuzz/corpus-$$f 2>build-fuzz/fuzz_$$f.log || \
	    { tail -40 build-fuzz/fuzz_$$f.log; exit 1; }; \
	  grep -E "stat::number_of_executed_units|Done" build-fuzz/fuzz_$$f.log | tail -2; \
	done

.PHONY: fuzz
-include $(FUZZ_OBJ:.o=.d)
