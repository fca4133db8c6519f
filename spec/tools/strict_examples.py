#!/usr/bin/env python3
"""Validates every example of an OpenAPI 3.0 spec with `openapi-schema-validator` (PyPI), a strict
reader this project did not write: request-direction examples (parameters, request bodies,
callback requests) with OAS30WriteValidator, response-direction ones (responses, headers) with
OAS30ReadValidator, schema `example`s with OAS30Validator. Prints one line per failure and a
summary; exits 1 on any failure.

    pip install openapi-schema-validator pyyaml
    python3 spec/tools/strict_examples.py spec/chargily-pay-v2.yaml spec/recharge-2021-01.yaml
"""
import sys

import yaml
from openapi_schema_validator import OAS30ReadValidator, OAS30Validator, OAS30WriteValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


class Checker:
    def __init__(self, path):
        self.path = path
        # JSON-compatible YAML: keep keys as written (status codes stay strings below).
        self.doc = yaml.safe_load(open(path, encoding="utf-8"))
        uri = "urn:spec"
        self.registry = Registry().with_resource(uri, Resource.from_contents(self.doc, default_specification=DRAFT4))
        self.uri = uri
        self.checked = 0
        self.failures = []

    def resolve(self, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 64:
            target = node["$ref"].lstrip("#")
            node = self.doc
            for token in [t for t in target.split("/") if t]:
                token = token.replace("~1", "/").replace("~0", "~")
                node = node[token] if not isinstance(node, list) else node[int(token)]
            seen += 1
        return node

    def validate(self, cls, schema_pointer, instance, at):
        self.checked += 1
        schema = {"$ref": f"{self.uri}#{schema_pointer}"}
        validator = cls(schema, registry=self.registry)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        for e in errors[:3]:
            where = "/" + "/".join(escape(p) for p in e.path)
            self.failures.append(f"{self.path}: {at} ({cls.__name__}) at {where}: {e.message[:200]}")

    def holder(self, at, holder, cls):
        """A parameter, header or media type: `schema` with `example`/`examples`, or `content`."""
        holder = self.resolve(holder)
        if "schema" in holder:
            schema_at = at + "/schema"
            if "example" in holder:
                self.validate(cls, schema_at, holder["example"], at + "/example")
            for name, ex in (holder.get("examples") or {}).items():
                ex = self.resolve(ex)
                if isinstance(ex, dict) and "value" in ex:
                    self.validate(cls, schema_at, ex["value"], f"{at}/examples/{escape(name)}")
        for media, obj in (holder.get("content") or {}).items():
            self.holder(f"{at}/content/{escape(media)}", obj, cls)

    def operation(self, at, op, path_params):
        for i, p in enumerate(path_params):
            self.holder_ref(p, f"{at}/../parameters/{i}", OAS30WriteValidator)
        for i, p in enumerate(op.get("parameters") or []):
            self.holder_ref(p, f"{at}/parameters/{i}", OAS30WriteValidator)
        if "requestBody" in op:
            self.holder_ref(op["requestBody"], f"{at}/requestBody", OAS30WriteValidator)
        for code, resp in (op.get("responses") or {}).items():
            r_at = f"{at}/responses/{escape(code)}"
            real_at, resp = self.pointer_of(resp, r_at)
            self.holder(real_at, resp, OAS30ReadValidator)
            for name, header in (resp.get("headers") or {}).items():
                self.holder_ref(header, f"{real_at}/headers/{escape(name)}", OAS30ReadValidator)
        for cb_name, cb in (op.get("callbacks") or {}).items():
            for expr, item in self.resolve(cb).items():
                self.path_item(f"{at}/callbacks/{escape(cb_name)}/{escape(expr)}", item)

    def pointer_of(self, node, at):
        """Where a (possibly referenced) object really is, so schema pointers resolve."""
        while isinstance(node, dict) and "$ref" in node:
            at = node["$ref"].lstrip("#")
            node = self.resolve({"$ref": node["$ref"]})
        return at, node

    def holder_ref(self, node, at, cls):
        real_at, node = self.pointer_of(node, at)
        self.holder(real_at, node, cls)

    def path_item(self, at, item):
        item = self.resolve(item)
        params = item.get("parameters") or []
        for method in METHODS:
            if method in item:
                op_at = f"{at}/{method}"
                for i, p in enumerate(params):
                    self.holder_ref(p, f"{at}/parameters/{i}", OAS30WriteValidator)
                self.operation(op_at, item[method], [])

    def schema_examples(self, at, node):
        if isinstance(node, dict):
            if "$ref" in node:
                return
            if "example" in node and isinstance(node.get("type"), str) or ("example" in node and any(k in node for k in ("properties", "allOf", "anyOf", "oneOf", "items", "enum"))):
                self.validate(OAS30Validator, at, node["example"], at + "/example")
            for key in ("items", "not", "additionalProperties"):
                if isinstance(node.get(key), dict):
                    self.schema_examples(f"{at}/{key}", node[key])
            for key in ("allOf", "oneOf", "anyOf"):
                for i, sub in enumerate(node.get(key) or []):
                    self.schema_examples(f"{at}/{key}/{i}", sub)
            for name, sub in (node.get("properties") or {}).items():
                self.schema_examples(f"{at}/properties/{escape(name)}", sub)

    def run(self):
        for path, item in (self.doc.get("paths") or {}).items():
            self.path_item(f"/paths/{escape(path)}", item)
        for name, schema in ((self.doc.get("components") or {}).get("schemas") or {}).items():
            self.schema_examples(f"/components/schemas/{escape(name)}", schema)
        return self


def main(paths):
    failed = False
    for path in paths:
        c = Checker(path).run()
        for f in c.failures:
            print(f)
        print(f"{path}: {c.checked} examples checked, {len(c.failures)} failures")
        failed |= bool(c.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
