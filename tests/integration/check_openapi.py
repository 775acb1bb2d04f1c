#!/usr/bin/python3
"""check_openapi.py: docs/api.yaml against the OpenAPI 3.0 JSON schema.

Usage: check_openapi.py API_YAML [OAS_SCHEMA_JSON]

Checks, printing every problem found (exit 1 if any):
- the YAML parses, with no duplicate key in any mapping;
- the document validates against the OpenAPI 3.0 JSON schema that
  Debian's openapi-specification package ships (jsonschema, Draft 4);
- every "$ref" resolves inside the document;
- every schema's "required" names properties the schema declares (when it
  declares them), and no schema mixes allOf parts whose same-named
  properties have different types (a value could never conform);
- every path parameter ({id}) is declared, every operation has a unique
  operationId, answers JSON (or text/plain for /metrics) and documents
  its 401.

Debian packages: python3-yaml, python3-jsonschema, openapi-specification.
"""
import json
import sys

import jsonschema
import yaml

OAS_SCHEMA = "/usr/share/openapi-specification/schemas/v3.0/schema.json"
METHODS = ("get", "put", "post", "delete", "patch", "options", "head",
           "trace")


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys."""


def _mapping(loader, node, deep=False):
    seen = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "duplicate key %r" % (key,), k.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=StrictLoader)


def pointer(doc, ref):
    """The object a local "$ref" names, or raises KeyError."""
    if not ref.startswith("#/"):
        raise KeyError("not a local reference: " + ref)
    o = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(o, list):
            o = o[int(part)]
        else:
            o = o[part]
    return o


def walk(o, path=""):
    """Yields (path, dict) for every mapping in 'o'."""
    if isinstance(o, dict):
        yield path, o
        for k, v in o.items():
            yield from walk(v, path + "/" + str(k))
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from walk(v, path + "/" + str(i))


def deref(doc, s):
    """What 's' names; {} for a reference that resolves to nothing (it is
    reported on its own)."""
    while isinstance(s, dict) and "$ref" in s:
        try:
            s = pointer(doc, s["$ref"])
        except (KeyError, IndexError, ValueError, TypeError):
            return {}
    return s if isinstance(s, dict) else {}


def check_schemas(doc, problems):
    for path, o in walk(doc):
        if not path.split("/")[-1] in ("schema",) and \
                "/schemas/" not in path and "/properties/" not in path:
            continue
        if not isinstance(o, dict):
            continue
        props = o.get("properties")
        req = o.get("required")
        in_all_of = "/allOf/" in path  # checked with its siblings below
        if isinstance(props, dict) and isinstance(req, list) \
                and not in_all_of:
            for r in req:
                if r not in props:
                    problems.append("%s: required %r is not a property"
                                    % (path, r))
        parts = o.get("allOf")
        if isinstance(parts, list):
            types = {}
            union = set()
            for p in parts:
                union |= set((deref(doc, p).get("properties") or {}))
            for p in parts:
                for r in deref(doc, p).get("required") or []:
                    if r not in union:
                        problems.append("%s: required %r is not a property"
                                        % (path, r))
            for p in parts:
                p = deref(doc, p)
                for name, ps in (p.get("properties") or {}).items():
                    ps = deref(doc, ps)
                    t = ps.get("type")
                    if t is None and "allOf" in ps:
                        t = deref(doc, ps["allOf"][0]).get("type")
                    if t is None:
                        continue
                    if name in types and types[name] != t:
                        problems.append(
                            "%s: allOf parts give %r the types %s and %s"
                            % (path, name, types[name], t))
                    types.setdefault(name, t)


def check_paths(doc, problems):
    op_ids = set()
    for route, item in doc.get("paths", {}).items():
        declared = {p["name"] for p in item.get("parameters", [])
                    if deref(doc, p).get("in") == "path"}
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            oid = op.get("operationId")
            if not oid or oid in op_ids:
                problems.append("%s %s: operationId %s" % (
                    method, route, "missing" if not oid else
                    "%r used twice" % oid))
            op_ids.add(oid)
            names = set(declared)
            for p in op.get("parameters", []):
                p = deref(doc, p)
                if p.get("in") == "path":
                    names.add(p["name"])
            for seg in route.split("/"):
                if seg.startswith("{") and seg[1:-1] not in names:
                    problems.append("%s %s: path parameter %s not declared"
                                    % (method, route, seg))
            sec = op.get("security", doc.get("security"))
            if sec and "401" not in op.get("responses", {}):
                problems.append("%s %s: no 401 answer documented"
                                % (method, route))
            for status, r in op.get("responses", {}).items():
                r = deref(doc, r)
                for ct in (r.get("content") or {}):
                    if ct not in ("application/json", "text/plain"):
                        problems.append("%s %s %s: content type %s"
                                        % (method, route, status, ct))


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    api = argv[1]
    oas = argv[2] if len(argv) > 2 else OAS_SCHEMA
    problems = []
    try:
        doc = load(api)
    except yaml.YAMLError as e:
        print("%s: YAML: %s" % (api, e))
        return 1
    with open(oas, encoding="utf-8") as f:
        schema = json.load(f)
    v = jsonschema.Draft4Validator(schema)
    for e in sorted(v.iter_errors(doc), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in e.path)
        problems.append("OpenAPI 3.0 schema: /%s: %s"
                        % (where, e.message[:300]))
    n_refs = 0
    for path, o in walk(doc):
        ref = o.get("$ref")
        if isinstance(ref, str):
            n_refs += 1
            try:
                pointer(doc, ref)
            except (KeyError, IndexError, ValueError, TypeError):
                problems.append("%s: $ref %s does not resolve" % (path, ref))
    check_schemas(doc, problems)
    check_paths(doc, problems)
    for p in problems:
        print("%s: %s" % (api, p))
    if problems:
        print("%s: %d problem(s)" % (api, len(problems)))
        return 1
    n_ops = sum(1 for item in doc["paths"].values()
                for m in METHODS if m in item)
    print("%s: valid OpenAPI %s: %d paths, %d operations, %d $refs resolved"
          % (api, doc["openapi"], len(doc["paths"]), n_ops, n_refs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
