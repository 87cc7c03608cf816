/**
 * The Python side of the Pyodide sandbox, installed once per interpreter.
 *
 * Lockdown (at install):
 * - the JS bridge is cut: every Pyodide module leaves `sys.modules`, JS proxies are
 *   scrubbed from all module globals, and an import hook refuses `js`, `pyodide*`,
 *   sockets, subprocesses, ctypes and `gc`;
 * - `sys.settrace` / `setprofile` / `monitoring` are removed (they could skip a test's
 *   asserts), and `os._exit` / `os.abort` raise `SystemExit` instead of killing the
 *   interpreter;
 * - a snapshot of every module's globals, of `builtins` and of the writable file
 *   system is taken.
 *
 * Per task (`__warmup_run`): the program runs in fresh globals; then every module is
 * restored to the snapshot *before* the tests run, so a program that patched
 * `builtins.abs` or `math.isclose` cannot fake a pass; results must be plain built-in
 * values (an object with a rigged `__eq__` fails); afterwards everything is restored
 * again, files written are removed, and the RNG is reseeded, so no state leaks to the
 * next task.
 */
export const PYTHON_HARNESS = String.raw`
import builtins as _b, sys as _sys, os as _os, types as _types, random as _random, operator as _operator, opcode as _opcode

def __warmup_install():
    blocked = ('js', 'pyodide', '_pyodide', 'pyodide_js', '_pyodide_core', 'micropip', 'socket', '_socket',
               'ssl', '_ssl', 'select', 'selectors', 'subprocess', '_posixsubprocess', 'multiprocessing',
               'ctypes', '_ctypes', 'gc', 'asyncio', '_asyncio', 'pyodide_http', 'pty', 'tty', 'termios', 'resource')
    # Warm the modules programs commonly use, so they are part of the snapshot (others
    # load per task and are dropped after it). Every module here adds to the per-task
    # restore check, so heavy rarely-used ones (inspect, dataclasses) are left out.
    for name in ('re', 'math', 'cmath', 'collections', 'collections.abc', 'itertools', 'functools', 'heapq', 'bisect',
                 'string', 'typing', 'statistics', 'fractions', 'decimal', 'hashlib', 'datetime', 'json', 'copy',
                 'operator', 'array', 'numbers', 'enum', 'struct', 'io'):
        try:
            __import__(name)
        except Exception:
            pass
    def is_proxy(v):
        t = type(v)
        return t.__module__ in ('pyodide.ffi', '_pyodide_core') or t.__name__.startswith('Js')
    for name, mod in list(_sys.modules.items()):
        d = getattr(mod, '__dict__', None)
        if not isinstance(d, dict):
            continue
        for k, v in list(d.items()):
            if is_proxy(v) or (isinstance(v, _types.ModuleType) and v.__name__.split('.')[0] in ('js', 'pyodide_js')):
                del d[k]
    for name in list(_sys.modules):
        if name.split('.')[0] in blocked:
            del _sys.modules[name]

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] in blocked:
                raise ImportError(f"import of {name!r} is not allowed in the sandbox")
            return None
    _sys.meta_path.insert(0, Blocker())

    # Deep Python recursion overflows the worker's JS stack (a fatal error) somewhere
    # past 20,000 frames here, so the limit is clamped well below that.
    set_limit = _sys.setrecursionlimit
    def setrecursionlimit(limit):
        set_limit(min(int(limit), 10000))
    _sys.setrecursionlimit = setrecursionlimit

    for attr in ('settrace', 'setprofile', 'monitoring', '_current_frames', 'call_tracing', 'remote_exec'):
        if hasattr(_sys, attr):
            delattr(_sys, attr)
    def no_exit(*args, **kwargs):
        raise SystemExit('process exit is not allowed in the sandbox')
    def no_process(*args, **kwargs):
        raise PermissionError('starting or signalling processes is not allowed in the sandbox')
    for mod in (_os, _sys.modules.get('posix')):
        if mod is not None:
            for attr in ('_exit', 'abort'):
                if hasattr(mod, attr):
                    setattr(mod, attr, no_exit)
            for attr in ('kill', 'killpg', 'fork', 'forkpty', 'system', 'execv', 'execve', 'spawnv', 'spawnve', 'popen', 'posix_spawn', 'posix_spawnp'):
                if hasattr(mod, attr):
                    setattr(mod, attr, no_process)

    snapshot = {name: dict(mod.__dict__) for name, mod in _sys.modules.items() if isinstance(getattr(mod, '__dict__', None), dict)}
    # Keys and values in order, for identity comparison at C speed.
    frozen = {name: (tuple(d), tuple(d.values())) for name, d in snapshot.items()}
    module_names = set(_sys.modules)
    modules = {name: mod for name, mod in _sys.modules.items() if name in snapshot}
    pristine_builtins = dict(_b.__dict__)
    writable = ('/tmp', '/home')
    def list_files():
        found = set()
        for top in writable:
            for root, dirs, files in _os.walk(top):
                found.add(root)
                for f in files:
                    found.add(_os.path.join(root, f))
        return found
    files_before = list_files()
    _os.makedirs('/home/pyodide', exist_ok=True)
    recursion_limit = _sys.getrecursionlimit()
    plain = (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset)

    is_ = _operator.is_
    def changed(d, keys, values):
        # Identity, not ==: a planted object's __eq__ must never run here.
        return len(d) != len(keys) or not all(map(is_, d.values(), values)) or not all(map(is_, d, keys))

    from itertools import chain as _chain
    names = list(snapshot)
    dicts = [modules[n].__dict__ for n in names]
    lens = [len(snapshot[n]) for n in names]
    flat_keys = tuple(_chain.from_iterable(frozen[n][0] for n in names))
    flat_values = tuple(_chain.from_iterable(frozen[n][1] for n in names))
    module_objs = tuple(_sys.modules.values())
    sys_dict = _sys.__dict__

    def restore_modules():
        # Fast path, all in C: nothing changed anywhere.
        if (len(_sys.modules) == len(module_objs) and all(map(is_, _sys.modules.values(), module_objs))
                and list(map(len, dicts)) == lens
                and all(map(is_, _chain.from_iterable(map(dict.values, dicts)), flat_values))
                and all(map(is_, _chain.from_iterable(dicts), flat_keys))):
            return
        if changed(sys_dict, *frozen['sys']):
            sys_dict.clear()
            sys_dict.update(snapshot['sys'])
        for name in list(_sys.modules):
            if name not in module_names:
                del _sys.modules[name]
        for name, mod in modules.items():
            if _sys.modules.get(name) is not mod:
                _sys.modules[name] = mod
        for name, d in zip(names, dicts):
            if changed(d, *frozen[name]):
                d.clear()
                d.update(snapshot[name])

    def code_names(code, out):
        out.update(code.co_names)
        for c in code.co_consts:
            if isinstance(c, _types.CodeType):
                code_names(c, out)
        return out

    def restore_for(test_code):
        # Before the tests run: restore the modules the tests name (a program that
        # patched math.isclose must not fake a pass). The full restore runs after the task.
        for name in code_names(test_code, set()):
            for mod_name in (name, f'os.{name}'):
                saved = snapshot.get(mod_name)
                if saved is not None:
                    d = modules[mod_name].__dict__
                    if changed(d, *frozen[mod_name]):
                        d.clear()
                        d.update(saved)
            if _sys.modules.get(name) is not modules.get(name, _sys.modules.get(name)):
                _sys.modules[name] = modules[name]

    # Which code can change module state. Checking every module's globals costs ~1 ms a
    # task, most of the time of a small check, so it runs only for code that could
    # have changed them: code that stores or deletes an attribute, or names a way to
    # reach a namespace (sys, builtins, __dict__, setattr, exec, …).
    store_attr = bytes([_opcode.opmap['STORE_ATTR']])
    delete_attr = bytes([_opcode.opmap['DELETE_ATTR']])
    # Ways to obtain a namespace dict or to set an attribute without STORE_ATTR.
    dangerous = frozenset((
        'sys', 'builtins', '__builtins__', 'importlib', '__import__', 'modules', '__dict__', '__globals__',
        '__closure__', '__code__', '__setattr__', '__delattr__', '__getattribute__', 'setattr', 'delattr',
        'getattr', 'attrgetter', 'methodcaller', 'setitem', 'vars', 'globals', 'locals', 'exec', 'eval', 'compile',
        '__loader__', '__spec__', '__reduce__', '__reduce_ex__', 'pickle', '_pickle', 'copyreg', 'marshal', 'shelve',
        'environ', 'putenv', 'unsetenv', 'register', 'setcontext', 'setlocale', 'filterwarnings', 'simplefilter',
        'reload', 'settrace', 'setprofile', '__subclasses__',
    ))

    def may_change_modules(*codes):
        stack = list(codes)
        while stack:
            c = stack.pop()
            ops = c.co_code[::2]
            if store_attr in ops or delete_attr in ops or not dangerous.isdisjoint(c.co_names):
                return True
            stack.extend(k for k in c.co_consts if isinstance(k, _types.CodeType))
        return False

    environ_saved = dict(_os.environ)
    cwd_saved = '/home/pyodide'

    def reset(full=True):
        if full:
            restore_modules()
        elif len(_sys.modules) != len(module_objs):
            # Modules the task imported for the first time: dropped, to load fresh next time.
            for name in list(_sys.modules):
                if name not in module_names:
                    del _sys.modules[name]
        if dict(_os.environ) != environ_saved:
            _os.environ.clear()
            _os.environ.update(environ_saved)
        _sys.setrecursionlimit(recursion_limit)
        for path in sorted(list_files() - files_before, key=len, reverse=True):
            try:
                if _os.path.isdir(path):
                    _os.rmdir(path)
                else:
                    _os.remove(path)
            except OSError:
                pass
        _os.chdir(cwd_saved)
        _random.seed(0)

    def check_plain(value, depth=0):
        if depth > 50:
            raise AssertionError('result nests too deeply')
        t = type(value)
        if t not in plain:
            raise AssertionError(f'result of type {t.__name__} is not a plain built-in value')
        if t in (list, tuple, set, frozenset):
            for x in value:
                check_plain(x, depth + 1)
        elif t is dict:
            for k, v in value.items():
                check_plain(k, depth + 1)
                check_plain(v, depth + 1)

    def guard(fn):
        def candidate(*args, **kwargs):
            result = fn(*args, **kwargs)
            check_plain(result)
            return result
        return candidate

    def fresh_globals(name):
        return {'__name__': name, '__builtins__': dict(pristine_builtins)}

    builtin_names = frozenset(pristine_builtins)

    def user_phase(program_code, test_code, entry_point, dirty):
        try:
            g = fresh_globals('__main__')
            exec(program_code, g)
            candidate = g.get(entry_point) if entry_point else None
            if entry_point and not callable(candidate):
                return ('error', f'the program defines no function {entry_point!r}')
            if dirty:
                restore_for(test_code)
            # The tests see the program's own definitions (HumanEval tests call helpers
            # from the prompt), but never a name that would shadow a built-in.
            tg = {k: v for k, v in g.items() if k not in builtin_names}
            tg.update(fresh_globals('__test__'))
            exec(test_code, tg)
            if entry_point:
                check = tg.get('check')
                if not callable(check):
                    return ('error', 'the test defines no check(candidate) function')
                check(guard(candidate))
            return ('passed', '')
        except AssertionError as e:
            return ('failed', f'AssertionError: {e}'[:500])
        except KeyboardInterrupt:
            return ('timeout', 'interrupted at the time limit')
        except MemoryError:
            return ('memory', 'MemoryError: the memory limit was reached')
        except SystemExit as e:
            return ('exited', f'SystemExit: {e}'[:500])
        except BaseException as e:
            return ('failed', f'{type(e).__name__}: {e}'[:500])

    def run(program, test, entry_point):
        """Returns (status, detail): passed | failed | error | exited | timeout | memory."""
        dirty = True
        try:
            try:
                program_code = compile(program, '<program>', 'exec')
                test_code = compile(test, '<test>', 'exec')
            except SyntaxError as e:
                return ('error', f'SyntaxError: {e}'[:500])
            except (MemoryError, RecursionError) as e:
                return ('error', f'{type(e).__name__} while compiling'[:500])
            dirty = may_change_modules(program_code, test_code)
            result = user_phase(program_code, test_code, entry_point, dirty)
        except KeyboardInterrupt:
            # The deadline can land between the user's code and our handlers.
            result = ('timeout', 'interrupted at the time limit')
        finally:
            pass
        # The deadline interrupt fires once; if it lands here, reset again.
        for _ in range(3):
            try:
                reset(dirty)
                break
            except KeyboardInterrupt:
                result = ('timeout', 'interrupted at the time limit') if result[0] == 'passed' else result
        return result

    return run

__warmup_run = __warmup_install()
__warmup_run.__globals__  # (kept alive from JS)
del __warmup_install
`;
