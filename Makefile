# jepac -- one plain Makefile.  `make` builds build/bin/jepac and its tools;
# `make check` installs dependencies, builds and runs the tests (within ~6
# minutes); `make check-full` runs every test (CI);
# `make demo` installs dependencies, builds and runs the main flow.
CC       = gcc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
XCFLAGS  = -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -MMD -MP
# Include paths per folder, so that an include against the layers
# (tools -> frontend, passes, backends -> ir) does not build.
INC      = -Iir -Ifrontend -Ipasses -Ibackends
$(BUILD)/obj/ir/%.o:       INC = -Iir
$(BUILD)/obj/frontend/%.o: INC = -Ifrontend -Iir
$(BUILD)/obj/passes/%.o:   INC = -Ipasses -Iir
$(BUILD)/obj/backends/%.o: INC = -Ibackends -Iir
LDLIBS   = -lcjson -lm -pthread

# Library: every source of the compiler proper, one folder per layer.
LIBSRC  := $(sort $(wildcard ir/*.c frontend/*.c passes/*.c backends/*.c))
LIBOBJ  := $(LIBSRC:%.c=$(BUILD)/obj/%.o)
# Programs: tools/jepac.c is the driver; tools/NAME.c builds jepac-NAME.
TOOLSRC := $(sort $(wildcard tools/*.c))
PROGS   := $(patsubst tools/%.c,$(BUILD)/bin/jepac-%,$(filter-out tools/jepac.c,$(TOOLSRC))) \
           $(BUILD)/bin/jepac

all: $(PROGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) $(INC) $(CFLAGS) -c $< -o $@

$(BUILD)/libjepac.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/jepac: $(BUILD)/obj/tools/jepac.o $(BUILD)/libjepac.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bin/jepac-%: $(BUILD)/obj/tools/%.o $(BUILD)/libjepac.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

deps:
	@sh tools/deps.sh

check: deps
	@$(MAKE) --no-print-directory all
	@sh tools/check.sh $(BUILD)/bin

# Every test, including the ones marked "REQUIRES: check-full" (pusht-scale
# models, the largest simulations).  CI runs this.
check-full: deps
	@$(MAKE) --no-print-directory all
	@JEPAC_CHECK_FULL=1 sh tools/check.sh $(BUILD)/bin

# The same tests against an AddressSanitizer + UBSan build.  A sanitizer
# report aborts (abort_on_error), so `not jepac ...` cannot mistake it for
# the expected exit status 1.
check-sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build/san OPT=-O1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" all
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:abort_on_error=1 sh tools/check.sh build/san/bin

# A short AFL++ campaign on every input format (tools/fuzz/run.sh; installs
# afl++ and clang if missing).  FUZZ_TIME=seconds (default 300) in all.
fuzz:
	@sh tools/fuzz/run.sh

# Digit-serial designs on FPGA flows: iCE40 HX8K place and route (nextpnr),
# Xilinx synthesis counts (tools/fpga.sh; installs nextpnr-ice40 and
# fpga-icestorm when missing; not part of deps or check).
fpga: all
	@sh tools/fpga.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tools/demo.sh $(BUILD)/bin

clean:
	rm -rf build

.PHONY: all deps check check-full check-sanitize demo fuzz fpga clean
-include $(LIBOBJ:.o=.d) $(TOOLSRC:%.c=$(BUILD)/obj/%.d)
