# lit configuration for jepac's tests.  One folder per pass, frontend and
# backend; inputs shared between tests live in Inputs/ folders.
import os
import lit.formats

config.name = 'jepac'
config.test_format = lit.formats.ShTest(True)
config.suffixes = ['.test']
config.test_source_root = os.path.dirname(__file__)
top = os.path.dirname(config.test_source_root)
config.excludes = ['Inputs']
config.test_exec_root = os.path.join(os.path.dirname(os.environ.get('JEPAC_BIN', os.path.join(top, 'build', 'bin'))), 'test')

bindir = os.environ.get('JEPAC_BIN', os.path.join(top, 'build', 'bin'))
llvmbin = '/usr/lib/llvm-14/bin'
config.environment['PATH'] = os.pathsep.join(
    [bindir, os.path.join(top, 'tools'), llvmbin, config.environment.get('PATH', os.environ['PATH'])])
for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'HOME', 'CI'):
    if k in os.environ:
        config.environment[k] = os.environ[k]
# Tests marked "REQUIRES: check-full" (pusht-scale models, the largest
# simulations) run only under `make check-full` (which CI runs), so that
# `make check` stays within about six minutes.
if os.environ.get('JEPAC_CHECK_FULL') == '1':
    config.available_features.add('check-full')
config.substitutions.append(('%python', '/usr/bin/python3'))
config.substitutions.append(('%top', top))
config.substitutions.append(('%bin', bindir))
