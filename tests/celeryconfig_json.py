#!/usr/bin/python3
"""Evaluates a celeryconfig.py with Python itself and prints the names it sets
as one JSON object, in the form verdi's own reader gives them
(verdi/cli/python_config.h), so that a test can compare the two:

- tuples are lists, sets sorted lists, datetime.timedelta its seconds;
- dict keys as json.dumps writes them;
- kombu's Queue(...) and Exchange(...) {"__kombu__": "Queue", ...} with the
  arguments given, positional ones under their names (stand-ins with kombu's
  own signatures record them; the real kombu must be importable and must
  have those signatures);
- modules, functions, classes, `from __future__` names and dunder names
  are left out.

Usage: celeryconfig_json.py FILE
"""
import __future__
import datetime
import enum
import importlib.util
import inspect
import json
import sys
import types


def _kombu_stand_ins():
    import kombu  # the real one: its signatures are what the stand-ins copy

    def make(kind, real):
        signature = inspect.signature(real.__init__)
        params = [p for p in signature.parameters.values() if p.name != "self"]

        class StandIn:
            def __init__(self, *args, **kwargs):
                bound = inspect.Signature(params).bind(*args, **kwargs)
                self.args = {"__kombu__": kind}
                for name, value in bound.arguments.items():
                    if name == "kwargs":
                        self.args.update(value)
                    else:
                        self.args[name] = value

        StandIn.__name__ = kind
        return StandIn

    module = types.ModuleType("kombu")
    module.Queue = make("Queue", kombu.Queue)
    module.Exchange = make("Exchange", kombu.Exchange)
    entity = types.ModuleType("kombu.entity")
    entity.Queue, entity.Exchange = module.Queue, module.Exchange
    module.entity = entity
    return module, entity


def _key(k):
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, float):
        return float.__repr__(k)
    return str(k)


def _dump(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def convert(v):
    if isinstance(v, enum.Enum):
        return convert(v.value)
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, datetime.timedelta):
        return v.total_seconds()
    if isinstance(v, (list, tuple)):
        return [convert(x) for x in v]
    if isinstance(v, (set, frozenset)):
        items = {_dump(convert(x)): convert(x) for x in v}
        return [items[k] for k in sorted(items)]
    if isinstance(v, dict):
        return {_key(k): convert(x) for k, x in v.items()}
    if hasattr(v, "args") and isinstance(v.args, dict) and "__kombu__" in v.args:
        return convert(v.args)
    raise TypeError(f"no JSON form for {type(v).__name__}")


def main():
    path = sys.argv[1]
    kombu, entity = _kombu_stand_ins()
    sys.modules["kombu"], sys.modules["kombu.entity"] = kombu, entity
    spec = importlib.util.spec_from_file_location("celeryconfig", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    settings = {}
    for name, value in vars(module).items():
        if name.startswith("__") and name.endswith("__"):
            continue
        if isinstance(value, (types.ModuleType, __future__._Feature)) or callable(value):
            continue
        settings[name] = convert(value)
    print(_dump(settings))


if __name__ == "__main__":
    main()
