#!/usr/bin/python3
"""api_validate.py: real REST answers checked against docs/api.yaml.

Usage:
  api_validate.py API_YAML --log FILE
      every answer recorded in FILE (tests/integration/lib.sh's api()
      writes it): records "@@ METHOD PATH STATUS LENGTH HEADERS CTYPE"
      (HEADERS: the answer's header names, lower case, comma-separated)
      then LENGTH bytes of body and a newline.
  api_validate.py API_YAML METHOD PATH STATUS BODY_FILE [CTYPE [HEADERS]]
      one answer.

For each answer: the operation is found by path template and method; the
status must be one the operation documents, the headers the response
documents (Location, ETag, WWW-Authenticate; Allow on every 405) must be
there when the answer's header names are known, and the body must validate
(jsonschema, Draft 4) against the response's schema, translated from
OpenAPI 3.0 (nullable, readOnly...) to JSON Schema.  Answers the HTTP
layer gives on any path (the "Conventions" of api.yaml: 401 before
routing, 404 for a path that no route has, 405 for a method the path does
not have, 400, 408, 413, 431, 501 and 503 from the HTTP layer) must be
JSON errors (the Error schema).  Prints each mismatch; exit 1 if any.
"""
import json
import re
import sys

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "patch")
# Statuses any request may get from the HTTP layer or the router itself.
ANY_PATH_ERRORS = {"400", "401", "404", "405", "408", "413", "431", "501",
                   "503"}
DROP = {"nullable", "readOnly", "writeOnly", "example", "deprecated",
        "discriminator", "xml", "externalDocs"}


def to_jsonschema(s):
    """An OpenAPI 3.0 schema object as a Draft 4 JSON Schema."""
    if isinstance(s, list):
        return [to_jsonschema(x) for x in s]
    if not isinstance(s, dict):
        return s
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[-1]
        return {"$ref": "#/definitions/" + name}
    out = {}
    for k, v in s.items():
        if k in DROP or k.startswith("x-"):
            continue
        if k == "properties":
            out[k] = {n: to_jsonschema(p) for n, p in v.items()}
        elif k in ("items", "not", "additionalProperties", "allOf", "oneOf",
                   "anyOf"):
            out[k] = to_jsonschema(v)
        else:
            out[k] = v
    if s.get("nullable"):
        if "type" in out and not any(k in out for k in ("allOf", "oneOf",
                                                         "anyOf")):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = list(out["enum"]) + [None]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


class Contract:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader",
                                                   yaml.SafeLoader))
        self.defs = {n: to_jsonschema(s) for n, s in
                     self.doc["components"]["schemas"].items()}
        self.routes = []
        for tmpl, item in self.doc["paths"].items():
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+",
                              re.escape(tmpl)) + "$"
            self.routes.append((re.compile(rx), tmpl, item))
        self.error = self.schema({"$ref": "#/components/schemas/Error"})
        self.cache = {}  # (template, method, status) -> validator

    def resolve(self, o):
        while isinstance(o, dict) and "$ref" in o:
            target = self.doc
            for part in o["$ref"][2:].split("/"):
                target = target[part]
            o = target
        return o

    def schema(self, s):
        js = to_jsonschema(s)
        js = dict(js)
        js["definitions"] = self.defs
        return jsonschema.Draft4Validator(js)

    def find(self, path):
        path = path.split("?", 1)[0]
        for rx, tmpl, item in self.routes:
            if rx.match(path):
                return tmpl, item
        return None, None

    def check(self, method, path, status, body, ctype, headers=None):
        """A list of problems with one answer (empty: it conforms);
        'headers': the set of its header names in lower case, or None
        when unknown (then headers are not checked)."""
        where = "%s %s -> %s" % (method, path, status)
        status = str(status)
        out = []
        if headers is not None and status == "405" and "allow" not in headers:
            out.append("%s: a 405 without Allow" % where)
        return out + self.check_answer(where, method, path, status, body,
                                       ctype, headers)

    def check_answer(self, where, method, path, status, body, ctype,
                     headers):
        tmpl, item = self.find(path)
        op = item.get(method.lower()) if item else None
        if op is None:
            if status not in ANY_PATH_ERRORS:
                return ["%s: no operation %s %s in the contract"
                        % (where, method, path)]
            return self.check_json(where, self.error, body, ctype)
        resp = op["responses"].get(status)
        if resp is None:
            if status in ANY_PATH_ERRORS - {"404", "405"}:
                return self.check_json(where, self.error, body, ctype)
            return ["%s: status %s not documented for %s %s"
                    % (where, status, method.upper(), tmpl)]
        resp = self.resolve(resp)
        missing = [h for h in (resp.get("headers") or {})
                   if headers is not None and h.lower() not in headers]
        if missing:
            return ["%s: documented header(s) %s missing"
                    % (where, ", ".join(missing))]
        content = resp.get("content")
        if not content:
            if body.strip():
                return ["%s: documented without a body, got %r"
                        % (where, body[:80])]
            return []
        if "application/json" in content:
            key = (tmpl, method.lower(), status)
            if key not in self.cache:
                sch = content["application/json"].get("schema")
                self.cache[key] = self.schema(sch or {})
            return self.check_json(where, self.cache[key], body, ctype)
        if "text/plain" in content:
            if not ctype.startswith("text/plain"):
                return ["%s: content type %r, want text/plain"
                        % (where, ctype)]
            return []
        return ["%s: no content type of the contract to check" % where]

    @staticmethod
    def check_json(where, validator, body, ctype):
        if not ctype.startswith("application/json"):
            return ["%s: content type %r, want application/json: %r"
                    % (where, ctype, body[:120])]
        try:
            v = json.loads(body)
        except ValueError as e:
            return ["%s: not JSON (%s): %r" % (where, e, body[:120])]
        out = []
        for e in sorted(validator.iter_errors(v), key=lambda e: list(e.path)):
            at = "/".join(str(p) for p in e.absolute_path)
            out.append("%s: /%s: %s" % (where, at, e.message[:300]))
        return out


def read_log(path):
    """Yields (method, path, status, ctype, body, header names) of a
    recorded log."""
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        head = data[i:nl].decode("utf-8", "replace").split(" ", 6)
        if head[0] != "@@" or len(head) < 7:
            raise ValueError("%s: bad record at byte %d" % (path, i))
        n = int(head[4])
        body = data[nl + 1:nl + 1 + n].decode("utf-8", "replace")
        i = nl + 1 + n + 1
        names = {h for h in head[5].split(",") if h}
        yield head[1], head[2], head[3], head[6], body, names


def main(argv):
    if len(argv) < 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    c = Contract(argv[1])
    problems = []
    n = 0
    if argv[2] == "--log":
        for method, path, status, ctype, body, names in read_log(argv[3]):
            n += 1
            problems += c.check(method, path, status, body, ctype, names)
    else:
        with open(argv[5], encoding="utf-8", errors="replace") as f:
            body = f.read()
        n = 1
        names = None
        if len(argv) > 7:
            names = {h for h in argv[7].lower().split(",") if h}
        problems += c.check(argv[2], argv[3], argv[4], body,
                            argv[6] if len(argv) > 6 else "application/json",
                            names)
    for p in problems:
        print("api contract: " + p)
    if problems:
        print("api contract: %d of %d answers do not conform to %s"
              % (len(problems), n, argv[1]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
